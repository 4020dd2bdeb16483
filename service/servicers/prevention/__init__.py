"""The servicer of the prevention family."""
