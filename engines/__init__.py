"""Business logic of the integrations service: domain dataclasses, rules and the ports drivers implement.

Nothing here imports protobuf, grpc or SQLAlchemy.
"""
