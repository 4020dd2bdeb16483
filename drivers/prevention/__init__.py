"""Drivers of the prevention family: storage and clients behind its engines' ports."""
