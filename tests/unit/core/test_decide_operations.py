"""Operating executions in the pure core: where a redrive voids the history, what it brings
back, and the transitions of cancel, terminate, timeouts and close policies (no database)."""

from __future__ import annotations

import dataclasses

import pytest

from legato.core import decide, redrive
from legato.core.admit import NOTHING, MessageArrived, TimerDue, admit
from legato.core.commands import CancelExecution, MarkCompensation, ScheduleStep
from legato.core.decide import Activation, Basis, Placement
from legato.core.events import (
    EXECUTION_TIMEOUT_TIMER,
    CancelRequested,
    CompensationCompleted,
    CompensationStarted,
    Event,
    ExecutionCancelled,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionRedriven,
    ExecutionStarted,
    ExecutionTerminated,
    ExecutionTimedOut,
    StateEntered,
    Status,
    StepCompleted,
    StepFailed,
    StepScheduled,
    TimerStarted,
)
from legato.core.messages import InboxKind, InboxRow
from tests.unit.core.test_admit import Waiting

NOW = 50_000
HERE = Placement("me", 30_000, frozenset({"default"}), frozenset({"here", "b"}))


def numbered(*events: Event) -> list[Event]:
    """Events as stored: seq 1, 2, 3... each in its own batch."""
    return [dataclasses.replace(e, seq=i, batch=i) for i, e in enumerate(events, 1)]


STARTED = ExecutionStarted(1, "wf", "[[],{}]", "1")
FAILED_ON_STEP_2 = numbered(
    STARTED,
    StepScheduled(2, 1, "a", "[]", "default"),
    StepCompleted(3, 1, "a", "1", 1),
    StepScheduled(4, 2, "b", "[]", "default"),
    StepFailed(5, 2, "b", 3, "ValueError", "bad", None),
    ExecutionFailed(6, "ValueError", "bad", "", cause_ref=2),
)


# --- where a redrive voids ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("history", "status", "void_from"),
    [
        # a step failure the code let through: that step runs again
        (FAILED_ON_STEP_2, Status.FAILED, 5),
        # the code's own error: only the close goes; the code sees the same inputs again
        (
            numbered(STARTED, StepScheduled(2, 1, "a", "[]", "default"),
                     StepCompleted(3, 1, "a", "1", 1), ExecutionFailed(4, "KeyError", "x", "")),
            Status.FAILED,
            4,
        ),
        # a state machine: the failed state is entered again
        (
            numbered(STARTED, StateEntered(2, 1, "Charge", "{}"),
                     StepScheduled(2, 2, "charge", "[]", "default"),
                     StepFailed(3, 2, "charge", 1, "E", "m", None),
                     ExecutionFailed(4, "E", "m", "", cause_ref=1)),
            Status.FAILED,
            2,
        ),
        # cancelled: from the request on, as if it never came
        (
            numbered(STARTED, TimerStarted(2, 1, "sleep", 99), CancelRequested(3, 7, "why"),
                     StepScheduled(3, 2, "tidy", "[]", "default"),
                     StepCompleted(4, 2, "tidy", "null", 1), ExecutionCancelled(5, "why")),
            Status.CANCELLED,
            3,
        ),
        # timed out: only the close
        (numbered(STARTED, ExecutionTimedOut(9, 1000)), Status.TIMED_OUT, 2),
    ],
)  # fmt: skip
def test_the_void_point(history: list[Event], status: Status, void_from: int) -> None:
    assert redrive.void_point(history, status) == void_from


@pytest.mark.parametrize(
    ("history", "status", "why"),
    [
        (numbered(STARTED, ExecutionCompleted(2, "1")), Status.COMPLETED, "only"),
        (numbered(STARTED, ExecutionTerminated(2, None)), Status.TERMINATED, "only"),
        (
            numbered(STARTED, StepScheduled(2, 1, "a", "[]", "default"),
                     StepFailed(3, 1, "a", 1, "E", "m", None), CompensationStarted(3, 2, 1),
                     CompensationCompleted(4, 3), ExecutionFailed(5, "E", "m", "", cause_ref=1)),
            Status.FAILED,
            "compensations ran",
        ),
    ],
)  # fmt: skip
def test_what_cannot_be_redriven(history: list[Event], status: Status, why: str) -> None:
    with pytest.raises(redrive.NotRedrivable, match=why):
        redrive.void_point(history, status)


def test_replay_skips_what_a_redrive_voided_and_a_second_redrive_voids_more() -> None:
    first = [*FAILED_ON_STEP_2, ExecutionRedriven(7, 5, 1, seq=7, batch=7)]
    assert [e.seq for e in redrive.live_history(first)] == [1, 2, 3, 4, 7]
    again = [
        *first,
        StepFailed(8, 2, "b", 1, "ValueError", "bad", None, seq=8, batch=8),
        ExecutionFailed(8, "ValueError", "bad", "", cause_ref=2, seq=9, batch=8),
    ]
    assert redrive.void_point(again, Status.FAILED) == 8
    assert redrive.redrive_count(again) == 1
    twice = [*again, ExecutionRedriven(10, 8, 2, seq=10, batch=10)]
    assert [e.seq for e in redrive.live_history(twice)] == [1, 2, 3, 4, 7, 10]


