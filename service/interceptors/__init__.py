"""Server interceptors: error mapping, per-RPC logging (and, later, authentication and metrics)."""
