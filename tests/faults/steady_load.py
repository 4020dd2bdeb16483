"""An open-loop load generator for fault tests: creates (each with its own request_id) and reads of
integrations at a steady rate, recording every call's outcome, so a test can tell what callers
saw during an outage and which creates were acknowledged.

Open loop on purpose: a hung call does not slow the generator down, so an outage shows up as
failures and latencies, not as a quiet pause."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import grpc

from integrations.v1 import integrations_pb2, integrations_pb2_grpc

__all__ = ["CallOutcome", "SteadyLoad", "percentile"]

OK = "OK"


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` percentile of `values` (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """One call: what it was, when it started and ended (monotonic seconds), its status code."""

    kind: str  # "create" or "read"
    started: float
    ended: float
    code: str  # grpc.StatusCode name, "OK" on success
    request_id: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class SteadyLoad:
    """Every 1/rate seconds starts one call: a create with a fresh request_id, or (every other
    call) a read of an integration created earlier. `deadline` bounds each call client-side, so
    a hanging server shows up as DEADLINE_EXCEEDED."""

    channel: grpc.aio.Channel
    tenant_id: str
    rate_per_second: float = 50.0
    deadline: float = 10.0
    credential_ref: str = "env://DEV_FAULT_TEST_PROVIDER_KEY"
    outcomes: list[CallOutcome] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # request_id -> integration id
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _sequence: int = 0

    @property
    def stub(self) -> integrations_pb2_grpc.IntegrationsServiceStub:
        return integrations_pb2_grpc.IntegrationsServiceStub(self.channel)

    def create_request(self, request_id: str) -> integrations_pb2.CreateIntegrationRequest:
        return integrations_pb2.CreateIntegrationRequest(
            tenant_id=self.tenant_id,
            request_id=request_id,
            integration=integrations_pb2.Integration(
                name=f"fault-{request_id}",
                provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
                credential_ref=self.credential_ref,
            ),
        )

    async def create(self, request_id: str) -> str:
        """One create; records it as acknowledged when the server answered OK."""
        started = time.monotonic()
        try:
            reply = await self.stub.CreateIntegration(
                self.create_request(request_id), timeout=self.deadline
            )
        except grpc.aio.AioRpcError as exc:
            self._record("create", started, exc.code().name, request_id)
            return exc.code().name
        self.acknowledged[request_id] = reply.id
        self._record("create", started, OK, request_id)
        return OK

    async def read(self) -> None:
        started = time.monotonic()
        ids = list(self.acknowledged.values())
        try:
            if ids:
                await self.stub.GetIntegration(
                    integrations_pb2.GetIntegrationRequest(
                        tenant_id=self.tenant_id, integration_id=ids[self._sequence % len(ids)]
                    ),
                    timeout=self.deadline,
                )
            else:
                await self.stub.ListIntegrations(
                    integrations_pb2.ListIntegrationsRequest(tenant_id=self.tenant_id),
                    timeout=self.deadline,
                )
        except grpc.aio.AioRpcError as exc:
            self._record("read", started, exc.code().name)
            return
        self._record("read", started, OK)

    def _record(self, kind: str, started: float, code: str, request_id: str = "") -> None:
        self.outcomes.append(CallOutcome(kind, started, time.monotonic(), code, request_id))

    async def run(self, stop: asyncio.Event) -> None:
        """Starts calls at the steady rate until `stop` is set, then waits for those in flight."""
        interval = 1.0 / self.rate_per_second
        next_at = time.monotonic()
        while not stop.is_set():
            self._sequence += 1
            call = (
                self.create(str(uuid.uuid4())) if self._sequence % 2 else self.read()
            )
            task = asyncio.create_task(call)  # type: ignore[arg-type]
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if self._tasks:
            await asyncio.gather(*self._tasks)

    def unacknowledged(self) -> list[str]:
        """Request ids of creates that failed: a caller would retry them."""
        return [
            o.request_id for o in self.outcomes
            if o.kind == "create" and o.code != OK and o.request_id not in self.acknowledged
        ]

    def codes_between(self, start: float, end: float) -> Counter[str]:
        """How many calls that started in [start, end) ended with each code."""
        return Counter(o.code for o in self.outcomes if start <= o.started < end)

    def first_steady_success(self, after: float) -> float | None:
        """When calls started succeeding for good after `after`: the start time of the first
        call after which every later-started call succeeded."""
        later = sorted((o for o in self.outcomes if o.started >= after), key=lambda o: o.started)
        first: float | None = None
        for outcome in later:
            if outcome.code != OK:
                first = None
            elif first is None:
                first = outcome.started
        return first