def test_what_a_redrive_brings_back() -> None:
    live = redrive.live_history([*FAILED_ON_STEP_2, ExecutionRedriven(7, 5, 1, seq=7, batch=7)])
    steps, timers = redrive.outstanding(live, lambda ref: ref == 2)
    assert steps == (ScheduleStep(2, "b", "default", "[]"),)
    assert timers == ()


# --- the transitions ------------------------------------------------------------------------------
def basis(**kw: object) -> Basis:
    return Basis("e-1", 4, NOW, **kw)  # type: ignore[arg-type]


def test_a_timeout_closes_timed_out_purges_and_tells_children() -> None:
    admitted = admit(Waiting(), [TimerDue(EXECUTION_TIMEOUT_TIMER)], NOW)
    assert admitted.timed_out
    tr = decide.time_out(basis(has_children=True), admitted, 60_000)
    assert tr.events == (ExecutionTimedOut(NOW, 60_000),)
    assert (tr.update.status, tr.update.error_type) == (Status.TIMED_OUT, "States.Timeout")
    assert tr.purge and tr.cascades and tr.closes


def test_terminate_is_a_guarded_close_with_no_code() -> None:
    tr = decide.terminate("e-1", 7, "step b", NOW, "runaway")
    assert (tr.expected_seq, tr.events) == (7, (ExecutionTerminated(NOW, "runaway"),))
    assert (tr.update.status, tr.update.reason, tr.update.closed_at) == (
        Status.TERMINATED, "runaway", NOW,
    )  # fmt: skip
    assert tr.purge and tr.cascades


def test_a_cancel_message_is_recorded_once_and_asks_the_running_steps_to_stop() -> None:
    rows = [InboxRow("e-1", InboxKind.CANCEL, None, None, '"why"', 1, id=i) for i in (5, 6)]
    admitted = admit(Waiting(steps={3: None}), [MessageArrived(r) for r in rows], NOW)  # type: ignore[dict-item]
    assert admitted.feed == (CancelRequested(NOW, 5, "why"),)
    assert admitted.consumed_inbox == (5, 6)
    already = admit(Waiting(cancel_requested=True), [MessageArrived(rows[0])], NOW)
    assert already.feed == () and already.consumed_inbox == (5,)
    activation = Activation(admitted.feed, (), cancel_steps=(3,))
    tr = decide.decide(basis(), admitted, activation, HERE)
    assert tr is not None and tr.cancel_tasks == ("e-1:3",)


def test_a_cancelled_close_and_compensation_markers() -> None:
    commands = (MarkCompensation(8, True, 2), MarkCompensation(9, False),
                CancelExecution("why"))  # fmt: skip
    tr = decide.decide(basis(has_children=False), NOTHING, Activation((), commands), HERE)
    assert tr is not None
    assert tr.events == (
        CompensationStarted(NOW, 8, 2), CompensationCompleted(NOW, 9),
        ExecutionCancelled(NOW, "why"),
    )  # fmt: skip
    assert (tr.update.status, tr.update.reason) == (Status.CANCELLED, "why")
    assert not tr.cascades


def test_the_first_decision_of_a_pending_execution_arms_its_timeout_and_brings_back_steps() -> None:
    rebuild = decide.Rebuild((ScheduleStep(2, "b", "default", "[]"),), ((1, 99_000),))
    b = basis(sticky=False, pending=True, arm_timeout=NOW + 5_000, rebuild=rebuild)
    tr = decide.decide(b, NOTHING, Activation((), ()), HERE)
    assert tr is not None and tr.events == ()  # written all the same: it becomes RUNNING
    assert tr.update.status == Status.RUNNING
    assert tr.timer_inserts == ((EXECUTION_TIMEOUT_TIMER, NOW + 5_000), (1, 99_000))
    assert [(t.id, t.attempt, t.lease_owner) for t in tr.task_inserts] == [("e-1:2", 1, "me")]


def test_a_start_deadline_goes_on_tasks_for_other_workers_only() -> None:
    commands = (ScheduleStep(1, "here", "default", "[]", start_by=NOW + 9),
                ScheduleStep(2, "there", "gpu", "[]", start_by=NOW + 9))  # fmt: skip
    tr = decide.decide(basis(), NOTHING, Activation((), commands), HERE)
    assert tr is not None
    assert [(t.name, t.attempt, t.start_by) for t in tr.task_inserts] == [
        ("here", 1, None),  # leased to this process's worker: started at once
        ("there", 0, NOW + 9),
    ]
    assert tr.start_deadline == NOW + 9  # the orchestrator reads the store once it is due
