"""Map states end to end (ASL spec, "Map State"; developer guide, "Map workflow state",
"ItemsPath", "ItemSelector", "ItemBatcher", "Tolerated failure threshold")."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import chain

ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}


def _map(**fields: Any) -> dict[str, Any]:
    return chain(("M", {"Type": "Map", "ItemProcessor": ECHO, **fields}))


# ASL spec, "Map State": the example input.
SHIPMENT = {
    "ship-date": "2016-03-14T01:59:00Z",
    "detail": {
        "delivery-partner": "UQS",
        "shipped": [
            {"prod": "R31", "dest-code": 9511, "quantity": 1344},
            {"prod": "S39", "dest-code": 9511, "quantity": 40},
            {"prod": "R31", "dest-code": 9833, "quantity": 12},
            {"prod": "R40", "dest-code": 9860, "quantity": 887},
            {"prod": "R40", "dest-code": 9511, "quantity": 1220},
        ],
    },
}


async def test_spec_example() -> None:
    # ASL spec, "Map State": the Validate-All example. Each iteration's input is
    # {"parcel": <item>, "courier": "UQS"} (ItemSelector with $$.Map.Item.Value over the
    # effective input "$.detail"), and ResultPath "$.detail.shipped" puts the array of
    # iteration outputs back into the raw input.
    seen: list[Any] = []

    def ship_val(parcel: dict[str, Any]) -> dict[str, Any]:
        seen.append(parcel)
        return {"valid": True, "prod": parcel["parcel"]["prod"]}

    definition = {
        "StartAt": "Validate-All",
        "States": {
            "Validate-All": {
                "Type": "Map",
                "InputPath": "$.detail",
                "ItemsPath": "$.shipped",
                "MaxConcurrency": 0,
                "ItemSelector": {
                    "parcel.$": "$$.Map.Item.Value",
                    "courier.$": "$.delivery-partner",
                },
                "ItemProcessor": {
                    "StartAt": "Validate",
                    "States": {
                        "Validate": {
                            "Type": "Task",
                            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:ship-val",
                            "End": True,
                        }
                    },
                },
                "ResultPath": "$.detail.shipped",
                "End": True,
            }
        },
    }
    r = await run_state_machine(definition, SHIPMENT, steps={"ship-val": ship_val})
    assert r.status == "COMPLETED", (r.error, r.cause)
    shipped = SHIPMENT["detail"]["shipped"]  # type: ignore[index]
    assert sorted(seen, key=lambda p: shipped.index(p["parcel"])) == [
        {"parcel": item, "courier": "UQS"} for item in shipped
    ]
    assert r.output == {
        "ship-date": "2016-03-14T01:59:00Z",
        "detail": {
            "delivery-partner": "UQS",
            "shipped": [{"valid": True, "prod": item["prod"]} for item in shipped],
        },
    }


@pytest.mark.parametrize(
    ("fields", "given", "expected"),
    [
        # ASL spec, "Map State": ItemsPath defaults to "$" (the effective input is the array).
        ({}, [1, 2, 3], [1, 2, 3]),
        # ASL spec, "Map State": ItemsPath selects the array in the effective input.
        ({"ItemsPath": "$.list"}, {"list": ["a", "b"]}, ["a", "b"]),
        # ASL spec, "Map State": an empty array gives an empty result.
        ({"ItemsPath": "$.list"}, {"list": []}, []),
        # Developer guide, "Context object", Map example: ItemSelector with
        # $$.Map.Item.Index and $$.Map.Item.Value.
        (
            {
                "ItemSelector": {
                    "ContextIndex.$": "$$.Map.Item.Index",
                    "ContextValue.$": "$$.Map.Item.Value",
                }
            },
            [{"who": "bob"}, {"who": "meg"}, {"who": "joe"}],
            [
                {"ContextIndex": 0, "ContextValue": {"who": "bob"}},
                {"ContextIndex": 1, "ContextValue": {"who": "meg"}},
                {"ContextIndex": 2, "ContextValue": {"who": "joe"}},
            ],
        ),
        # Developer guide, "ItemSelector (Map)": static values, input fields and the item.
        (
            {
                "ItemsPath": "$.items",
                "ItemSelector": {"fixed": "f", "from.$": "$.src", "item.$": "$$.Map.Item.Value"},
            },
            {"items": [1, 2], "src": "s"},
            [{"fixed": "f", "from": "s", "item": 1}, {"fixed": "f", "from": "s", "item": 2}],
        ),
        # ASL spec, "Map State": the legacy Parameters field acts like ItemSelector.
        (
            {"Parameters": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"}},
            ["x", "y"],
            [{"i": 0, "v": "x"}, {"i": 1, "v": "y"}],
        ),
        # ASL spec, "ResultSelector" and "OutputPath" on a Map state.
        ({"ResultSelector": {"first.$": "$[0]"}}, [7, 8], {"first": 7}),
        ({"ResultPath": "$.out", "ItemsPath": "$.in"}, {"in": [1]}, {"in": [1], "out": [1]}),
    ],
)
async def test_map_items(fields: dict[str, Any], given: Any, expected: Any) -> None:
    r = await run_state_machine(_map(**fields), given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == expected


async def test_legacy_iterator() -> None:
    # ASL spec, "Map State": Iterator is the deprecated name of ItemProcessor.
    definition = chain(
        (
            "M",
            {
                "Type": "Map",
                "Iterator": {
                    "StartAt": "Add",
                    "States": {
                        "Add": {"Type": "Pass", "Result": "r", "ResultPath": "$.r", "End": True}
                    },
                },
            },
        )
    )
    r = await run_state_machine(definition, [{"a": 1}, {"a": 2}])
    assert r.output == [{"a": 1, "r": "r"}, {"a": 2, "r": "r"}]


class _Gauge:
    """Counts how many steps run at the same time (``step`` is the step function). Each step
    waits until ``together`` steps have run at once (or the run can never get there: a
    failure, not a hang), so the peak does not depend on how fast the machine starts them;
    then it runs a little longer, time for a step over the limit to show."""

    def __init__(self, together: int) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        reached = asyncio.Event()

        async def gauge(x: Any) -> Any:
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
                if self.peak >= together:
                    reached.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reached.wait(), 10)
            await asyncio.sleep(0.05)
            with self.lock:
                self.now -= 1
            return x

        self.step = gauge


def _gauged(**fields: Any) -> dict[str, Any]:
    task = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "gauge", "End": True}}}
    return chain(("M", {"Type": "Map", "ItemProcessor": task, **fields}))


@pytest.mark.parametrize(
    ("fields", "given", "limit"),
    [
        # ASL spec, "Map State": MaxConcurrency 1 runs the iterations one at a time.
        ({"MaxConcurrency": 1}, [1, 2, 3, 4], 1),
        ({"MaxConcurrency": 2}, [1, 2, 3, 4, 5], 2),
        # Developer guide, "Map workflow state": MaxConcurrencyPath reads the limit from the
        # input.
        (
            {"MaxConcurrencyPath": "$.limit", "ItemsPath": "$.items"},
            {"limit": 1, "items": [1, 2, 3]},
            1,
        ),
    ],
)
async def test_max_concurrency(fields: dict[str, Any], given: Any, limit: int) -> None:
    gauge = _Gauge(together=limit)
    r = await run_state_machine(_gauged(**fields), given, steps={"gauge": gauge.step})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert gauge.peak == limit
    # ASL spec, "Map State": results are in the order of the items.
    assert r.output == (given if isinstance(given, list) else given["items"])


async def test_unlimited_concurrency_runs_items_together() -> None:
    # ASL spec, "Map State": MaxConcurrency 0 (the default) places no limit.
    gauge = _Gauge(together=2)
    r = await run_state_machine(_gauged(), [1, 2, 3], steps={"gauge": gauge.step})
    assert r.output == [1, 2, 3]
    assert gauge.peak > 1


def _fails_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


def _checked(**fields: Any) -> dict[str, Any]:
    task = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "check", "End": True}}}
    return chain(("M", {"Type": "Map", "ItemProcessor": task, "MaxConcurrency": 1, **fields}))


@pytest.mark.parametrize(
    ("fields", "given", "ok"),
    [
        # Two of five items fail (40%). Developer guide, "Tolerated failure threshold": the
        # run fails once the failures exceed ToleratedFailureCount/Percentage, "the maximum
        # number (percentage) of failed items" tolerated.
        ({"ToleratedFailureCount": 2}, [1, 2, 3, 4, 6], True),
        ({"ToleratedFailureCount": 1}, [1, 2, 3, 4, 6], False),
        ({"ToleratedFailurePercentage": 40}, [1, 2, 3, 4, 6], True),
        ({"ToleratedFailurePercentage": 39}, [1, 2, 3, 4, 6], False),
        ({"ToleratedFailurePercentage": 100}, [1, 3], True),
        ({"ToleratedFailureCount": 0}, [2, 4, 1], False),
        # The Path forms read the threshold from the input.
        (
            {"ToleratedFailureCountPath": "$.n", "ItemsPath": "$.items"},
            {"n": 2, "items": [1, 2, 3, 4, 6]},
            True,
        ),
        (
            {"ToleratedFailurePercentagePath": "$.p", "ItemsPath": "$.items"},
            {"p": 10, "items": [1, 2, 3, 4, 6]},
            False,
        ),
        # With both set, exceeding either one fails the state.
        ({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 20}, [1, 2, 3, 4, 6], False),
    ],
)
async def test_tolerated_failures(fields: dict[str, Any], given: Any, ok: bool) -> None:
    r = await run_state_machine(_checked(**fields), given, steps={"check": _fails_on_odd})
    if ok:
        assert r.status == "COMPLETED", (r.error, r.cause)
        items = given if isinstance(given, list) else given["items"]
        assert len(r.output) == len(items)
        for item, out in zip(items, r.output, strict=True):
            if item % 2 == 0:
                assert out == item
    else:
        assert r.status == "FAILED"
        # Developer guide, "Error names": States.ExceedToleratedFailureThreshold.
        assert r.error == "States.ExceedToleratedFailureThreshold"


async def test_without_a_threshold_one_failure_fails_the_map() -> None:
    # ASL spec, "Map State": "If any iteration fails ... the Map State fails", with that error.
    r = await run_state_machine(_checked(), [2, 3, 4], steps={"check": _fails_on_odd})
    assert (r.status, r.error, r.cause) == ("FAILED", "ValueError", "odd 3")


@pytest.mark.parametrize(
    ("batcher", "items", "expected"),
    [
        # Developer guide, "ItemBatcher": MaxItemsPerBatch groups items into batches, each
        # iteration's input being {"Items": [...]}.
        (
            {"MaxItemsPerBatch": 2},
            [1, 2, 3, 4, 5],
            [{"Items": [1, 2]}, {"Items": [3, 4]}, {"Items": [5]}],
        ),
        # Developer guide, "ItemBatcher": BatchInput is added to every batch.
        (
            {"MaxItemsPerBatch": 3, "BatchInput": {"factCheck": "TRUE"}},
            [1, 2, 3, 4],
            [
                {"BatchInput": {"factCheck": "TRUE"}, "Items": [1, 2, 3]},
                {"BatchInput": {"factCheck": "TRUE"}, "Items": [4]},
            ],
        ),
        # Developer guide, "ItemBatcher": MaxItemsPerBatchPath reads the size from the input.
        ({"MaxItemsPerBatchPath": "$.size"}, [1, 2, 3], [{"Items": [1, 2]}, {"Items": [3]}]),
    ],
)
async def test_item_batcher(batcher: dict[str, Any], items: list[Any], expected: Any) -> None:
    given: Any = items
    fields: dict[str, Any] = {"ItemBatcher": batcher}
    if "MaxItemsPerBatchPath" in batcher:
        given, fields["ItemsPath"] = {"size": 2, "items": items}, "$.items"
    r = await run_state_machine(_map(**fields), given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == expected


@pytest.mark.parametrize(
    "fields",
    [
        {"ItemSelector": {"id.$": "$$.Map.Item.Value.id", "pos.$": "$$.Map.Item.Index"}},
        {
            "QueryLanguage": "JSONata",
            "ItemSelector": {
                "id": "{% $states.context.Map.Item.Value.id %}",
                "pos": "{% $states.context.Map.Item.Index %}",
            },
        },
    ],
    ids=["jsonpath", "jsonata"],
)
async def test_item_selector_applies_before_the_item_batcher(fields: dict[str, Any]) -> None:
    """Developer guide, "Map state input and output fields in Step Functions"
    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-fields-dist-map.html):
    Step Functions applies ItemReader, ItemsPath (or Items), ItemSelector, then ItemBatcher,
    in that order; so each batch's ``Items`` are the ItemSelector's output for each item (with
    ``$$.Map.Item`` the item and its index in the whole array), not the raw items."""
    batcher = {"MaxItemsPerBatch": 2, "BatchInput": {"run": 7}}
    items = [{"id": "a", "noise": 1}, {"id": "b", "noise": 2}, {"id": "c", "noise": 3}]
    r = await run_state_machine(_map(ItemBatcher=batcher, **fields), items)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == [
        {"Items": [{"id": "a", "pos": 0}, {"id": "b", "pos": 1}], "BatchInput": {"run": 7}},
        {"Items": [{"id": "c", "pos": 2}], "BatchInput": {"run": 7}},
    ]


async def test_iterations_see_outer_variables_but_do_not_leak() -> None:
    # Developer guide, "Passing data between states with variables", "Variable scope":
    # iterations read the outer scope's variables; what they assign stays inside.
    inner = {
        "StartAt": "Use",
        "States": {
            "Use": {
                "Type": "Pass",
                "Parameters": {"item.$": "$", "factor.$": "$factor"},
                "Assign": {"local.$": "$.item"},
                "End": True,
            }
        },
    }
    definition = chain(
        ("Set", {"Type": "Pass", "Assign": {"factor": 10}}),
        ("M", {"Type": "Map", "ItemProcessor": inner}),
        ("Check", {"Type": "Pass", "Parameters": {"out.$": "$", "factor.$": "$factor"}}),
    )
    r = await run_state_machine(definition, [1, 2])
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"out": [{"item": 1, "factor": 10}, {"item": 2, "factor": 10}], "factor": 10}
    leak = chain(
        ("M", {"Type": "Map", "ItemProcessor": inner}),
        ("Check", {"Type": "Pass", "Parameters": {"local.$": "$local"}}),
    )
    r = await run_state_machine(leak, [1])
    assert r.status == "FAILED"
