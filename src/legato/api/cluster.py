"""``/v1/queues`` and ``/v1/cluster``: where the work waits and who is there to do it, as the
store records it (``ports.inspection``): the outstanding tasks per queue, the replicas'
heartbeats and partition leases, and the workers' heartbeats. Nothing is kept in memory for
these: any server of the database answers the same.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from legato.api.deps import LegatoApp
from legato.api.problems import problem_responses
from legato.core.durations import instant, to_ms
from legato.core.owners import REMOTE_ROLE, host_of, pid_of, role_of
from legato.core.partitions import PARTITIONS

router = APIRouter(prefix="/v1", tags=["operations"])


class Queue(BaseModel):
    name: str
    depth: int = Field(description="tasks that may start now and that no worker holds")
    oldest_ready_age_seconds: float = Field(
        description="how long the oldest of those has waited since it could start; 0: none"
    )
    running: int = Field(description="tasks held by a worker under a live lease")
    scheduled: int = Field(description="tasks due later: a retry's backoff, a delayed start")
    workers: int = Field(description="live workers that serve this queue")


class Queues(BaseModel):
    queues: list[Queue]
    at: datetime = Field(description="the time the figures are for")


class Replica(BaseModel):
    id: str = Field(description="owner id: role:host:pid:nonce")
    host: str | None
    pid: int | None
    partitions: int = Field(description="partitions it leases now")
    last_seen: datetime | None = Field(description="its last heartbeat; null: none recorded")


class WorkerInfo(BaseModel):
    id: str
    kind: str = Field(description="local: in an engine process; remote: over the HTTP API")
    host: str | None
    pid: int | None
    queues: list[str]
    steps: list[str]
    last_seen: datetime
    live_until: datetime = Field(description="gone after this without another heartbeat")


class Cluster(BaseModel):
    replicas: list[Replica]
    workers: list[WorkerInfo]
    partitions: int = Field(description="partitions in all")
    partitions_held: int = Field(description="partitions some replica leases now")
    at: datetime


@router.get("/queues", response_model=Queues, responses=problem_responses())
async def list_queues(app: LegatoApp) -> Queues:
    """Every queue with outstanding tasks or a live worker, by name."""
    store = await app.store_ready()
    now = app.clock.now_ms()
    stats = {q.queue: q for q in await store.queue_stats(now)}
    served: dict[str, int] = {}
    for w in await store.live_workers(now):
        for name in w.queues:
            served[name] = served.get(name, 0) + 1
    queues = []
    for name in sorted(stats.keys() | served.keys()):
        q = stats.get(name)
        oldest = None if q is None else q.oldest_ready_at
        queues.append(
            Queue(
                name=name,
                depth=q.ready if q else 0,
                oldest_ready_age_seconds=0.0 if oldest is None else max(now - oldest, 0) / 1000,
                running=q.running if q else 0,
                scheduled=q.scheduled if q else 0,
                workers=served.get(name, 0),
            )
        )
    return Queues(queues=queues, at=instant(now))


@router.get("/cluster", response_model=Cluster, responses=problem_responses())
async def cluster(app: LegatoApp) -> Cluster:
    """The orchestrator replicas alive (a heartbeat within a lease, or a partition leased)
    and the workers alive (local ones in engine processes, remote ones over this API)."""
    store = await app.store_ready()
    now = app.clock.now_ms()
    replicas = await store.live_replicas(now, to_ms(app.lease_seconds))
    workers = await store.live_workers(now)
    return Cluster(
        replicas=[
            Replica(
                id=r.owner,
                host=host_of(r.owner),
                pid=pid_of(r.owner),
                partitions=r.partitions,
                last_seen=instant(r.heartbeat_at) if r.heartbeat_at else None,
            )
            for r in replicas
        ],
        workers=[
            WorkerInfo(
                id=w.owner,
                kind="remote" if role_of(w.owner) == REMOTE_ROLE else "local",
                host=host_of(w.owner),
                pid=pid_of(w.owner),
                queues=w.queues,
                steps=w.steps,
                last_seen=instant(w.heartbeat_at),
                live_until=instant(w.expires_at),
            )
            for w in workers
        ],
        partitions=PARTITIONS,
        partitions_held=sum(r.partitions for r in replicas),
        at=instant(now),
    )
