"""What happened to each state of a state machine execution, from its history: what the
graph of an execution colours its states by (``/v1/executions/{id}/graph``, the web UI).

A state is one of ``STATUSES``:

- ``not_reached``: never entered (in the live history: a redrive's void part left out);
- ``running``: entered and not yet left, the execution open;
- ``succeeded``: left every time it was entered, no attempt of it failed;
- ``failed``: an entry of it ended in an error that was not retried or caught (the state the
  execution failed on, a Fail state, a Choice no rule matched, and a Parallel or Map the error
  came out of), or it was still in it when the execution closed (cancelled, terminated, timed
  out, or a sibling branch failed the whole Parallel);
- ``caught``: left through one of its Catchers;
- ``retried``: succeeded, or still running, after at least one failed attempt was tried
  again: by its Retry, by the Retry of the Parallel it is in, or by a redrive that entered it
  again.

When a state is entered more than once (a loop, a Map's items), the first that applies of
failed, running (``retried`` if it was retried), caught, retried and succeeded is the state's.

How the history tells it (``engine/statemachine`` records a ``StateEntered`` and a
``StateExited`` per state, and a Task's attempt is a step, a child execution or a task token):
a Task's first attempt is the command right after its ``StateEntered`` (the interpreter does
not yield in between); a later attempt belongs to the entry waiting to retry, by the step's
name when several wait. Whether a failed attempt is retried, caught or fails the state is
decided as the interpreter decides it, with the same ``policies`` on the error name. A state
left through a Catcher is one whose next state entered (the very next command) is a Catch
target. Pure: the definition and the events in, a status per state out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from legato.core.asl import policies
from legato.core.asl.graph import Graph, graph
from legato.core.asl.resources import (
    Activity,
    StepResource,
    UnsupportedResource,
    activity_step,
    parse_resource,
)
from legato.core.events import (
    ChildCompleted,
    ChildFailed,
    ChildScheduled,
    Event,
    ExecutionCancelled,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionRedriven,
    ExecutionTerminated,
    ExecutionTimedOut,
    ExternalTaskCompleted,
    ExternalTaskFailed,
    ExternalTaskStarted,
    StateEntered,
    StateExited,
    StepCompleted,
    StepFailed,
    StepRetryScheduled,
    StepScheduled,
)
from legato.core.redrive import live_history

STATUSES = ("not_reached", "running", "succeeded", "failed", "caught", "retried")
_SYNC = ("Pass", "Choice", "Succeed", "Fail")  # entered and left with no wait in between
_CLOSES = (ExecutionCompleted, ExecutionFailed, ExecutionCancelled, ExecutionTerminated,
           ExecutionTimedOut)  # fmt: skip
_ATTEMPTS = (StepScheduled, ChildScheduled, ExternalTaskStarted)
_FAILURES = (StepFailed, ChildFailed, ExternalTaskFailed)
_SUCCESSES = (StepCompleted, ChildCompleted, ExternalTaskCompleted)


@dataclass(frozen=True, slots=True)
class StateProgress:
    status: str
    entered: int = 0  # times entered
    retries: int = 0  # failed attempts tried again (Retry, redrive)
    error: str | None = None  # the last error an attempt of it failed with

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "entered": self.entered, "retries": self.retries,
                "error": self.error}  # fmt: skip


@dataclass(slots=True)
class _Visit:
    """One entry into a state, and what came of it."""

    state: str
    ref: int  # its StateEntered command
    parent: _Visit | None  # the Parallel or Map entry it runs in
    attempts: int = 0
    retries: int = 0
    used: list[int] = field(default_factory=list)  # per Retrier, as the interpreter counts
    pending: str | None = None  # after a failed attempt: retry, catch or fail
    error: str | None = None
    exited: bool = False
    caught: bool = False
    failed: bool = False
    starts: int = 0  # a Parallel's attempts: its first branch started again
    round: int = 0  # in a Parallel: which of its attempts this entry belongs to


def progress(definition: Mapping[str, Any], history: Sequence[Event]) -> dict[str, StateProgress]:
    """Every state of ``definition`` (nested ones included), in the graph's order."""
    g = graph(dict(definition))
    tracker = _Tracker(g, _states(definition))
    tracker.walk(live_history(history))
    redriven = _redriven(history)
    return tracker.result(redriven)


def statuses(found: Mapping[str, StateProgress]) -> dict[str, str]:
    return {name: p.status for name, p in found.items()}


