"""Group execution for hot database paths: calls that arrive while one batch is running are
served together by the next batch, so N concurrent calls cost one transaction instead of N.

Each batch starts only after every call in it has arrived, so a call still sees everything
committed before it began (unlike joining a query that is already running).

A caller that is cancelled while it waits: by default its batch runs on regardless (the caller
is shielded) and its result is dropped. With `abandoned`, the caller is not shielded instead: a
caller cancelled before its batch starts is left out of it, and the results of callers gone
while their batch ran are handed to `abandoned` (to give back what the batch took for them)."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["Batcher"]

K = TypeVar("K")
R = TypeVar("R")

_log = logging.getLogger(__name__)


class Batcher(Generic[K, R]):
    """Runs `run_batch(items) -> results` (one result per item, in order) for queued items."""

    def __init__(
        self,
        run_batch: Callable[[list[K]], Awaitable[Sequence[R]]],
        *,
        max_batch: int = 256,
        abandoned: Callable[[list[tuple[K, R]]], Awaitable[None]] | None = None,
    ) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._abandoned = abandoned
        self._pending: collections.deque[tuple[K, asyncio.Future[R]]] = collections.deque()
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: K) -> R:
        """Queues `item` and returns its result once its batch has run (or raises its error)."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="batcher")
        if self._abandoned is not None:
            return await done  # cancelling the caller cancels `done`: the runner sees it gone
        # Shielded: a cancelled caller must not cancel the batch the others wait for.
        return await asyncio.shield(done)

    def _next_batch(self) -> list[tuple[K, asyncio.Future[R]]]:
        batch: list[tuple[K, asyncio.Future[R]]] = []
        while self._pending and len(batch) < self._max_batch:
            item, done = self._pending.popleft()
            if not done.cancelled():  # gone before its batch started: left out
                batch.append((item, done))
        return batch

    async def _run(self) -> None:
        while self._pending:
            batch = self._next_batch()
            if not batch:
                continue
            try:
                results = await self._run_batch([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiting caller gets the error
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                        done.exception()  # retrieved here: a gone caller must not warn
                continue
            except BaseException:  # the runner itself was cancelled (shutdown): so are they
                for _, done in (*batch, *self._pending):
                    done.cancel()
                self._pending.clear()
                raise
            gone: list[tuple[K, R]] = []
            for (item, done), result in zip(batch, results, strict=True):
                if done.cancelled():
                    gone.append((item, result))
                elif not done.done():
                    done.set_result(result)
            if gone and self._abandoned is not None:
                try:
                    await self._abandoned(gone)
                except Exception:  # noqa: BLE001 - best effort; logged
                    _log.warning("giving back what %d abandoned calls took failed", len(gone),
                                 exc_info=True)
