"""Shutting down grpc.aio servers, including one that was built but never started."""

from __future__ import annotations

import grpc

__all__ = ["stop_unstarted"]


async def stop_unstarted(server: grpc.aio.Server) -> None:
    """Stops a server that was built (and may hold a bound port) but never started. grpc core
    cannot destroy such a server cleanly (grpc/grpc#10084; here it corrupted the heap and a
    later garbage collection crashed the process), so it is started and at once stopped."""
    await server.start()
    await server.stop(None)
