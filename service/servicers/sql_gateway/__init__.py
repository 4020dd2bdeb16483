"""The servicer of the sql gateway family."""
