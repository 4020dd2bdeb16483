"""Drivers of the sql gateway family: storage and clients behind its engines' ports."""
