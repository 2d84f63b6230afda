"""Assembling transitions (legato.core.decide), as tables of (basis, admitted, activation) →
transition: no database, no loop, no clock."""

from __future__ import annotations

import pytest

from legato.core import decide, trace_context
from legato.core.admit import NOTHING, Admitted, Retried
from legato.core.commands import (
    CompleteExecution,
    FailExecution,
    RecordState,
    ScheduleStep,
    StartChild,
    StartExternalTask,
    StartTimer,
)
from legato.core.decide import Activation, Basis, Placement
from legato.core.events import (
    ChildScheduled,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
    ExternalTaskStarted,
    SignalReceived,
    StateEntered,
    StateExited,
    Status,
    StepCompleted,
    StepRetryScheduled,
    StepScheduled,
    SuspendKind,
    TimerFired,
    TimerStarted,
)
from legato.core.partitions import partition_of
from legato.core.transition import (
    ChildStart,
    ExecutionUpdate,
    NewExecution,
    Task,
    TaskRetry,
    Transition,
)

NOW = 10_000
HERE = Placement(
    owner="me",
    lease_ms=30_000,
    local_queues=frozenset({"default"}),
    local_steps=frozenset({"ship", "charge"}),
)
BASIS = Basis("e", seq=4, now=NOW)
RUNNING = ExecutionUpdate(Status.RUNNING, None, progress_only=True)
DONE = StepCompleted(NOW, 1, "charge", '"paid"', 1)
SIGNAL = SignalReceived(NOW, "go", None, 40)


def act(*commands: object, accepted: tuple[object, ...] = (), **kw: object) -> Activation:
    return Activation(accepted, commands, **kw)  # type: ignore[arg-type]


def step_task(step_id: int, queue: str, local: bool) -> Task:
    owner, expires, attempt = ("me", NOW + 30_000, 1) if local else (None, None, 0)
    return Task(
        f"e:{step_id}", "e", step_id, "ship", queue, "[[],{}]", NOW, attempt, owner, expires
    )


def child_start(wait: bool) -> ChildStart:
    # started in its parent's span: the parent's trace (its root one: derived from "e")
    parent_span = trace_context.of("e", None)
    started = ExecutionStarted(
        NOW, "kid", "[[1],{}]", "3", parent_id="e", parent_ref=5, traceparent=parent_span
    )
    tr = Transition("e/5", 0, NOW, (started,), ExecutionUpdate(Status.PENDING, None))
    new = NewExecution("e/5", "kid", "3", "[[1],{}]", NOW, tr, partition_of("e/5"))
    return ChildStart(new, "e", 5, wait)


FAILED_ONCE = Task("e:1", "e", 1, "charge", "default", "[[],{}]", 0, 1, "me", 1, None, None)
AUDIT_FAILED_ONCE = FAILED_ONCE._replace(name="audit")  # a step this process's worker lacks
RETRY_EVENT = StepRetryScheduled(NOW, 1, "charge", 1, "ValueError", "bad", 3_000)

