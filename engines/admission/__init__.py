"""Admission control on the per-call path: admit, reserve, settle."""
