"""The servicer of the admission family."""
