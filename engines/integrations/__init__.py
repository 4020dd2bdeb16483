"""LLM provider integrations (bring your own key)."""