CASES: list[tuple[str, Basis, Admitted, Activation, Transition | None]] = [
    (
        "nothing new: no transition",
        BASIS,
        NOTHING,
        act(),
        None,
    ),
    (
        "a step on a queue this process serves is inserted leased to it, to run at once",
        BASIS,
        Admitted(feed=(DONE,), done_tasks=(("e:1", 1),)),
        act(ScheduleStep(2, "ship", "default", "[[],{}]"), accepted=(DONE,)),
        Transition(
            "e",
            4,
            NOW,
            (DONE, StepScheduled(NOW, 2, "ship", "[[],{}]", "default")),
            ExecutionUpdate(Status.RUNNING, "ship", progress_only=True),
            task_inserts=(step_task(2, "default", True),),
            task_deletes=(("e:1", 1),),
            local_tasks=(step_task(2, "default", True),),
        ),
    ),
    (
        "a step on another queue waits for any worker's claim",
        BASIS,
        NOTHING,
        act(ScheduleStep(2, "ship", "gpu", "[[],{}]")),
        Transition(
            "e",
            4,
            NOW,
            (StepScheduled(NOW, 2, "ship", "[[],{}]", "gpu"),),
            ExecutionUpdate(Status.RUNNING, "ship", progress_only=True),
            task_inserts=(step_task(2, "gpu", False),),
        ),
    ),
    (
        "a step this process's worker lacks waits for a worker that has it (a rolling deploy)",
        BASIS,
        NOTHING,
        act(ScheduleStep(2, "audit", "default", "[[],{}]")),
        Transition(
            "e",
            4,
            NOW,
            (StepScheduled(NOW, 2, "audit", "[[],{}]", "default"),),
            ExecutionUpdate(Status.RUNNING, "audit", progress_only=True),
            task_inserts=(Task("e:2", "e", 2, "audit", "default", "[[],{}]", NOW, 0, None, None),),
        ),
    ),
    (
        "a retry of a step this process's worker lacks goes back to any worker that has it",
        BASIS,
        Admitted(feed=(), retried=(Retried(RETRY_EVENT, AUDIT_FAILED_ONCE, None),)),
        act(),
        Transition(
            "e",
            4,
            NOW,
            (RETRY_EVENT,),
            RUNNING,
            task_retries=(TaskRetry("e:1", 1, NOW + 3_000, None, None),),
        ),
    ),
    (
        "timers, recorded states and an external task's timers",
        BASIS,
        NOTHING,
        act(
            RecordState(1, False, "Wait", "{}"),
            StartTimer(2, NOW + 60_000),
            RecordState(3, True, "Wait", "{}"),
            StartExternalTask(4, "tok", (5, NOW + 1_000), (6, NOW + 200)),
        ),
        Transition(
            "e",
            4,
            NOW,
            (
                StateEntered(NOW, 1, "Wait", "{}"),
                TimerStarted(NOW, 2, "sleep", NOW + 60_000),
                StateExited(NOW, 3, "Wait", "{}"),
                ExternalTaskStarted(NOW, 4, "tok", 5, NOW + 1_000, 6, NOW + 200),
            ),
            ExecutionUpdate(Status.RUNNING, "external task", progress_only=True),
            timer_inserts=((2, NOW + 60_000), (5, NOW + 1_000), (6, NOW + 200)),
        ),
    ),
    (
        "a child starts in its parent's transition; the inbox poll is woken",
        BASIS,
        NOTHING,
        act(StartChild(5, "e/5", "kid", "3", "[[1],{}]", True)),
        Transition(
            "e",
            4,
            NOW,
            (ChildScheduled(NOW, 5, "kid", "[[1],{}]", "e/5", True),),
            ExecutionUpdate(Status.RUNNING, "kid", progress_only=True),
            child_starts=(child_start(True),),
            wakes_inbox=True,
        ),
    ),
    (
        "completing with work outstanding purges it and tells a parent",
        Basis("e", 4, NOW, reports_to_parent=True),
        Admitted(feed=(SIGNAL,), consumed_inbox=(40,)),
        act(CompleteExecution('"ok"'), accepted=(SIGNAL,), outstanding=True),
        Transition(
            "e",
            4,
            NOW,
            (SIGNAL, ExecutionCompleted(NOW, '"ok"')),
            ExecutionUpdate(Status.COMPLETED, None, output='"ok"', closed_at=NOW),
            inbox_deletes=(40,),
            purge=True,
            wakes_inbox=True,
        ),
    ),
    (
        "failing closes it with the error",
        BASIS,
        NOTHING,
        act(FailExecution("KeyError", "7", "Traceback ...")),
        Transition(
            "e",
            4,
            NOW,
            (ExecutionFailed(NOW, "KeyError", "7", "Traceback ..."),),
            ExecutionUpdate(
                Status.FAILED, None, error_type="KeyError", error_message="7", closed_at=NOW
            ),
        ),
    ),
    (
        "a retry goes back to the queue after its delay, held by this process meanwhile",
        BASIS,
        Admitted(feed=(), retried=(Retried(RETRY_EVENT, FAILED_ONCE, '{"done":3}'),)),
        act(),
        Transition(
            "e",
            4,
            NOW,
            (RETRY_EVENT,),
            RUNNING,
            task_retries=(TaskRetry("e:1", 1, NOW + 3_000, "me", NOW + 3_000 + 30_000),),
            local_tasks=(
                Task(
                    "e:1",
                    "e",
                    1,
                    "charge",
                    "default",
                    "[[],{}]",
                    NOW + 3_000,
                    2,
                    "me",
                    NOW + 33_000,
                    None,
                    '{"done":3}',
                ),
            ),  # fmt: skip
        ),
    ),
    (
        "a message consumed without an event still commits its delete",
        BASIS,
        Admitted(feed=(), consumed_inbox=(41,)),
        act(),
        Transition("e", 4, NOW, (), RUNNING, inbox_deletes=(41,)),
    ),
    (
        "fired, re-armed and cancelled timers: each row goes once, a settled re-arm adds none",
        BASIS,
        Admitted(
            feed=(TimerFired(NOW, 2),),
            fired_timers=(2,),
            rearmed_timers=((9, NOW + 500), (12, NOW + 500)),
        ),
        act(accepted=(TimerFired(NOW, 2),), cancelled_timers=(9, 3)),
        Transition(
            "e",
            4,
            NOW,
            (TimerFired(NOW, 2),),
            RUNNING,
            timer_inserts=((12, NOW + 500),),
            timer_deletes=(2, 9, 12, 3),
        ),
    ),
    (
        "a PENDING execution's first decision marks it RUNNING though its code only waits",
        Basis("e", 1, NOW, sticky=False, pending=True),
        NOTHING,
        act(),
        Transition("e", 1, NOW, (), ExecutionUpdate(Status.RUNNING, None)),
    ),
    (
        "the first decision after a replay out of SUSPENDED records the resume and unparks",
        Basis("e", 4, NOW, sticky=False, resumed=True),
        Admitted(feed=(), retried=(Retried(RETRY_EVENT, FAILED_ONCE, None),)),
        act(accepted=()),
        Transition(
            "e",
            4,
            NOW,
            (ExecutionResumed(NOW), RETRY_EVENT),
            ExecutionUpdate(Status.RUNNING, None),
            task_retries=(TaskRetry("e:1", 1, NOW + 3_000, "me", NOW + 33_000),),
            unpark=True,
            local_tasks=(
                Task(
                    "e:1",
                    "e",
                    1,
                    "charge",
                    "default",
                    "[[],{}]",
                    NOW + 3_000,
                    2,
                    "me",
                    NOW + 33_000,
                ),
            ),  # fmt: skip
        ),
    ),
    (
        "a client-started execution's first decision is written even if it only waits",
        Basis("e", 1, NOW, sticky=False, pending=True),
        NOTHING,
        act(),
        Transition("e", 1, NOW, (), ExecutionUpdate(Status.RUNNING, None)),
    ),
]


