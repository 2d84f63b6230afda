"""Proof that a lease owner is alive or dead (``legato.ports.liveness``), on a real SQLite file
and a real PostgreSQL database, and taking over what a dead owner held
(``Membership.lease_holders``, ``take_over``).

Each owner here is held by its own store object (on SQLite an open file of its own, on
PostgreSQL a session of its own), so a store in this process judges it as another process
would; the killed-process case runs a real subprocess."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import psycopg
import pytest

import legato
from legato.adapters.sqlite.owner_locks import lock_folder
from legato.client import open_store
from legato.core.owners import REMOTE_ROLE, owner_id
from legato.core.partitions import PARTITIONS
from legato.engine.recovery import Recovery
from legato.ports.liveness import OwnerInfo
from legato.ports.membership import LeaseHolder, Takeover
from legato.ports.store import Store
from tests.contract.test_store import _start
from tests.processes import Processes

HOLDER = Path(__file__).with_name("liveness_holder.py")
HOST = socket.gethostname()


def owner(name: str, host: str = HOST) -> str:
    return owner_id("engine", host, os.getpid(), name)


def info(who: str, orchestrates: bool = False) -> OwnerInfo:
    return OwnerInfo(who, orchestrates, HOST, os.getpid(), 1_000, "pytest liveness")


@pytest.fixture
async def store(any_db_url: str) -> AsyncIterator[Store]:
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def other(any_db_url: str) -> AsyncIterator[Store]:
    """A second store on the same database: another owner's side."""
    s = open_store(any_db_url)
    await s.open()
    yield s
    await s.close()


async def test_a_held_owner_is_alive_and_a_released_one_is_proven_dead(
    store: Store, other: Store
) -> None:
    a, b = owner("a"), owner("b")
    await other.hold(info(a))
    await other.hold(info(b))
    assert await store.alive([a, b]) == {a: True, b: True}
    await other.release(a)
    assert await store.alive([a, b]) == {a: False, b: True}


async def test_an_owner_that_never_held_a_lock_is_never_alive(store: Store) -> None:
    # SQLite: no lock file here, so nothing can tell (None); PostgreSQL: no session holds it
    assert (await store.alive([owner("ghost")]))[owner("ghost")] is not True


async def test_an_owner_on_another_host_cannot_be_judged_by_sqlite_file_locks(
    db_url: str,
) -> None:
    store = open_store(db_url)
    await store.open()
    try:
        far = owner("far", host=f"not-{HOST}")
        assert await store.alive([far]) == {far: None}
    finally:
        await store.close()


async def test_a_remote_worker_is_never_judged_and_recovery_leaves_its_leases(
    store: Store,
) -> None:
    """A remote worker (``legato worker --server``) holds no lock: its leases run out, never
    taken early (PostgreSQL would otherwise find its never-held lock free and call it dead)."""
    remote = owner_id(REMOTE_ROLE, HOST, os.getpid(), "remote1")
    assert await store.alive([remote, owner("ghost")]) == {
        remote: None,
        owner("ghost"): (await store.alive([owner("ghost")]))[owner("ghost")],
    }
    await _start(store, "e1")
    await store.claim_tasks(remote, ["default"], ["work"], now=20_000, lease_ms=60_000, limit=1)
    taken = await Recovery(store, owner("me"), partitions=True).run(20_001, 500, starting=True)
    assert taken == []
    assert await store.claim_tasks(owner("me"), ["default"], ["work"], 20_002, 500, 1) == []


@pytest.mark.slow
@pytest.mark.timeout(60)
async def test_a_killed_owner_is_proven_dead(
    any_db_url: str,
    store: Store,
    processes: Processes,
    wait_for: Callable[..., Awaitable[None]],
) -> None:
    who = owner_id("engine", HOST, 1, "killed")
    holder = processes.spawn("holder", [sys.executable, str(HOLDER), any_db_url, who])

    async def held() -> bool:
        assert holder.poll() is None, processes.log_of(holder)
        return "held" in processes.log_of(holder)

    await wait_for(held)
    assert await store.alive([who]) == {who: True}
    processes.kill(holder)

    async def proven_dead() -> bool:  # PostgreSQL ends the session once it sees the socket close
        return await store.alive([who]) == {who: False}

    await wait_for(proven_dead)


