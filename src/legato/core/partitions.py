"""Executions hash into a fixed number of partitions; orchestrator replicas lease partitions,
so each execution has one decider at a time and replicas share the work (DESIGN.md §1)."""

from __future__ import annotations

import math
import zlib

PARTITIONS = 64  # fixed: the migrations create exactly these rows


def partition_of(execution_id: str) -> int:
    """Stable across processes and versions (CRC-32, not Python's salted ``hash``)."""
    return zlib.crc32(execution_id.encode()) % PARTITIONS


def fair_share(replicas: int, partitions: int = PARTITIONS) -> int:
    """How many partitions one of ``replicas`` live replicas should hold."""
    return math.ceil(partitions / max(replicas, 1))
