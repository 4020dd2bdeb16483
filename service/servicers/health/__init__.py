"""The servicer of the health family."""
