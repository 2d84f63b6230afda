"""Prometheus metrics of the engine (``GET /metrics``), in prometheus-client's process-wide
registry: one set per process, however many engines it runs (tests run several: read deltas).

Two kinds, by what they cost:

* **Counted where it happens** (counters and histograms): executions started and closed,
  step attempts' duration and schedule-to-start, retries, timer lag, dead letters, commits.
  Each is a few dictionary lookups and a locked add, at most twice per step attempt; the
  labelled children are kept in plain dicts so the hot path skips ``labels()``' argument
  checks. Labels are names an application declares (workflow, version, step, status, queue,
  an event source), never an execution id, so their number is bounded by the code deployed.
* **Read when scraped** (gauges): queue depth, the oldest ready task's age, running tasks,
  partitions held per replica. They are what the store says at scrape time
  (``ports.inspection``), so nothing on the hot path keeps them up, and every process that
  serves ``/metrics`` answers the same for the whole cluster.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from legato.core.events import Status, StepRetryScheduled
from legato.core.transition import Transition
from legato.ports.inspection import QueueStats, ReplicaSeen

#: seconds: a step from a millisecond to an hour
STEP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                30.0, 60.0, 300.0, 900.0, 3600.0)  # fmt: skip
#: seconds a step or timer waited past its time: mostly zero locally, up to minutes backlogged
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
               10.0, 30.0, 60.0, 300.0)  # fmt: skip
#: jobs per commit: the group commit's batches are powers of two up to the writers' 2,000
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

EXECUTIONS_STARTED = Counter(
    "legato_executions_started",
    "Executions whose first decision this process committed",
    ["workflow", "version"],
)
EXECUTIONS_CLOSED = Counter(
    "legato_executions_closed",
    "Executions this process closed, by final status",
    ["workflow", "version", "status"],
)
STEP_DURATION = Histogram(
    "legato_step_duration_seconds",
    "Step attempts run by this process's worker, from start to outcome",
    ["step", "outcome"],
    buckets=STEP_BUCKETS,
)
STEP_SCHEDULE_TO_START = Histogram(
    "legato_step_schedule_to_start_seconds",
    "From when a step attempt could start (its task's available time) to when it started",
    ["step"],
    buckets=LAG_BUCKETS,
)
STEP_RETRIES = Counter(
    "legato_step_retries",
    "Step attempts that failed and were scheduled again",
    ["workflow", "step"],
)
TIMER_LAG = Histogram(
    "legato_timer_lag_seconds",
    "How late durable timers fired, after their time",
    buckets=LAG_BUCKETS,
)
DEAD_LETTERS = Counter(
    "legato_dead_letters",
    "Events recorded as dead letters (not an event, or a subscription's filter or transform "
    "failed on it), by where they came from",
    ["via"],
)
COMMIT_BATCH = Histogram(
    "legato_commit_batch_size",
    "Writes (transitions and other operations) committed together in one transaction",
    buckets=BATCH_BUCKETS,
)
COMMIT_SECONDS = Histogram(
    "legato_commit_seconds",
    "One group commit, from its first statement to the end of its COMMIT",
    buckets=COMMIT_BUCKETS,
)
QUEUE_DEPTH = Gauge(
    "legato_queue_depth", "Tasks ready to start now that no worker holds", ["queue"]
)
QUEUE_OLDEST = Gauge(
    "legato_queue_oldest_ready_age_seconds",
    "How long the oldest ready task of the queue has been ready (0: none ready)",
    ["queue"],
)
QUEUE_RUNNING = Gauge(
    "legato_queue_running", "Tasks held by a worker under a live lease", ["queue"]
)
QUEUE_SCHEDULED = Gauge(
    "legato_queue_scheduled", "Tasks due later (a retry's backoff, a delayed start)", ["queue"]
)
PARTITIONS_HELD = Gauge(
    "legato_partitions_held", "Partitions an orchestrator replica leases", ["replica"]
)
STORE_UP = Gauge(
    "legato_store_up", "1 if the last scrape could read the queue and replica gauges, else 0"
)

_started: dict[tuple[str, str], Counter] = {}
_closed: dict[tuple[str, str, Status], Counter] = {}
_durations: dict[tuple[str, bool], Histogram] = {}
_to_start: dict[str, Histogram] = {}


def execution_started(workflow: str, version: str) -> None:
    child = _started.get((workflow, version))
    if child is None:
        child = _started[workflow, version] = EXECUTIONS_STARTED.labels(workflow, version)
    child.inc()


def execution_closed(workflow: str, version: str, status: Status) -> None:
    child = _closed.get((workflow, version, status))
    if child is None:
        child = EXECUTIONS_CLOSED.labels(workflow, version, status.value)
        _closed[workflow, version, status] = child
    child.inc()


def retries_in(workflow: str, tr: Transition) -> None:
    """The retries a committed transition scheduled (called only when it has some)."""
    for event in tr.events:
        if isinstance(event, StepRetryScheduled):
            STEP_RETRIES.labels(workflow, event.name).inc()


def step_attempt(step: str, ok: bool, seconds: float, waited_ms: int) -> None:
    """One attempt ran for ``seconds`` after waiting ``waited_ms`` past its available time."""
    child = _durations.get((step, ok))
    if child is None:
        child = STEP_DURATION.labels(step, "ok" if ok else "failed")
        _durations[step, ok] = child
    child.observe(seconds)
    start = _to_start.get(step)
    if start is None:
        start = _to_start[step] = STEP_SCHEDULE_TO_START.labels(step)
    start.observe(max(waited_ms, 0) / 1000)


def timer_fired(late_ms: int) -> None:
    TIMER_LAG.observe(max(late_ms, 0) / 1000)


def dead_letters(via: str, count: int) -> None:
    if count:
        DEAD_LETTERS.labels(via).inc(count)


def commit(jobs: int, seconds: float) -> None:
    """A store's writer committed ``jobs`` writes in ``seconds`` (``Lifecycle.observe_commits``)."""
    COMMIT_BATCH.observe(jobs)
    COMMIT_SECONDS.observe(seconds)


def scraped(now: int, queues: list[QueueStats], replicas: list[ReplicaSeen]) -> None:
    """Set the gauges read from the store for this scrape. Label sets of queues and replicas
    that are gone are dropped, so a replica that stopped does not linger at its last value."""
    for gauge in (QUEUE_DEPTH, QUEUE_OLDEST, QUEUE_RUNNING, QUEUE_SCHEDULED, PARTITIONS_HELD):
        gauge.clear()
    for q in queues:
        QUEUE_DEPTH.labels(q.queue).set(q.ready)
        age = 0 if q.oldest_ready_at is None else max(now - q.oldest_ready_at, 0)
        QUEUE_OLDEST.labels(q.queue).set(age / 1000)
        QUEUE_RUNNING.labels(q.queue).set(q.running)
        QUEUE_SCHEDULED.labels(q.queue).set(q.scheduled)
    for r in replicas:
        PARTITIONS_HELD.labels(r.owner).set(r.partitions)
    STORE_UP.set(1)


def scrape_failed() -> None:
    """The store could not be read: its gauges say nothing rather than an old value."""
    for gauge in (QUEUE_DEPTH, QUEUE_OLDEST, QUEUE_RUNNING, QUEUE_SCHEDULED, PARTITIONS_HELD):
        gauge.clear()
    STORE_UP.set(0)
