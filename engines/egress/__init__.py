"""The egress policy: where the service may connect, and where a credential may go."""
