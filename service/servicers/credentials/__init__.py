"""The servicer of the credentials family."""
