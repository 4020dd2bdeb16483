"""Customer data sources: settings, lifecycle, discovery."""
