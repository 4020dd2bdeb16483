"""Drivers of the connectors family: storage and clients behind its engines' ports."""
