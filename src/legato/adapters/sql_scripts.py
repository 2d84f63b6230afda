"""Store operations that are the same in every dialect, written once.

Each is a generator that yields the named queries (``queries.sql``) it runs and receives their
results, so the policy reads as one function while each adapter drives it with its own
driver: synchronously inside the SQLite writer's transaction, asynchronously on a PostgreSQL
connection. The dialect's part is its SQL text, how it binds lists, and whether a migration
script runs whole or statement by statement.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from legato.adapters.sql_files import Migration
from legato.core import codec
from legato.errors import StoreError
from legato.ports.membership import LeaseHolder, Takeover


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    params: Any = None


@dataclass(frozen=True, slots=True)
class Many:
    """One named query run for each of ``rows`` (``executemany``: pipelined on PostgreSQL, one
    round trip); its ``Result`` has no rows and the summed row count."""

    name: str
    rows: list[Any]


@dataclass(frozen=True, slots=True)
class Script:
    """Raw SQL of a migration file."""

    sql: str


@dataclass(frozen=True, slots=True)
class Result:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rowcount: int = 0


Step = Query | Many | Script
SqlScript = Generator[Step, Result, Any]


# --- orchestrator replicas and partition leases ------------------------------------------------


def heartbeat_replica(
    owner: str, now: int, live_ms: int, leaving: bool
) -> Generator[Step, Result, int]:
    """Record this replica as alive (or gone), forget long-dead ones; how many are alive."""
    if not leaving:
        yield Query("heartbeat_replica", {"owner": owner, "now": now})
    yield Query(
        "forget_replicas", {"stale": now - 10 * live_ms, "owner": owner, "leaving": leaving}
    )
    alive = yield Query("count_replicas", {"live_since": now - live_ms})
    return int(alive.rows[0][0])


def balance_partitions(
    owner: str, now: int, lease_ms: int, target: int
) -> Generator[Step, Result, list[int]]:
    """Renew this replica's leases, give back any beyond its fair share (``target``) for newer
    replicas to take, or take free and expired ones up to it."""
    lease = {"owner": owner, "now": now, "expires": now + lease_ms}
    held = sorted(r[0] for r in (yield Query("renew_partitions", lease)).rows)
    if len(held) > target:
        extra, held = held[target:], held[:target]
        yield Query("release_partitions", {"owner": owner, "ids": extra})
    elif len(held) < target:
        got = yield Query("acquire_partitions", {**lease, "limit": target - len(held)})
        held = sorted(held + [r[0] for r in got.rows])
    return held


# --- owners proven dead (legato.ports.liveness) ------------------------------------------------


def lease_holders(owner: str, now: int, live_ms: int) -> Generator[Step, Result, list[LeaseHolder]]:
    """The other owners whose leases or heartbeats still count: the ones to ask about."""
    params = {"owner": owner, "now": now, "live_since": now - live_ms}
    rows = (yield Query("lease_holders", params)).rows
    return [LeaseHolder(str(o), int(p), int(t), int(e)) for o, p, t, e in rows]


def take_over(dead: list[str], partitions: bool) -> Generator[Step, Result, list[Takeover]]:
    """End the leases of owners proven dead, so they are taken now rather than at expiry."""
    taken = []
    for owner in dead:
        freed = (yield Query("free_partitions_of", {"owner": owner})) if partitions else Result()
        ended = yield Query("end_task_leases_of", {"owner": owner})
        yield Query("forget_replica", {"owner": owner})
        taken.append(Takeover(owner, freed.rowcount, ended.rowcount))
    return taken


# --- workers and the steps they serve ---------------------------------------------------------


def heartbeat_worker(
    owner: str, queues: list[str], steps: list[str], now: int, live_ms: int, leaving: bool
) -> Generator[Step, Result, None]:
    """Record what this worker serves, alive until ``now + live_ms`` (or forget it: it is
    leaving), and forget workers long gone."""
    if not leaving:
        queues_json, steps_json = codec.dumps(queues, "queues"), codec.dumps(steps, "steps")
        params = {"owner": owner, "queues": queues_json, "steps": steps_json, "now": now,
                  "expires": now + live_ms}  # fmt: skip
        yield Query("heartbeat_worker", params)
    yield Query("forget_workers", {"stale": now - 10 * live_ms, "owner": owner, "leaving": leaving})


# --- schema migrations ------------------------------------------------------------------------


def migrate(
    migrations: list[Migration], now: int, where: str
) -> Generator[Step, Result, list[int]]:
    """Apply the migrations the database lacks, in one transaction, one migrator at a time;
    returns their numbers. Refuses a schema newer than this code, and an applied migration
    whose file has changed since (its checksum): the schema would no longer be what the
    migrations say. Ends with a real write, so a database that cannot be written fails at
    start-up, not mid-run."""
    yield Query("lock_migrations")
    yield Query("create_migrations_table")
    applied = {
        v: (name, checksum) for v, name, checksum in (yield Query("applied_migrations")).rows
    }
    check_applied(applied, migrations, where)
    done = []
    for m in migrations:
        if m.version not in applied:
            yield Script(m.sql)
            params = {"version": m.version, "name": m.name, "checksum": m.checksum, "now": now}
            yield Query("record_migration", params)
            done.append(m.version)
    yield Query("touch_store", {"now": str(now)})
    return done


def unmigrated(applied: list[int] | None, migrations: list[Migration], where: str) -> str | None:
    """Why a database a tool only reads cannot be read (``applied``: its migrations, None
    without the table), or None: it has every migration of this Legato."""
    newest = migrations[-1].version
    missing = sorted({m.version for m in migrations} - set(applied or ()))
    if not applied:
        return (
            f"database {where} has no Legato schema: it was never migrated "
            "(legato migrate, or an engine's start, creates it)"
        )
    if missing:
        return (
            f"database {where} is at schema version {max(applied)}, this Legato needs "
            f"{newest}: run legato migrate"
        )
    return None


def check_applied(
    applied: dict[int, tuple[str, str]], migrations: list[Migration], where: str
) -> None:
    known = {m.version: m for m in migrations}
    newest = migrations[-1].version
    if applied and max(applied) > newest:
        raise StoreError(
            f"database {where} has schema version {max(applied)}, newer than this Legato knows "
            f"({newest}): upgrade Legato"
        )
    for version, (name, checksum) in sorted(applied.items()):
        m = known.get(version)
        if m is not None and m.checksum != checksum:
            raise StoreError(
                f"database {where}: migration {version:04d}_{name} was applied with checksum "
                f"{checksum[:12]}, but this Legato's {version:04d}_{m.name}.sql has checksum "
                f"{m.checksum[:12]}: an applied migration must never be edited; restore the "
                "file and put the change in a new migration"
            )
