"""Append-only prevention records under the frozen validation contract."""