def taken(history: Sequence[Event]) -> set[tuple[str, str]]:
    """The transitions the execution took (live history): a state left and, as the very next
    command, the state it went to."""
    live = live_history(history)
    entered = {e.ref: e.state for e in live if isinstance(e, StateEntered)}
    return {
        (e.state, entered[e.ref + 1])
        for e in live
        if isinstance(e, StateExited) and e.ref + 1 in entered
    }


class _Tracker:
    def __init__(self, g: Graph, states: dict[str, Mapping[str, Any]]) -> None:
        self.g = g
        self.states = states
        self.types = {n.id: n.type for n in g.states}
        self.parents = {n.id: n.parent for n in g.states}
        self.first_branch = {
            e.source: e.target for e in reversed(g.edges) if e.kind in ("branch",)
        }  # a Parallel's first branch's start (edges are listed branch by branch)
        self.catch_to: dict[str, set[str]] = {}
        self.normal_to: dict[str, set[str]] = {}
        for e in g.edges:
            into = self.catch_to if e.kind == "catch" else self.normal_to
            into.setdefault(e.source, set()).add(e.target)
        self.visits: dict[str, list[_Visit]] = {}
        self.open: dict[str, dict[int, _Visit]] = {}  # entries not left nor failed, by ref
        self.retrying: dict[int, _Visit] = {}  # entries waiting for their next attempt
        self.seen: dict[int, str] = {}  # an entry's status, once worked out
        self.owner: dict[int, _Visit] = {}  # command ref -> the entry that issued it
        self.entered_at: dict[int, str] = {}  # StateEntered ref -> state
        self.attempt_kind: dict[int, type[Event]] = {}
        self.closed = False
        self.cause: int | None = None

    # --- the walk -------------------------------------------------------------------------------
    def walk(self, events: Iterable[Event]) -> None:
        events = list(events)
        for e in events:
            if isinstance(e, StateEntered):
                self.entered_at[e.ref] = e.state
        for e in events:
            if isinstance(e, StateEntered):
                self._enter(e)
            elif isinstance(e, StateExited):
                self._exit(e)
            elif isinstance(e, _ATTEMPTS):
                self._attempt(e)
            elif isinstance(e, _FAILURES):
                visit = self.owner.get(e.ref)
                if visit is not None:
                    self._failed(visit, e.error_type)
            elif isinstance(e, StepRetryScheduled):  # a step's own retry (not the machine's)
                visit = self.owner.get(e.ref)
                if visit is not None:
                    visit.retries += 1
                    visit.error = e.error_type
            elif isinstance(e, _SUCCESSES):
                visit = self.owner.get(e.ref)
                if visit is not None:
                    visit.pending = None
            elif isinstance(e, ExecutionRedriven):
                self.closed = False
                self.cause = None
            elif isinstance(e, _CLOSES):
                self.closed = True
                if isinstance(e, ExecutionFailed):
                    self.cause = e.cause_ref

    def _enter(self, e: StateEntered) -> None:
        parent_state = self.parents.get(e.state)
        parent = None
        if parent_state is not None:
            inside = self.open.get(parent_state)
            parent = next(reversed(inside.values())) if inside else None
        visit = _Visit(e.state, e.ref, parent)
        if self.types.get(e.state) == "Fail":
            visit.failed = True
        if parent is not None and self.first_branch.get(parent.state) == e.state:
            parent.starts += 1
        if parent is not None:
            visit.round = parent.starts
        self.visits.setdefault(e.state, []).append(visit)
        if not visit.failed:
            self.open.setdefault(e.state, {})[e.ref] = visit
        self.owner[e.ref] = visit

    def _attempt(self, e: StepScheduled | ChildScheduled | ExternalTaskStarted) -> None:
        ref = e.ref
        self.attempt_kind[ref] = type(e)
        before = self.entered_at.get(ref - 1)
        if before is not None:  # the first attempt of the state just entered
            visit = self.owner[ref - 1]
            visit.attempts += 1
            self.owner[ref] = visit
            return
        for back in range(1, 4):  # a token's hand-off step: part of that attempt
            earlier = self.owner.get(ref - back)
            if earlier is not None and self.attempt_kind.get(ref - back) is ExternalTaskStarted:
                if isinstance(e, StepScheduled):
                    self.owner[ref] = earlier
                    return
                break
        waiting = list(self.retrying.values())
        if len(waiting) > 1 and isinstance(e, StepScheduled):
            named = [v for v in waiting if self._step_of(v.state) == e.name]
            waiting = named or waiting
        if waiting:
            visit = waiting[0]
            visit.attempts += 1
            visit.pending = None
            del self.retrying[visit.ref]
            self.owner[ref] = visit

    def _failed(self, visit: _Visit, error: str) -> None:
        visit.error = error
        state = self.states.get(visit.state, {})
        retriers = _list(state.get("Retry"))
        if len(visit.used) < len(retriers):
            visit.used = [0] * len(retriers)
        i = policies.first_match(retriers, error)
        if i is not None and visit.used[i] < policies.max_attempts(retriers[i]):
            visit.used[i] += 1
            visit.retries += 1
            visit.pending = "retry"
            self.retrying[visit.ref] = visit
        elif policies.first_match(_list(state.get("Catch")), error) is not None:
            visit.pending = "catch"
        else:
            visit.pending = "fail"
            visit.failed = True
            self.open.get(visit.state, {}).pop(visit.ref, None)

    def _exit(self, e: StateExited) -> None:
        inside = self.open.get(e.state)
        if not inside:
            return
        after = self.entered_at.get(e.ref + 1)  # the next state, entered in the same breath
        by_catch = (after is not None and after in self.catch_to.get(e.state, set())
                    and after not in self.normal_to.get(e.state, set()))  # fmt: skip
        first = next(iter(inside.values()))
        if by_catch:
            visit = next((v for v in inside.values() if v.pending == "catch"), first)
        else:
            visit = first if first.pending != "catch" else next(
                (v for v in inside.values() if v.pending != "catch"), first
            )  # fmt: skip
        del inside[visit.ref]
        visit.exited = True
        visit.caught = by_catch or visit.pending == "catch"
        visit.pending = None

    # --- the statuses ---------------------------------------------------------------------------
    def result(self, redriven: Mapping[str, int]) -> dict[str, StateProgress]:
        out: dict[str, StateProgress] = {}
        for node in self.g.states:
            visits = self.visits.get(node.id, [])
            kinds = [self._status(v) for v in visits]
            retries = sum(v.retries + max(0, v.starts - 1) for v in visits)
            for i, v in enumerate(visits):  # failed in a Parallel's attempt that was retried
                if kinds[i] == "failed" and v.parent is not None and v.parent.starts > v.round:
                    kinds[i] = "retried-away"
                    retries += 1
            retries += redriven.get(node.id, 0)
            error = next((v.error for v in reversed(visits) if v.error), None)
            if not visits:
                status = "not_reached"
            elif "failed" in kinds:
                status = "failed"
            elif "running" in kinds:
                status = "retried" if retries else "running"
            elif "caught" in kinds:
                status = "caught"
            else:  # succeeded; or failed, and its Parallel tried it again
                status = "retried" if retries else "succeeded"
            out[node.id] = StateProgress(status, len(visits), retries, error)
        return out

    def _status(self, v: _Visit) -> str:
        known = self.seen.get(v.ref)
        if known is None:
            known = self.seen[v.ref] = self._work_out(v)
        return known

    def _work_out(self, v: _Visit) -> str:
        if v.exited:
            return "caught" if v.caught else "succeeded"
        if v.failed or v.ref == self.cause or self.types.get(v.state) in _SYNC:
            return "failed"
        if self.closed or (v.parent is not None and self._status(v.parent) != "running"):
            return "failed"  # stopped: the execution closed, or its Parallel or Map did
        return "running"

    def _step_of(self, state: str) -> str | None:
        resource = self.states.get(state, {}).get("Resource")
        if not isinstance(resource, str):
            return None
        try:
            parsed = parse_resource(resource)
        except UnsupportedResource:
            return None
        if isinstance(parsed, StepResource):
            return parsed.name
        if isinstance(parsed, Activity):
            return activity_step(parsed.name)
        return None


def _redriven(history: Sequence[Event]) -> dict[str, int]:
    """How many times a redrive entered each state again (the state its failure voided)."""
    entered = {e.seq: e.state for e in history if isinstance(e, StateEntered)}
    counts: dict[str, int] = {}
    for e in history:
        if isinstance(e, ExecutionRedriven) and e.void_from in entered:
            name = entered[e.void_from]
            counts[name] = counts.get(name, 0) + 1
    return counts


def _states(definition: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every state's fields by name, nested ones included."""
    found: dict[str, Mapping[str, Any]] = {}
    todo: list[Mapping[str, Any]] = [definition]
    while todo:
        scope = todo.pop()
        states = scope.get("States")
        if not isinstance(states, Mapping):
            continue
        for name, state in states.items():
            if not isinstance(state, Mapping):
                continue
            found[str(name)] = state
            todo += [b for b in _list(state.get("Branches")) if isinstance(b, Mapping)]
            for key in ("ItemProcessor", "Iterator"):
                inner = state.get(key)
                if isinstance(inner, Mapping):
                    todo.append(inner)
    return found


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
