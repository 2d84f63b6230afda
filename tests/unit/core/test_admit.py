"""What inputs mean for an execution (legato.core.admit), as tables of (waits, inputs) →
admitted: no database, no loop, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.admit import (
    Admitted,
    ExternalTimers,
    Input,
    MessageArrived,
    Retried,
    StepOutcome,
    TimerDue,
    admit,
)
from legato.core.events import (
    CancelRequested,
    ChildCompleted,
    ChildFailed,
    ChildStarted,
    ExternalTaskCompleted,
    ExternalTaskFailed,
    ExternalTaskHeartbeat,
    SignalReceived,
    StepCompleted,
    StepFailed,
    StepRetryScheduled,
    TimerFired,
)
from legato.core.messages import ChildNotice, InboxKind, InboxRow
from legato.core.outcome import Outcome
from legato.core.retry import Retry
from legato.core.transition import Task

NOW = 10_000
ONCE = Retry.none()
TWICE = Retry(max_attempts=2, initial=3)


@dataclass(frozen=True)
class Waiting:
    """An execution's waits, as a table: the ``Waits`` protocol without an instance."""

    steps: Mapping[int, Retry] = field(default_factory=dict)
    timers: frozenset[int] = frozenset()
    children: frozenset[int] = frozenset()
    externals: Mapping[int, ExternalTimers] = field(default_factory=dict)
    consumed: frozenset[int] = frozenset()
    cancel_requested: bool = False

    def waits_for(self, ref: int) -> bool:
        return (
            ref in self.steps
            or ref in self.timers
            or ref in self.children
            or (ref in self.externals)
        )

    def retry_policy(self, step_id: int) -> Retry | None:
        return self.steps.get(step_id)

    def is_child(self, ref: int) -> bool:
        return ref in self.children

    def external(self, ref: int) -> ExternalTimers | None:
        return self.externals.get(ref)

    def external_for_timer(self, timer_id: int) -> tuple[int, ExternalTimers] | None:
        for ref, wait in self.externals.items():
            if timer_id in (wait.timeout_timer, wait.heartbeat_timer):
                return ref, wait
        return None

    def has_consumed(self, inbox_id: int) -> bool:
        return inbox_id in self.consumed


def task(step_id: int = 1, attempt: int = 1, details: str | None = None) -> Task:
    return Task(
        f"e:{step_id}", "e", step_id, "charge", "default", "[[],{}]", 0, attempt, "me", 1, None,
        details,
    )  # fmt: skip


def ok(step_id: int = 1, attempt: int = 1) -> StepOutcome:
    return StepOutcome(task(step_id, attempt), Outcome(ok=True, result='"paid"'))


def failed(
    step_id: int = 1,
    attempt: int = 1,
    *,
    non_retryable: bool = False,
    types: tuple[str, ...] = ("ValueError", "Exception"),
    draw: float = 1.0,
    details: str | None = None,
) -> StepOutcome:
    outcome = Outcome(
        ok=False,
        error_type="ValueError",
        message="bad card",
        traceback="Traceback ...",
        error_types=types,
        non_retryable=non_retryable,
        heartbeat_details=details,
    )
    return StepOutcome(task(step_id, attempt), outcome, draw)


def message(
    row_id: int, kind: InboxKind, ref: int | None, name: str | None, payload: str | None
) -> MessageArrived:
    return MessageArrived(InboxRow("e", kind, name, ref, payload, 5, id=row_id))


