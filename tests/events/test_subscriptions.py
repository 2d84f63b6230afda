"""Routing an event to subscriptions (``legato.core.subscriptions``): type, filter, transform,
and a filter or transform that fails is reported (a dead letter), never a silent non-match."""

from __future__ import annotations

import hashlib

import pytest

from legato.core.cloudevents import CloudEvent
from legato.core.events import JSON
from legato.core.subscriptions import (
    Routed,
    RouteFailed,
    Subscription,
    check_subscription,
    event_execution_id,
    route,
    truthy,
)
from legato.errors import InvalidSubscription

ORDER = CloudEvent("e-1", "shop", "order.placed", {"total": 150, "items": [1, 2], "vip": None},
                   "order/7", "2026-03-29T01:00:00Z")  # fmt: skip


def sub(filter: str | None = None, transform: str | None = None, kind: str = "order.placed",
        name: str = "s") -> Subscription:  # fmt: skip
    return Subscription(name, kind, "wf", None, filter, transform)


@pytest.mark.parametrize(
    ("filter", "matches"),
    [
        (None, True),
        ("data.total > 100", True),
        ("data.total > 200", False),
        ("data.missing", False),  # undefined: no match, not a failure
        ("data.vip = null", True),
        ("subject = 'order/7' and source = 'shop'", True),
        ("$count(data.items)", True),  # 2: truthy
        ("data.items[$ > 5]", False),  # nothing selected: undefined
        ("''", False),
        ("[0, false]", False),
        ("{'a': 1}", True),
        ("$$.id = 'e-1'", True),
        ("type = 'order.placed'", True),
    ],
)
def test_a_filter_over_the_event_decides_the_match(filter: str | None, matches: bool) -> None:
    assert route(ORDER, [sub(filter)]) == ([Routed(sub(filter), ORDER.data)] if matches else [])


@pytest.mark.parametrize(
    ("transform", "expected"),
    [
        (None, {"total": 150, "items": [1, 2], "vip": None}),
        ("data.total", 150),
        (
            "{'order': subject, 'sum': $sum(data.items), 'from': source}",
            {"order": "order/7", "sum": 3, "from": "shop"},
        ),
        ("$", ORDER.document()),
        ("data.vip", None),  # a JSON null is a value: the input is null
    ],
)
def test_the_transform_makes_the_input(transform: str | None, expected: JSON) -> None:
    assert route(ORDER, [sub(transform=transform)]) == [Routed(sub(transform=transform), expected)]


def test_only_subscriptions_of_the_events_type_are_considered_in_their_order() -> None:
    subs = [sub(name="b"), sub(kind="order.paid", name="x"), sub(name="a")]
    assert [r.subscription.name for r in route(ORDER, subs)] == ["b", "a"]


@pytest.mark.parametrize(
    ("filter", "transform", "said"),
    [
        ("data.total + 'x'", None, "filter failed: The JSONata expression"),
        (None, "$number('abc')", "transform failed: The JSONata expression"),
        (None, "data.missing", "transform returned nothing (undefined)"),
        ("$eval('1')", None, "filter failed"),
    ],
)
def test_a_failing_filter_or_transform_is_reported_with_why(
    filter: str | None, transform: str | None, said: str
) -> None:
    s = sub(filter, transform)
    (failed,) = route(ORDER, [s, sub(name="ok")])[:1]
    assert isinstance(failed, RouteFailed) and failed.subscription == s
    assert failed.reason.startswith("subscription 's': ") and said in failed.reason
    assert isinstance(route(ORDER, [s, sub(name="ok")])[1], Routed)  # the others still route


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (0, False), (0.5, True), ("", False), ("a", True),
     (None, False), ([], False), ([0, ""], False), ([0, 1], True), ({}, False), ({"a": 0}, True)],
)  # fmt: skip
def test_truthy_is_jsonatas_boolean(value: JSON, expected: bool) -> None:
    assert truthy(value) is expected


def test_a_subscription_is_checked_and_normalised() -> None:
    checked = check_subscription(Subscription("orders.big", "t", "wf", "", " ", " data.x "))
    assert (checked.version, checked.filter, checked.transform) == (None, None, "data.x")


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (Subscription("", "t", "wf"), "name"),
        (Subscription("has space", "t", "wf"), "name"),
        (Subscription("-x", "t", "wf"), "name"),
        (Subscription("ok", "", "wf"), "event_type"),
        (Subscription("ok", "t", ""), "workflow"),
        (Subscription("ok", "t", "wf", filter="data.("), "filter"),
        (Subscription("ok", "t", "wf", transform="{'a': }"), "transform"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field(bad: Subscription, field: str) -> None:
    with pytest.raises(InvalidSubscription) as caught:
        check_subscription(bad)
    assert caught.value.field == field


def test_the_execution_id_is_a_stable_hash_of_source_and_id() -> None:
    eid = event_execution_id("orders", "shop", "e-1")
    assert eid == event_execution_id("orders", "shop", "e-1")
    assert eid.startswith("orders-") and len(eid) == len("orders-") + 20
    # the separator keeps ("a", "bc") and ("ab", "c") apart
    assert event_execution_id("s", "a", "bc") != event_execution_id("s", "ab", "c")
    assert eid == "orders-" + hashlib.sha256(b"shop\0e-1").hexdigest()[:20]
