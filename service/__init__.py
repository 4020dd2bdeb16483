"""The gRPC edge of the integrations service: server, servicers, interceptors, composition root."""
