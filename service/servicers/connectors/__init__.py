"""The servicer of the connectors family."""
