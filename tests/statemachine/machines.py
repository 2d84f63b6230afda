"""Small builders for the state machine definitions the end-to-end tables run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from legato.core.events import Event, TimerStarted

State = dict[str, Any]


def single(state: State, **top: Any) -> dict[str, Any]:
    """A machine of one state ``S`` that ends the execution (unless it is a Choice or Fail)."""
    body = dict(state)
    if body["Type"] not in ("Choice", "Succeed", "Fail") and "Next" not in body:
        body["End"] = True
    return {"StartAt": "S", "States": {"S": body}, **top}


def chain(*states: tuple[str, State], **top: Any) -> dict[str, Any]:
    """A machine whose states run in the order given: each gets ``Next`` to the one after it
    (unless it already names one), the last ``End``."""
    out: dict[str, Any] = {}
    for i, (name, state) in enumerate(states):
        body = dict(state)
        terminal = body["Type"] in ("Choice", "Succeed", "Fail") or "Next" in body
        if not terminal and "End" not in body:
            if i + 1 < len(states):
                body["Next"] = states[i + 1][0]
            else:
                body["End"] = True
        out[name] = body
    return {"StartAt": states[0][0], "States": out, **top}


def timer_delays(history: list[Event]) -> list[float]:
    """Seconds each durable timer waited: its ``fire_at`` minus the time it was started."""
    return [(e.fire_at - e.ts) / 1000 for e in history if isinstance(e, TimerStarted)]


def timer_fire_times(history: list[Event]) -> list[datetime]:
    """The instant each durable timer was set to fire at."""
    return [
        datetime.fromtimestamp(e.fire_at / 1000, tz=UTC)
        for e in history
        if isinstance(e, TimerStarted)
    ]