EXTERNAL = ExternalTimers(
    timeout_timer=8, heartbeat_timer=9, heartbeat_ms=500, heartbeat_deadline=9_000
)
STEP_CASES: list[tuple[str, Waiting, list[Input], Admitted]] = [
    (
        "a result feeds the code and consumes its task",
        Waiting(steps={1: TWICE}),
        [ok()],
        Admitted(feed=(StepCompleted(NOW, 1, "charge", '"paid"', 1),), done_tasks=(("e:1", 1),)),
    ),
    ("a result for a step already decided is dropped", Waiting(), [ok()], Admitted(feed=())),
    (
        "the same result twice in one batch counts once",
        Waiting(steps={1: TWICE}),
        [ok(), ok()],
        Admitted(feed=(StepCompleted(NOW, 1, "charge", '"paid"', 1),), done_tasks=(("e:1", 1),)),
    ),
    (
        "a failure with attempts left is retried after the policy's delay",
        Waiting(steps={1: TWICE}),
        [failed(details='{"done":3}')],
        Admitted(
            feed=(),
            retried=(
                Retried(
                    StepRetryScheduled(NOW, 1, "charge", 1, "ValueError", "bad card", 3_000),
                    task(),
                    '{"done":3}',
                ),
            ),
        ),
    ),
    (
        "a jittered delay takes the draw that came with the outcome",
        Waiting(steps={1: Retry(max_attempts=2, initial=4, jitter=True)}),
        [failed(draw=0.25)],
        Admitted(
            feed=(),
            retried=(
                Retried(
                    StepRetryScheduled(NOW, 1, "charge", 1, "ValueError", "bad card", 1_000),
                    task(),
                    None,
                ),
            ),
        ),
    ),
    (
        "the last attempt's failure feeds the code",
        Waiting(steps={1: TWICE}),
        [failed(attempt=2)],
        Admitted(
            feed=(StepFailed(NOW, 1, "charge", 2, "ValueError", "bad card", "Traceback ..."),),
            done_tasks=(("e:1", 2),),
        ),
    ),
    (
        "a non-retryable failure feeds the code at once",
        Waiting(steps={1: TWICE}),
        [failed(non_retryable=True)],
        Admitted(
            feed=(StepFailed(NOW, 1, "charge", 1, "ValueError", "bad card", "Traceback ..."),),
            done_tasks=(("e:1", 1),),
        ),
    ),
    (
        "an error type the policy names as non-retryable (anywhere in the MRO) too",
        Waiting(steps={1: Retry(max_attempts=5, non_retryable=["Exception"])}),
        [failed()],
        Admitted(
            feed=(StepFailed(NOW, 1, "charge", 1, "ValueError", "bad card", "Traceback ..."),),
            done_tasks=(("e:1", 1),),
        ),
    ),
]

TIMER_CASES: list[tuple[str, Waiting, list[Input], Admitted]] = [
    (
        "a due timer the code waits for fires",
        Waiting(timers=frozenset({2})),
        [TimerDue(2)],
        Admitted(feed=(TimerFired(NOW, 2),), fired_timers=(2,)),
    ),
    (
        "a timer delivered twice (callback and poll) fires once",
        Waiting(timers=frozenset({2})),
        [TimerDue(2), TimerDue(2)],
        Admitted(feed=(TimerFired(NOW, 2),), fired_timers=(2,)),
    ),
    ("a timer nobody waits for does nothing", Waiting(), [TimerDue(2)], Admitted(feed=())),
    (
        "an external task's timeout timer fails its wait",
        Waiting(externals={7: EXTERNAL}),
        [TimerDue(8)],
        Admitted(
            feed=(
                ExternalTaskFailed(
                    NOW,
                    7,
                    error_type="States.Timeout",
                    message="the external task did not complete within its timeout",
                    timer=8,
                ),
            ),
            fired_timers=(8,),
        ),
    ),
    (
        "a heartbeat timer due before a heartbeat moved it on is ignored",
        Waiting(externals={7: ExternalTimers(None, 9, 500, NOW + 1)}),
        [TimerDue(9)],
        Admitted(feed=()),
    ),
    (
        "a heartbeat timer past its deadline fails the wait",
        Waiting(externals={7: EXTERNAL}),
        [TimerDue(9)],
        Admitted(
            feed=(
                ExternalTaskFailed(
                    NOW,
                    7,
                    error_type="States.HeartbeatTimeout",
                    message="no heartbeat within the heartbeat timeout",
                    timer=9,
                ),
            ),
            fired_timers=(9,),
        ),
    ),
]

