"""Drivers of the credentials family: storage and clients behind its engines' ports."""