@pytest.mark.parametrize(
    ("basis", "admitted", "activation", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide(
    basis: Basis, admitted: Admitted, activation: Activation, expected: Transition | None
) -> None:
    assert decide.decide(basis, admitted, activation, HERE) == expected


def test_start_records_the_execution_with_its_first_decision() -> None:
    started = ExecutionStarted(NOW, "orders", "[[7],{}]", "2")
    new = decide.start(
        started,
        Basis("o-7", 0, NOW, sticky=False),
        act(ScheduleStep(1, "ship", "default", "[[],{}]")),
        HERE,
    )
    assert (new.id, new.workflow, new.version, new.input) == ("o-7", "orders", "2", "[[7],{}]")
    assert new.partition == partition_of("o-7")
    tr = new.transition
    assert (tr.expected_seq, tr.new_seq) == (0, 2)
    assert tr.events[0] == started and isinstance(tr.events[1], StepScheduled)
    assert tr.update == ExecutionUpdate(Status.RUNNING, "ship")  # a new row, not progress


def test_pending_start_leaves_the_first_decision_to_an_engine() -> None:
    new = decide.pending_start("o-8", "orders", "2", "[[8],{}]", NOW)
    assert new.transition == Transition(
        "o-8",
        0,
        NOW,
        (ExecutionStarted(NOW, "orders", "[[8],{}]", "2"),),
        ExecutionUpdate(Status.PENDING, None),
    )


def test_suspend_parks_the_execution_with_its_reason() -> None:
    tr = decide.suspend("e", 9, "charge", NOW, SuspendKind.NON_DETERMINISM, "changed code")
    assert tr == Transition(
        "e",
        9,
        NOW,
        (ExecutionSuspended(NOW, SuspendKind.NON_DETERMINISM, "changed code"),),
        ExecutionUpdate(
            Status.SUSPENDED,
            "charge",
            reason="changed code",
            suspend_kind=SuspendKind.NON_DETERMINISM,
        ),
        park=True,
    )
