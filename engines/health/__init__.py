"""Health checks of provider integrations: probes, history, circuit breaking."""
