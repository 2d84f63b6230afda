"""The gauges set from the store at scrape time (``legato.engine.metrics.scraped``): each scrape
says what the store says now, and a queue or replica that is gone is gone from the output."""

from __future__ import annotations

from prometheus_client import REGISTRY

from legato.engine import metrics
from legato.ports.inspection import QueueStats, ReplicaSeen


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_a_scrape_sets_the_queue_and_replica_gauges() -> None:
    now = 100_000
    metrics.scraped(
        now,
        [QueueStats("emails", 3, now - 2_500, 1, 4), QueueStats("idle", 0, None, 2, 0)],
        [ReplicaSeen("engine:a:1:x", now, 40), ReplicaSeen("engine:b:2:y", now, 24)],
    )
    assert gauge("legato_queue_depth", queue="emails") == 3
    assert gauge("legato_queue_oldest_ready_age_seconds", queue="emails") == 2.5
    assert gauge("legato_queue_running", queue="emails") == 1
    assert gauge("legato_queue_scheduled", queue="emails") == 4
    assert gauge("legato_queue_oldest_ready_age_seconds", queue="idle") == 0  # nothing ready
    assert gauge("legato_partitions_held", replica="engine:b:2:y") == 24
    assert gauge("legato_store_up") == 1


def test_what_is_gone_is_dropped_and_a_failed_read_says_so() -> None:
    metrics.scraped(1_000, [QueueStats("old", 1, 0, 0, 0)], [ReplicaSeen("engine:a:1:x", 0, 64)])
    metrics.scraped(1_000, [QueueStats("new", 2, 900, 0, 0)], [])
    assert gauge("legato_queue_depth", queue="old") is None
    assert gauge("legato_queue_depth", queue="new") == 2
    assert gauge("legato_partitions_held", replica="engine:a:1:x") is None
    metrics.scrape_failed()
    assert gauge("legato_queue_depth", queue="new") is None  # no stale figure
    assert gauge("legato_store_up") == 0
