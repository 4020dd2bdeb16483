"""The servicer of the data sources family."""
