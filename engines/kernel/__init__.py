"""The shared kernel: what every family uses (errors, clock, paging, idempotency, concurrency,
validation).
"""
