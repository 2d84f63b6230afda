"""Golden histories: every recorded execution in ``histories/`` still replays against
``tests/golden/workflows.py`` and still reads and writes as the same JSON; changed code over
those histories is reported as non-determinism naming the command.

A failure here means a change to replay or to the history format would break the histories
of executions already running (or already exported). ``record.py`` says when re-recording is
the right answer (rarely).
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import legato
from legato.core.events import EventType
from legato.core.export import export_history, import_history
from legato.testing import replay
from tests.golden import workflows
from tests.golden.workflows import MACHINES, Order, Payment, Receipt, app

HISTORIES = Path(__file__).parent / "histories"
FILES = sorted(HISTORIES.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HISTORIES / f"{name}.json").read_text())
    return data


def test_there_is_a_golden_history_for_every_workflow() -> None:
    recorded = {load(path.stem)["workflow"] for path in FILES}
    assert recorded == {name for name, _ in app.registry.workflows}


def test_the_golden_histories_hold_every_kind_of_event_but_suspensions() -> None:
    kinds = {event["type"] for path in FILES for event in load(path.stem)["events"]}
    suspensions = {EventType.EXECUTION_SUSPENDED, EventType.EXECUTION_RESUMED}
    assert kinds == {kind.value for kind in EventType} - suspensions


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_golden_history_replays_against_the_current_code(path: Path) -> None:
    report = replay(app, [path])
    report.raise_for_failures()
    assert report.failures == []
    assert [r.ok for r in report.results] == [True]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_golden_history_imports_and_exports_as_the_same_json(path: Path) -> None:
    """The replayer ignores timestamps, payloads and most of ``meta``; the export format
    does not: importing and exporting again gives back the file, byte for byte."""
    text = path.read_text()
    data = json.loads(text)
    again = export_history(*import_history(data))
    assert again.keys() == data.keys()
    assert len(again["events"]) == len(data["events"])
    for exported, recorded in zip(again["events"], data["events"], strict=True):
        assert exported == recorded, f"event seq {recorded.get('seq')} no longer round-trips"
    assert again == data
    assert json.dumps(again, indent=2) + "\n" == text  # the key order and layout too


# --- changed code over the recorded histories -------------------------------------------------
changed = legato.App()  # workflows of the same names and versions that now do something else


@changed.workflow(name="checkout", version="1")
async def checkout_charges_first(ctx: legato.Context, order: Order) -> Receipt:
    payment: Payment = await ctx.step(workflows.charge, order.id, order.total)
    reservation: str = await ctx.step(workflows.reserve, order.id, order.items)
    return Receipt(order_id=order.id, reservation=reservation, payment=payment)


@changed.workflow(name="retries", version="1")
async def retries_no_refund(ctx: legato.Context, order_id: str) -> dict[str, str]:
    confirmed: str = await ctx.step(workflows.confirm, order_id)
    return {"confirmed": confirmed}


@changed.workflow(name="fan_out", version="1")
async def fan_out_packs_before_sleeping(ctx: legato.Context, order: Order) -> list[str]:
    parcels: list[str] = await ctx.gather(
        *(ctx.step(workflows.pack, order.id, item) for item in order.items)
    )
    await ctx.sleep(timedelta(hours=1))
    return parcels


@changed.workflow(name="approval", version="1")
async def approval_waits_without_timeout(ctx: legato.Context, order_id: str) -> dict[str, Any]:
    await ctx.step(workflows.request_approval, order_id)
    decision = await ctx.wait_for_signal("decision")
    recorded = await ctx.step(workflows.record_decision, order_id, bool(decision["approved"]))
    reminder = await ctx.wait_for_signal("reminder")
    return {"decision": decision, "recorded": recorded, "reminder": reminder}


@changed.workflow(name="family", version="1")
async def family_notifies_first(ctx: legato.Context, order: Order) -> dict[str, Any]:
    ref: legato.ChildRef = await ctx.start_child(workflows.notify, order.id)
    total: int = await ctx.child(workflows.invoice, order, id=f"{ctx.execution_id}-invoice")
    return {"total": total, "notify": ref.id}


@changed.workflow(name="callbacks", version="1")
async def callbacks_sleeps_instead(ctx: legato.Context, order_id: str) -> dict[str, Any]:
    await ctx.sleep(timedelta(hours=4))
    return {}


def _renamed_price_state() -> dict[str, Any]:
    definition: dict[str, Any] = yaml.safe_load((MACHINES / "pricing.asl.yaml").read_text())
    states = definition["States"]
    states["Quote"] = states.pop("Price")
    states["Prepare"]["Next"] = "Quote"
    return definition


changed.register_state_machine("pricing", _renamed_price_state())


NON_DETERMINISTIC = [
    # history, where replay stops, what the history recorded there, what the code now does
    ("checkout", "command #1", "step 'reserve'", "step 'charge'"),
    ("retries", "command #2", "step 'refund'", "return from the workflow"),
    ("fan_out", "command #1", "a timer (ctx.sleep)", "step 'pack'"),
    (
        "approval",
        "command #3",
        "a timer (signal timeout)",
        "nothing (the code no longer issues it)",
    ),
    ("family", "command #1", "child workflow 'invoice'", "child workflow 'notify'"),
    ("callbacks", "command #1", "an external task (ctx.external_task)", "a timer (ctx.sleep)"),
    ("pricing", "command #3", "entering state 'Price'", "entering state 'Quote'"),
]


@pytest.mark.parametrize(("name", "step", "recorded", "now"), NON_DETERMINISTIC)
def test_changed_code_over_a_golden_history_is_non_determinism(
    name: str, step: str, recorded: str, now: str
) -> None:
    report = replay(changed, [HISTORIES / f"{name}.json"])
    [result] = report.failures
    assert (result.execution_id, result.workflow, result.version) == (name, name, "1")
    assert result.problem is None
    error = result.error
    assert isinstance(error, legato.NonDeterminismError)
    assert (error.step, error.recorded, error.now) == (step, recorded, now)


def test_the_report_names_the_execution_and_the_command() -> None:
    report = replay(changed, [HISTORIES / "checkout.json", HISTORIES / "draws.json"])
    assert [r.ok for r in report.results] == [False, False]  # ``draws`` is not registered
    with pytest.raises(AssertionError) as failed:
        report.raise_for_failures()
    assert str(failed.value).splitlines() == [
        "replay found incompatible histories:",
        "checkout (checkout v1): non-determinism at command #1: the history recorded "
        "step 'reserve', the code now does step 'charge'",
        "draws (draws v1): workflow 'draws' version '1' is not registered",
    ]


def test_replay_draws_the_recorded_values_from_the_execution_id() -> None:
    """``ctx.uuid()`` and ``ctx.random()`` are seeded by the execution id: the same history
    under another id draws other values, and ``draws`` then calls another step."""
    history = load("draws")
    assert replay(app, [history]).failures == []
    history["execution_id"] = "draws-2"
    [result] = replay(app, [history]).failures
    assert result.error is not None
    assert (result.error.step, result.error.recorded, result.error.now) == (
        "command #1",
        "step 'lane_a'",
        "step 'lane_c'",
    )


def test_replay_reads_ctx_now_from_the_recorded_events() -> None:
    """``draws`` checks ``ctx.now()`` after its one-hour sleep: a history whose timer fired
    early (an edited timestamp) makes the code take the other branch."""
    history = copy.deepcopy(load("draws"))
    events = history["events"]
    fired = next(e for e in events if e["type"] == "TimerFired")
    fired["ts"] = events[0]["ts"] + 1000
    [result] = replay(app, [history]).failures
    assert result.error is not None
    assert (result.error.step, result.error.recorded, result.error.now) == (
        "command #4",
        "step 'on_time'",
        "step 'too_early'",
    )


@pytest.mark.parametrize("name", ["checkout", "pricing"])
def test_a_history_of_a_workflow_the_app_lacks_is_a_problem(name: str) -> None:
    report = replay(legato.App(), [HISTORIES / f"{name}.json"])
    [result] = report.results
    assert not result.ok
    assert result.error is None
    assert result.problem == f"workflow {name!r} version '1' is not registered"


def test_a_history_of_another_version_is_a_problem() -> None:
    newer = legato.App()

    @newer.workflow(name="checkout", version="2")
    async def checkout_v2(ctx: legato.Context, order: Order) -> str:
        return order.id

    [result] = replay(newer, [HISTORIES / "checkout.json"]).failures
    assert result.problem == "workflow 'checkout' version '1' is not registered"
