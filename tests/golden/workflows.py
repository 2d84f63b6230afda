"""The app whose executions are recorded as golden histories (``tests/golden/histories/``).

``record.py`` runs each workflow here once and exports its history; ``test_golden_histories``
replays those files against this module, so a change to replay or to the history format fails
CI. The workflows are deterministic: replaying a recorded history issues exactly the recorded
commands. Changing one of them (what it calls, in which order, what it waits for) breaks its
golden history, which is the point; re-record only with a deliberate history-format change.

Code workflows: ``checkout`` (sequential steps, a dataclass argument, a pydantic result),
``retries`` (a retry that succeeds, a step that fails for good and is caught), ``fan_out``
(a durable sleep, then ``ctx.gather``), ``approval`` (a signal, and a signal wait that times
out), ``family`` (``ctx.child``, a child that fails, ``ctx.start_child``), ``callbacks``
(external tasks completed, failed and timed out), ``draws`` (``ctx.now()``, ``ctx.uuid()`` and
``ctx.random()`` choosing what runs). State machines (``machines/*.asl.yaml``): ``pricing``,
``payment``, ``packing``, ``stocking``, ``review`` and ``refusal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import legato

app = legato.App()

MACHINES = Path(__file__).parent / "machines"


@dataclass(frozen=True)
class Order:
    id: str
    items: list[str]
    total: int


@dataclass(frozen=True)
class Payment:
    order_id: str
    amount: int
    reference: str


class Receipt(BaseModel):
    order_id: str
    reservation: str
    payment: Payment


# --- steps ------------------------------------------------------------------------------------
@app.step(name="reserve")
async def reserve(order_id: str, items: list[str]) -> str:
    return f"res-{order_id}-{len(items)}"


@app.step(name="charge")
async def charge(order_id: str, amount: int) -> Payment:
    return Payment(order_id, amount, f"pay-{order_id}")


class GatewayBusy(Exception):
    pass


class RefundWindowClosed(Exception):
    pass


@app.step(name="confirm", retry=legato.Retry(max_attempts=3, initial=2.0))
async def confirm(order_id: str) -> str:
    attempt = legato.step_context().attempt
    if attempt == 1:  # fails once, succeeds on the retry: StepRetryScheduled, StepCompleted
        raise GatewayBusy("the gateway is busy")
    return f"confirmed {order_id} on attempt {attempt}"


@app.step(name="refund", retry=legato.Retry(max_attempts=2, initial=5.0))
async def refund(order_id: str) -> str:
    raise RefundWindowClosed(f"order {order_id}: the refund window has closed")


@app.step(name="pack")
async def pack(order_id: str, item: str) -> str:
    return f"{order_id}/{item}"


@app.step(name="request_approval")
async def request_approval(order_id: str) -> str:
    return f"approval requested for {order_id}"


@app.step(name="record_decision")
async def record_decision(order_id: str, approved: bool) -> str:
    return f"{order_id}: {'approved' if approved else 'declined'}"


@app.step(name="total_of")
async def total_of(order: Order) -> int:
    return order.total


@app.step(name="send_notice")
async def send_notice(order_id: str) -> str:
    return f"notified about {order_id}"


@app.step(name="hand_out")
async def hand_out(order_id: str, token: str) -> str:
    """Gives a task token to the outside world (the recorder reads it from the history)."""
    return f"{order_id}: token handed out"


@app.step(name="lane_a")
async def lane_a(value: str) -> str:
    return f"a:{value}"


@app.step(name="lane_b")
async def lane_b(value: str) -> str:
    return f"b:{value}"


@app.step(name="lane_c")
async def lane_c(value: str) -> str:
    return f"c:{value}"


@app.step(name="on_time")
async def on_time(started: str) -> str:
    return f"on time after {started}"


@app.step(name="too_early")
async def too_early(started: str) -> str:
    return f"too early after {started}"


LANES = ("lane_a", "lane_b", "lane_c")


# --- steps of the state machines (Task resources: one JSON argument) ------------------------
@app.step(name="price")
async def price(event: dict[str, Any]) -> dict[str, Any]:
    return {"total": 40 * int(event["quantity"])}


class CarrierDown(Exception):
    pass


@app.step(name="sm_charge")
async def sm_charge(event: dict[str, Any]) -> dict[str, Any]:
    if event["retry"] == 0:
        raise GatewayBusy("the gateway is busy")
    return {"charged": event["order"], "retries": event["retry"]}


@app.step(name="sm_ship")
async def sm_ship(event: dict[str, Any]) -> dict[str, Any]:
    raise CarrierDown("no carrier answers")


@app.step(name="weigh")
async def weigh(event: dict[str, Any]) -> dict[str, Any]:
    return {"grams": 250 * len(event["items"])}


@app.step(name="stock")
async def stock(event: dict[str, Any]) -> dict[str, Any]:
    return {"sku": event["sku"], "line": event["index"], "in_stock": True}


@app.step(name="ask_reviewer")
async def ask_reviewer(event: dict[str, Any]) -> str:
    return f"asked about order {event['order']}"  # the state's result is the callback's output


for _machine in ("pricing", "payment", "packing", "stocking", "review", "refusal"):
    app.register_state_machine(_machine, MACHINES / f"{_machine}.asl.yaml")


# --- code workflows ---------------------------------------------------------------------------
@app.workflow(name="checkout", version="1")
async def checkout(ctx: legato.Context, order: Order) -> Receipt:
    reservation: str = await ctx.step(reserve, order.id, order.items)
    payment: Payment = await ctx.step(charge, order.id, order.total)
    return Receipt(order_id=order.id, reservation=reservation, payment=payment)


@app.workflow(name="retries", version="1")
async def retries(ctx: legato.Context, order_id: str) -> dict[str, str]:
    confirmed: str = await ctx.step(confirm, order_id)
    try:
        refunded: str = await ctx.step(refund, order_id)
    except legato.StepFailed as exc:
        refunded = f"{exc.error_type} after {exc.attempts} attempts: {exc.message}"
    return {"confirmed": confirmed, "refunded": refunded}


@app.workflow(name="fan_out", version="1")
async def fan_out(ctx: legato.Context, order: Order) -> list[str]:
    await ctx.sleep(timedelta(hours=1))
    parcels: list[str] = await ctx.gather(*(ctx.step(pack, order.id, i) for i in order.items))
    return parcels


@app.workflow(name="approval", version="1")
async def approval(ctx: legato.Context, order_id: str) -> dict[str, Any]:
    await ctx.step(request_approval, order_id)
    decision = await ctx.wait_for_signal("decision")
    recorded: str = await ctx.step(record_decision, order_id, bool(decision["approved"]))
    reminder = await ctx.wait_for_signal("reminder", timeout=timedelta(minutes=30))  # none comes
    return {"decision": decision, "recorded": recorded, "reminder": reminder}


@app.workflow(name="invoice", version="1")
async def invoice(ctx: legato.Context, order: Order) -> int:
    total: int = await ctx.step(total_of, order)
    return total


@app.workflow(name="notify", version="1")
async def notify(ctx: legato.Context, order_id: str) -> str:
    sent: str = await ctx.step(send_notice, order_id)
    return sent


@app.workflow(name="family", version="1")
async def family(ctx: legato.Context, order: Order) -> dict[str, Any]:
    total: int = await ctx.child(invoice, order, id=f"{ctx.execution_id}-invoice")
    try:
        await ctx.child("refusal", {"total": -order.total})  # a state machine; fails
        refused = "accepted"
    except legato.ChildFailed as exc:
        refused = f"{exc.error_type}: {exc.message}"
    ref: legato.ChildRef = await ctx.start_child(notify, order.id)  # id: {parent id}/3
    return {"total": total, "refused": refused, "notify": ref.id}


@app.workflow(name="callbacks", version="1")
async def callbacks(ctx: legato.Context, order_id: str) -> dict[str, Any]:
    approved, token = ctx.external_task()
    await ctx.step(hand_out, order_id, token)
    answer = await approved  # heartbeated, then app.send_task_success
    rejected, token = ctx.external_task()
    await ctx.step(hand_out, order_id, token)
    try:
        await rejected  # app.send_task_failure
        failure = "none"
    except legato.ExternalTaskFailed as exc:
        failure = f"{exc.error_type}: {exc.message}"
    expired, _ = ctx.external_task(timeout=timedelta(hours=4))  # nobody answers
    try:
        await expired
        timeout = "none"
    except legato.ExternalTaskFailed as exc:
        timeout = exc.error_type
    return {"answer": answer, "failure": failure, "timeout": timeout}


@app.workflow(name="draws", version="1")
async def draws(ctx: legato.Context) -> dict[str, str]:
    """What runs depends on the recorded-safe values: a replay that drew a different uuid or
    random number, or saw another time, would call other steps and fail."""
    started = ctx.now()
    key = ctx.uuid()
    roll = ctx.random()
    first: str = await ctx.step(LANES[key.int % 3], str(key))
    second: str = await ctx.step(LANES[int(roll * 3)], f"{roll:.6f}")
    await ctx.sleep(timedelta(hours=1))
    # ctx.now() is now the time the timer fired: an hour after ``started``, on every replay
    late = ctx.now() - started >= timedelta(hours=1)
    third: str = await ctx.step(on_time if late else too_early, started.isoformat())
    return {"first": first, "second": second, "third": third}


# --- operating executions: sagas, cancel, terminate, timeouts, redrive -----------------------
@app.step(name="hold_room")
async def hold_room(order_id: str) -> str:
    return f"room for {order_id}"


@app.step(name="free_room")
async def free_room(order_id: str) -> str:
    return f"room freed for {order_id}"


@app.step(name="book_taxi", retry=legato.Retry(max_attempts=1))
async def book_taxi(order_id: str) -> str:
    raise legato.NonRetryableError(f"no taxi for {order_id}")


@app.step(name="tidy_up")
async def tidy_up(order_id: str) -> str:
    return f"tidied {order_id}"


#: Flipped by the recorder between the failure and the redrive of ``redriven``.
REDRIVE_FIXED = {"yes": False}


@app.step(name="flaky_lookup", retry=legato.Retry(max_attempts=1))
async def flaky_lookup(order_id: str) -> str:
    if not REDRIVE_FIXED["yes"]:
        raise RuntimeError("lookup service down")
    return f"found {order_id}"


@app.workflow(name="booking", version="1")
async def booking(ctx: legato.Context, order_id: str) -> str:
    """A saga: the taxi fails for good, so the held room is freed."""
    await ctx.step(hold_room, order_id, compensate=free_room)
    taxi: str = await ctx.step(book_taxi, order_id)
    return taxi


@app.workflow(name="cancelled", version="1")
async def cancelled(ctx: legato.Context, order_id: str) -> Any:
    try:
        return await ctx.wait_for_signal("never")
    except legato.Cancelled:
        await ctx.step(tidy_up, order_id)
        raise


@app.workflow(name="terminated", version="1")
async def terminated(ctx: legato.Context, order_id: str) -> Any:
    return await ctx.wait_for_signal("never")


@app.workflow(name="timed_out", version="1", timeout=timedelta(hours=1))
async def timed_out(ctx: legato.Context, order_id: str) -> str:
    await ctx.sleep(timedelta(days=1))
    return "too late"


@app.workflow(name="redriven", version="1")
async def redriven(ctx: legato.Context, order_id: str) -> str:
    found: str = await ctx.step(flaky_lookup, order_id)
    return found