async def test_lease_holders_are_the_other_owners_with_unexpired_leases_or_heartbeats(
    store: Store,
) -> None:
    me, dead, quiet = "me", owner("dead"), owner("quiet")  # "me": the task owner of _start
    await store.balance_partitions(me, now=1_000, lease_ms=500, target=PARTITIONS // 2)
    await store.balance_partitions(dead, now=1_000, lease_ms=500, target=PARTITIONS // 2)
    await _start(store, "e1")  # its task is leased to "me" until 10_000 (tests/contract)
    await store.heartbeat_replica(quiet, 1_000, 500, leaving=False)
    assert await store.lease_holders(me, now=1_200, live_ms=500) == sorted(
        [LeaseHolder(dead, PARTITIONS // 2, 0, 1_500), LeaseHolder(quiet, 0, 0, 0)],
        key=lambda h: h.owner,
    )
    await store.claim_tasks(dead, ["default"], ["work"], now=20_000, lease_ms=500, limit=10)
    # at 20_100 the partitions' leases ran out, the heartbeat is old, the task is the dead's
    assert await store.lease_holders(me, now=20_100, live_ms=500) == [
        LeaseHolder(dead, 0, 1, 20_500)
    ]


async def test_taking_over_a_dead_owner_frees_its_partitions_and_ends_its_task_leases(
    store: Store,
) -> None:
    me, dead = "me", owner("dead")
    await store.heartbeat_replica(dead, 1_000, 500, leaving=False)
    assert len(await store.balance_partitions(dead, 1_000, 500, PARTITIONS)) == PARTITIONS
    await _start(store, "e1")
    (claimed,) = await store.claim_tasks(dead, ["default"], ["work"], 20_000, 60_000, 1)
    # leased: not claimable
    assert await store.claim_tasks(me, ["default"], ["work"], 20_001, 500, 1) == []

    assert await store.take_over([dead], partitions=True) == [Takeover(dead, PARTITIONS, 1)]
    assert await store.lease_holders(me, now=20_002, live_ms=500) == []
    assert await store.heartbeat_replica(me, 20_002, 500, leaving=False) == 1  # the dead: forgotten
    assert len(await store.balance_partitions(me, 20_002, 500, PARTITIONS)) == PARTITIONS
    # now, not at 80_000
    (again,) = await store.claim_tasks(me, ["default"], ["work"], 20_003, 500, 1)
    assert (again.id, again.attempt) == (claimed.id, claimed.attempt + 1)


async def test_a_worker_alone_takes_over_task_leases_but_not_partitions(store: Store) -> None:
    dead = owner("dead")
    await store.balance_partitions(dead, 1_000, 500, PARTITIONS)
    await _start(store, "e1")
    await store.claim_tasks(dead, ["default"], ["work"], now=20_000, lease_ms=60_000, limit=1)
    assert await store.take_over([dead], partitions=False) == [Takeover(dead, 0, 1)]
    assert await store.lease_holders(owner("me"), now=1_100, live_ms=500) == [
        LeaseHolder(dead, PARTITIONS, 0, 1_500)
    ]


# --- SQLite only: one orchestrator per file, and lock files that do not pile up -------------------


async def test_a_second_orchestrator_on_a_sqlite_file_is_refused_naming_the_first(
    db_url: str,
) -> None:
    first, second = open_store(db_url), open_store(db_url)
    running = OwnerInfo(owner("first"), True, HOST, 4242, 0, "legato dev app --db x.db")
    await first.hold(running)
    try:
        with pytest.raises(legato.DatabaseLockedError) as refused:
            await second.hold(info(owner("second"), orchestrates=True))
        message = str(refused.value)
        for part in (owner("first"), "pid 4242", HOST, "1970-01-01 00:00:00 UTC", "legato dev app"):
            assert part in message
        assert await second.alive([owner("second")]) == {owner("second"): None}  # not kept
        await second.hold(info(owner("worker")))  # a worker beside it is welcome
        await second.release(owner("worker"))
    finally:
        await first.release(owner("first"))
    await second.hold(info(owner("second"), orchestrates=True))  # free again
    await second.release(owner("second"))


async def test_sweep_forgets_dead_owners_that_hold_nothing(db_url: str, db_path: Path) -> None:
    store, other = open_store(db_url), open_store(db_url)
    live, holding, gone = owner("live"), owner("holding"), owner("gone")
    for who in (live, holding, gone):
        await other.hold(info(who))
    await other.release(holding)
    await other.release(gone)
    await store.sweep([holding])
    files = {p.name for p in lock_folder(db_path).iterdir()}
    assert files == {f"{live}.lock", f"{holding}.lock"}  # the engine lock was never taken
    assert await store.alive([live, holding, gone]) == {live: True, holding: False, gone: None}
    await other.release(live)


# --- PostgreSQL only: the lock outlives a dropped connection -----------------------------------


async def test_a_postgres_owner_takes_its_lock_again_after_its_session_is_ended(
    pg_url: str, wait_for: Callable[..., Awaitable[None]]
) -> None:
    store, judge = open_store(pg_url), open_store(pg_url)
    await judge.open()
    who = owner("reconnects")
    await store.hold(info(who))
    holders_sql = (
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    try:
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
            (before,) = await (await admin.execute(holders_sql)).fetchall()
            await admin.execute("SELECT pg_terminate_backend(%s)", before)  # as a restart would

            async def held_again() -> bool:
                rows = await (await admin.execute(holders_sql)).fetchall()
                return bool(rows) and rows != [before] and await judge.alive([who]) == {who: True}

            await wait_for(held_again)
    finally:
        await store.close()
        await judge.close()
