"""The connector registry, and the real connection tests connectors and data sources share."""
