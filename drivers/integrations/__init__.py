"""Drivers of the integrations family: storage and clients behind its engines' ports."""
