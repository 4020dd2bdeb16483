"""Drivers of the admission family: storage and clients behind its engines' ports."""
