"""Group execution for hot database paths: calls that arrive while one batch is running are
served together by the next batch, so N concurrent calls cost one transaction instead of N.

Each batch starts only after every call in it has arrived, so a call still sees everything
committed before it began (unlike joining a query that is already running)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["Batcher"]

K = TypeVar("K")
R = TypeVar("R")


class Batcher(Generic[K, R]):
    """Runs `run_batch(items) -> results` (one result per item, in order) for queued items."""

    def __init__(
        self, run_batch: Callable[[list[K]], Awaitable[Sequence[R]]], *, max_batch: int = 256
    ) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._pending: list[tuple[K, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: K) -> R:
        """Queues `item` and returns its result once its batch has run (or raises its error)."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="batcher")
        # Shielded: a cancelled caller must not cancel the batch the others wait for.
        return await asyncio.shield(done)

    async def _run(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                results = await self._run_batch([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiting caller gets the error
                for _, done in batch:
                    if not done.cancelled():
                        done.set_exception(exc)
                        done.exception()  # retrieved here: a gone caller must not warn
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.cancelled():
                    done.set_result(result)
