"""The servicer of the integrations family."""
