"""Pydantic models and dataclasses cross steps and workflows as JSON and come back as the
annotated types."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pydantic
import pytest

import legato
from legato.testing import WorkflowEnvironment


class Item(pydantic.BaseModel):
    sku: str
    qty: int


class Order(pydantic.BaseModel):
    id: str
    items: list[Item]
    placed: datetime
    note: str | None = None


@dataclasses.dataclass
class Money:
    amount: Decimal
    currency: str


@dataclasses.dataclass
class Receipt:
    order_id: str
    total: Money
    lines: dict[str, int]
    at: datetime


PLACED = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
ORDER = Order(id="o-1", items=[Item(sku="pen", qty=2), Item(sku="ink", qty=1)], placed=PLACED)


def build() -> tuple[legato.App, Any, list[str]]:
    app = legato.App(cache_size=1)
    seen: list[str] = []

    @app.step(name="price")
    async def price(order: Order, unit: Money) -> Receipt:
        seen.append(
            f"step got {type(order).__name__}, {type(order.items[0]).__name__}, "
            f"{type(unit).__name__}, {type(unit.amount).__name__}, {type(order.placed).__name__}"
        )
        qty = sum(i.qty for i in order.items)
        return Receipt(
            order.id,
            Money(unit.amount * qty, unit.currency),
            {i.sku: i.qty for i in order.items},
            order.placed,
        )

    @app.step(name="sync_summary")
    def sync_summary(receipts: list[Receipt]) -> dict[str, Money]:
        seen.append(f"sync step got {type(receipts[0]).__name__}")
        return {r.order_id: r.total for r in receipts}

    @app.workflow(name="checkout")
    async def checkout(ctx: legato.Context, order: Order, unit: Money) -> Receipt:
        seen.append(f"workflow got {type(order).__name__}, {type(unit).__name__}")
        receipt = await ctx.step(price, order, unit)
        seen.append(f"workflow got back {type(receipt).__name__}, {type(receipt.total).__name__}")
        summary = await ctx.step(sync_summary, [receipt])
        seen.append(f"workflow got back {type(summary['o-1']).__name__}")
        return receipt  # type: ignore[no-any-return]

    return app, checkout, seen


async def test_models_and_dataclasses_round_trip(any_db_url: str) -> None:
    app, checkout, seen = build()
    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(checkout, ORDER, Money(Decimal("1.25"), "EUR"))
        receipt = await handle.result()

    assert isinstance(receipt, Receipt)
    assert isinstance(receipt.total, Money)
    assert receipt == Receipt("o-1", Money(Decimal("3.75"), "EUR"), {"pen": 2, "ink": 1}, PLACED)
    assert "step got Order, Item, Money, Decimal, datetime" in seen
    assert "workflow got back Receipt, Money" in seen
    assert "sync step got Receipt" in seen
    assert "workflow got back Money" in seen
    assert set(s for s in seen if s.startswith("workflow got ")) <= {
        "workflow got Order, Money",
        "workflow got back Receipt, Money",
        "workflow got back Money",
    }


async def test_plain_json_input_is_validated_into_the_annotated_types(any_db_url: str) -> None:
    app, checkout, _ = build()
    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(
            checkout,
            {
                "id": "o-1",
                "items": [{"sku": "pen", "qty": "2"}, {"sku": "ink", "qty": 1}],
                "placed": "2030-05-06T07:08:09Z",
            },
            unit={"amount": "1.25", "currency": "EUR"},
        )
        receipt = await handle.result()
    assert receipt == Receipt("o-1", Money(Decimal("3.75"), "EUR"), {"pen": 2, "ink": 1}, PLACED)


@pytest.mark.parametrize("client_only", [False, True], ids=["engine", "client-only"])
async def test_input_that_does_not_validate_is_rejected_at_start(
    any_db_url: str, client_only: bool
) -> None:
    app, checkout, _ = build()
    app.configure(url=any_db_url)
    bad = {"id": "o-1", "items": [{"sku": "pen"}], "placed": "not a date"}
    if client_only:
        with pytest.raises(pydantic.ValidationError):
            await app.start(checkout, bad, Money(Decimal(1), "EUR"), id="bad")
        assert await app.list_executions() == []
        await app.shutdown()
    else:
        async with app:
            with pytest.raises(pydantic.ValidationError):
                await app.start(checkout, bad, Money(Decimal(1), "EUR"), id="bad")
            assert await app.list_executions() == []


async def test_step_result_that_does_not_match_its_annotation_is_a_step_failure(
    any_db_url: str,
) -> None:
    app = legato.App()

    @app.step(name="lying")
    async def lying() -> Money:
        return {"amount": "lots", "currency": "EUR"}  # type: ignore[return-value]

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[Any]:
        try:
            await ctx.step(lying)
        except legato.StepFailed as exc:
            return [exc.step, exc.error_type]
        return []

    async with WorkflowEnvironment(app, url=any_db_url):
        assert await (await app.start(wf)).result() == ["lying", "ValidationError"]
