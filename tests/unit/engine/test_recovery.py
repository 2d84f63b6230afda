"""Taking over dead owners (legato.engine.recovery) against a store whose answers the test
writes: only owners proven dead are taken over, unknown ones are reported once and wait, a
worker alone looks only at task leases, and at start-up a predecessor of this host whose
process is gone but whose lock still shows is asked again."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Collection

import pytest

from legato.core.owners import owner_id
from legato.engine.recovery import Recovery, process_gone
from legato.ports.liveness import OwnerInfo
from legato.ports.membership import LeaseHolder, Takeover

HOST = socket.gethostname()
GONE_PID = 2**22 + 12_345  # above Linux's pid_max default: no process has it
ME, LIVE, DEAD, FAR = "me", "live", "dead", "far"


class FakeStore:
    """Lease holders and liveness answers given by the test; records what was asked."""

    def __init__(self, holders: list[LeaseHolder], answers: list[dict[str, bool | None]]) -> None:
        self.holders = holders
        self.answers = answers  # one per call to ``alive``, the last one repeated
        self.asked: list[list[str]] = []
        self.taken: list[tuple[list[str], bool]] = []
        self.swept: list[list[str]] = []

    async def lease_holders(self, owner: str, now: int, live_ms: int) -> list[LeaseHolder]:
        return [h for h in self.holders if h.owner != owner]

    async def alive(self, owners: list[str]) -> dict[str, bool | None]:
        self.asked.append(owners)
        answer = self.answers[min(len(self.asked), len(self.answers)) - 1]
        return {o: answer[o] for o in owners}

    async def take_over(self, dead: list[str], partitions: bool) -> list[Takeover]:
        self.taken.append((dead, partitions))
        by_owner = {h.owner: h for h in self.holders}
        return [Takeover(o, by_owner[o].partitions if partitions else 0, by_owner[o].tasks)
                for o in dead]  # fmt: skip

    async def sweep(self, holding: Collection[str]) -> None:
        self.swept.append(sorted(holding))

    async def heartbeat_replica(self, owner: str, now: int, live_ms: int, leaving: bool) -> int:
        raise AssertionError("not used")

    async def balance_partitions(
        self, owner: str, now: int, lease_ms: int, target: int
    ) -> list[int]:
        raise AssertionError("not used")

    async def release_partitions(self, owner: str, ids: list[int]) -> None:
        raise AssertionError("not used")

    async def hold(self, info: OwnerInfo) -> None:
        raise AssertionError("not used")

    async def release(self, owner: str) -> None:
        raise AssertionError("not used")


HOLDERS = [
    LeaseHolder(DEAD, 40, 3, 30_000),
    LeaseHolder(FAR, 24, 1, 31_000),
    LeaseHolder(LIVE, 0, 2, 30_500),
]
ANSWER: dict[str, bool | None] = {DEAD: False, FAR: None, LIVE: True}


async def test_only_owners_proven_dead_are_taken_over(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore(HOLDERS, [ANSWER])
    recovery = Recovery(store, ME, partitions=True)
    with caplog.at_level(logging.WARNING, "legato.engine"):
        taken = await recovery.run(now=1_000, live_ms=30_000)
    assert taken == [Takeover(DEAD, 40, 3)]
    assert store.taken == [([DEAD], True)]
    assert store.swept == [[FAR, LIVE]]  # the dead one's lock may go; the others' stay
    said = [r.getMessage() for r in caplog.records]
    assert said[0] == (
        "owner dead is gone (lock free): taking over 40 partitions and 3 task leases"
    )
    assert said[1].startswith("far holds 24 partitions and 1 task lease, and cannot be proven")
    assert said[1].endswith("within 30 s")
    assert len(said) == 2


async def test_an_unknown_owner_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore([LeaseHolder(FAR, 64, 0, 31_000)], [ANSWER])
    recovery = Recovery(store, ME, partitions=True)
    with caplog.at_level(logging.WARNING, "legato.engine"):
        for _ in range(3):
            assert await recovery.run(now=1_000, live_ms=30_000) == []
    assert len(caplog.records) == 1 and store.taken == [] and store.swept == []


async def test_a_worker_alone_asks_only_about_task_leases_and_takes_no_partition() -> None:
    holders = [LeaseHolder(DEAD, 64, 0, 30_000), LeaseHolder(LIVE, 0, 2, 30_500)]
    store = FakeStore(holders, [{DEAD: False, LIVE: True}])
    assert await Recovery(store, ME, partitions=False).run(now=1_000, live_ms=30_000) == []
    assert store.asked == [[LIVE]] and store.taken == []


async def test_nothing_held_by_others_means_nothing_asked_but_a_start_up_sweep() -> None:
    store = FakeStore([LeaseHolder(ME, 64, 0, 30_000)], [{}])
    assert await Recovery(store, ME, partitions=True).run(1_000, 30_000, starting=True) == []
    assert store.asked == [] and store.taken == [] and store.swept == [[]]


async def test_at_start_up_a_gone_process_whose_lock_still_shows_is_asked_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    predecessor = owner_id("engine", HOST, GONE_PID, "abcd1234")
    assert process_gone(predecessor)
    store = FakeStore(
        [LeaseHolder(predecessor, 64, 5, 30_000)],
        [{predecessor: True}, {predecessor: True}, {predecessor: False}],  # the server caught up
    )
    with caplog.at_level(logging.WARNING, "legato.engine"):
        taken = await Recovery(store, ME, partitions=True).run(1_000, 30_000, starting=True)
    assert taken == [Takeover(predecessor, 64, 5)] and len(store.asked) == 3
    assert caplog.records[0].getMessage() == (
        f"previous engine {predecessor} is gone (lock free): taking over 64 partitions and "
        "5 task leases"
    )


async def test_a_live_process_of_this_host_is_not_asked_again() -> None:
    me_too = owner_id("engine", HOST, os.getpid(), "abcd1234")
    assert not process_gone(me_too)
    assert not process_gone(owner_id("engine", f"not-{HOST}", GONE_PID, "abcd1234"))
    store = FakeStore([LeaseHolder(me_too, 64, 0, 30_000)], [{me_too: True}])
    assert await Recovery(store, ME, partitions=True).run(1_000, 30_000, starting=True) == []
    assert len(store.asked) == 1
