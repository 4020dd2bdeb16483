"""Drivers of the health family: storage and clients behind its engines' ports."""
