"""The HTTP Task's pure rules as tables: which addresses are refused and why, the URL-encoded
body's forms, connection names from ARNs, and the response shape from a received answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import legato
from legato.adapters.http_task.addresses import AddressPolicy, embedded
from legato.adapters.http_task.form import url_encode
from legato.adapters.http_task.outbound import Received
from legato.adapters.http_task.response import result_of
from legato.core.asl.validate_http import connection_name, http_problems
from legato.errors import NamedStepError


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.31.255.255", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.0.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.255", "carrier-grade NAT"),
        ("fc00::1", "unique-local"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("192.0.2.1", "private"),  # documentation range: not global
    ],
)
def test_categories(address: str, kind: str | None) -> None:
    assert AddressPolicy().refusal(address) == kind


def test_the_allow_list_takes_addresses_networks_and_names() -> None:
    policy = AddressPolicy(["127.0.0.1", "10.0.0.0/8", "fd00::/8", "Internal.Example."])
    assert policy.refusal("127.0.0.1") is None
    assert policy.refusal("::ffff:127.0.0.1") is None  # the mapped form of an allowed one
    assert policy.refusal("127.0.0.2") == "loopback"
    assert policy.refusal("10.200.0.1") is None
    assert policy.refusal("fd00::5") is None
    assert policy.refusal("192.168.1.1") == "private"
    assert policy.allows_host("internal.example")
    assert not policy.allows_host("example")


KINDS = {
    "cloud metadata",
    "unspecified",
    "loopback",
    "link-local",
    "multicast",
    "carrier-grade NAT",
    "unique-local",
    "reserved",
    "private",
    "non-global",
}


@given(st.ip_addresses())
def test_an_address_passes_only_when_what_it_reaches_is_global_unicast(address: Any) -> None:
    kind = AddressPolicy().refusal(str(address))
    inner = embedded(address)
    if kind is None:
        assert inner.is_global and not inner.is_multicast
    else:
        assert kind in KINDS


@pytest.mark.parametrize(
    ("body", "array_format", "expected"),
    [
        ({"a": ["x", "y"]}, "INDICES", "a%5B0%5D=x&a%5B1%5D=y"),
        ({"a": ["x", "y"]}, "REPEAT", "a=x&a=y"),
        ({"a": ["x", "y"]}, "COMMAS", "a=x%2Cy"),
        ({"a": ["x", "y"]}, "BRACKETS", "a%5B%5D=x&a%5B%5D=y"),
        ({"a": [{"b": 1}, {"b": 2}]}, "COMMAS", "a%5Bb%5D=1&a%5Bb%5D=2"),
        ({"a": [{"b": 1}]}, "INDICES", "a%5B0%5D%5Bb%5D=1"),
        ({"t": True, "n": None, "f": 1.5, "s": "é &"}, "INDICES", "t=true&n=&f=1.5&s=%C3%A9%20%26"),
        ({}, "INDICES", ""),
    ],
)
def test_url_encoding(body: dict[str, Any], array_format: str, expected: str) -> None:
    assert url_encode(body, array_format) == expected


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("arn:aws:events:us-east-1:123456789012:connection/crm/0b2a-44", "crm"),
        ("arn:aws-cn:events:cn-north-1:123456789012:connection/my-api", "my-api"),
        ("crm", "crm"),
    ],
)
def test_connection_names(reference: str, name: str) -> None:
    assert connection_name(reference) == name


def test_runtime_problems_name_the_field() -> None:
    found = http_problems({"ApiEndpoint": "https://x.test", "Method": "GET", "Headers": 3})
    assert found == [("$.Headers", "Headers must be a JSON object")]
    assert http_problems([1]) == [("$", "the HTTP Task's arguments must be a JSON object")]
    assert http_problems({"ApiEndpoint": "https://x.test:99999", "Method": "GET"})[0][0] == (
        "$.ApiEndpoint"
    )


def received(status: int, body: bytes, content_type: str = "application/json") -> Received:
    headers = [("content-type", content_type), ("set-cookie", "a=1"), ("set-cookie", "b=2")]
    return Received(status, "", headers, body, "https://x.test/")


def test_the_result_shape() -> None:
    result = result_of(received(201, b'{"id": 1}'))
    assert result == {
        "Headers": {"content-type": ["application/json"], "set-cookie": ["a=1", "b=2"]},
        "ResponseBody": {"id": 1},
        "StatusCode": 201,
        "StatusText": "Created",
    }
    assert result_of(received(200, b"not json"))["ResponseBody"] == "not json"
    assert result_of(received(200, b"", "application/json"))["ResponseBody"] == ""


def test_an_error_status_carries_the_response_as_its_cause() -> None:
    with pytest.raises(NamedStepError) as caught:
        result_of(received(418, b'{"tea": true}'))
    assert caught.value.error == "States.Http.StatusCode.418"
    cause = json.loads(caught.value.cause)
    assert cause["StatusText"] == "I'm a Teapot"
    assert cause["ResponseBody"] == {"tea": True}


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "300.1.2.3", "::g", "", "a b"])
def test_an_allow_list_entry_that_is_nothing_is_refused_when_the_app_is_made(entry: str) -> None:
    with pytest.raises(legato.ConfigurationError, match="http_allow"):
        legato.App(http_allow=[entry])