MESSAGE_CASES: list[tuple[str, Waiting, list[Input], Admitted]] = [
    (
        "a signal is recorded whether or not the code waits for it",
        Waiting(),
        [message(40, InboxKind.SIGNAL, None, "go", '{"n":1}')],
        Admitted(feed=(SignalReceived(NOW, "go", '{"n":1}', 40),), consumed_inbox=(40,)),
    ),
    (
        "a message already recorded (a poll raced its commit) is skipped",
        Waiting(consumed=frozenset({40})),
        [message(40, InboxKind.SIGNAL, None, "go", None)],
        Admitted(feed=()),
    ),
    (
        "a child's start, completion and failure answer its command",
        Waiting(children=frozenset({3, 4, 5})),
        [
            message(41, InboxKind.CHILD, 3, ChildNotice.STARTED, "1234"),
            message(42, InboxKind.CHILD, 4, ChildNotice.COMPLETED, "42"),
            message(43, InboxKind.CHILD, 5, ChildNotice.FAILED, '{"error_type":"E","message":"m"}'),
        ],
        Admitted(
            feed=(
                ChildStarted(NOW, 3, 41, 1234),
                ChildCompleted(NOW, 4, "42", 42),
                ChildFailed(NOW, 5, 43, "E", "m"),
            ),
            consumed_inbox=(41, 42, 43),
        ),
    ),
    (
        "an id taken by another execution fails the child command",
        Waiting(children=frozenset({3})),
        [message(41, InboxKind.CHILD, 3, ChildNotice.CONFLICT, '{"workflow":"other"}')],
        Admitted(
            feed=(
                ChildFailed(
                    NOW,
                    3,
                    41,
                    "ExecutionAlreadyExists",
                    "an execution with this id already exists (workflow 'other') with a "
                    "different input, or as the child of another execution",
                ),
            ),
            consumed_inbox=(41,),
        ),
    ),
    (
        "a late child outcome is consumed without an event",
        Waiting(),
        [message(41, InboxKind.CHILD, 3, ChildNotice.COMPLETED, "42")],
        Admitted(feed=(), consumed_inbox=(41,)),
    ),
    (
        "a task token's success, then a second completion in the same batch",
        Waiting(externals={7: EXTERNAL}),
        [
            message(50, InboxKind.TASK_SUCCESS, 7, None, '"done"'),
            message(51, InboxKind.TASK_FAILURE, 7, None, '{"error":"E","cause":"c"}'),
        ],
        Admitted(feed=(ExternalTaskCompleted(NOW, 7, '"done"', 50),), consumed_inbox=(50, 51)),
    ),
    (
        "a task token's failure names its error, States.TaskFailed by default",
        Waiting(externals={7: EXTERNAL, 17: EXTERNAL}),
        [
            message(50, InboxKind.TASK_FAILURE, 7, None, '{"error":"Declined","cause":"no"}'),
            message(51, InboxKind.TASK_FAILURE, 17, None, "{}"),
        ],
        Admitted(
            feed=(
                ExternalTaskFailed(NOW, 7, inbox=50, error_type="Declined", message="no"),
                ExternalTaskFailed(NOW, 17, inbox=51, error_type="States.TaskFailed", message=""),
            ),
            consumed_inbox=(50, 51),
        ),
    ),
    (
        "a heartbeat re-arms the heartbeat timer once per decision",
        Waiting(externals={7: EXTERNAL}),
        [
            message(50, InboxKind.TASK_HEARTBEAT, 7, None, None),
            message(51, InboxKind.TASK_HEARTBEAT, 7, None, None),
        ],
        Admitted(
            feed=(
                ExternalTaskHeartbeat(NOW, 7, 50, NOW + 500),
                ExternalTaskHeartbeat(NOW, 7, 51, NOW + 500),
            ),
            rearmed_timers=((9, NOW + 500),),
            consumed_inbox=(50, 51),
        ),
    ),
    (
        "a timer of a wait settled earlier in the batch does nothing",
        Waiting(externals={7: EXTERNAL}),
        [message(50, InboxKind.TASK_SUCCESS, 7, None, "1"), TimerDue(8)],
        Admitted(feed=(ExternalTaskCompleted(NOW, 7, "1", 50),), consumed_inbox=(50,)),
    ),
]


@pytest.mark.parametrize(
    ("waits", "inputs", "expected"),
    [case[1:] for case in STEP_CASES + TIMER_CASES + MESSAGE_CASES],
    ids=[case[0] for case in STEP_CASES + TIMER_CASES + MESSAGE_CASES],
)
def test_admit(waits: Waiting, inputs: list[Input], expected: Admitted) -> None:
    assert admit(waits, inputs, NOW) == expected


step_ids = st.integers(1, 6)
outcomes = st.builds(
    lambda step, attempt, good: ok(step, attempt) if good else failed(step, attempt),
    step_ids,
    st.integers(1, 3),
    st.booleans(),
)


timer_ids = st.integers(11, 16)  # commands are numbered once: a timer is never also a step


@given(
    st.frozensets(step_ids | timer_ids),
    st.lists(outcomes | st.builds(TimerDue, timer_ids), max_size=12),
)
def test_only_what_is_waited_for_is_fed_or_consumed_and_each_once(
    waited: frozenset[int], inputs: list[Input]
) -> None:
    waits = Waiting(
        steps={s: TWICE for s in waited if s < 10}, timers=frozenset(t for t in waited if t > 10)
    )
    admitted = admit(waits, inputs, NOW)
    fed = [e.ref for e in admitted.feed if not isinstance(e, SignalReceived | CancelRequested)]
    refs = fed + [r.event.ref for r in admitted.retried]
    assert set(refs) <= waited
    assert len(refs) == len(set(refs))  # one verdict per command
    assert len(admitted.done_tasks) == len(set(admitted.done_tasks))
    assert admit(waits, inputs, NOW) == admitted  # pure: the same inputs, the same answer
