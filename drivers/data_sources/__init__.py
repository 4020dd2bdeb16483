"""Drivers of the data sources family: storage and clients behind its engines' ports."""
