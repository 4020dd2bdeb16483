"""Implementations of the engines' ports: storage, HTTP probes, external connections, clients."""
