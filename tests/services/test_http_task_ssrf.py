"""Outbound safety of the HTTP Task: without an allow-list, no call reaches a loopback,
private, link-local, unique-local, carrier-grade NAT, multicast, unspecified or cloud metadata
address, however the URL spells it, whatever a name resolves to, and whichever hop of a
redirect leads there. Each refusal is ``States.Permissions`` naming the address, and the local
server (on 127.0.0.1, where most of the corpus points) shows that nothing reached it.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import legato
from legato.adapters.http_task.invoke import HttpTasks
from legato.errors import NamedStepError
from legato.testing import StateMachineRun, run_state_machine
from tests.services.http_task_server import LocalServer, serve

HTTP = "arn:aws:states:::http:invoke"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    yield from serve()


@pytest.fixture
def second() -> Iterator[LocalServer]:
    """Another server on another loopback address, 127.0.0.2."""
    yield from serve("127.0.0.2")


async def run(app: legato.App, url: str) -> StateMachineRun:
    call = {"Type": "Task", "Resource": HTTP, "End": True}
    call["Parameters"] = {"ApiEndpoint": url, "Method": "GET"}
    definition = {"StartAt": "Call", "States": {"Call": call}}
    return await run_state_machine(definition, {}, app=app, name=f"m{uuid.uuid4().hex}")


# (URL with {port} for the local server's, the address the refusal names, its kind)
CORPUS = [
    ("http://2130706433:{port}/echo", "127.0.0.1", "loopback"),  # decimal
    ("http://0177.0.0.1:{port}/echo", "127.0.0.1", "loopback"),  # octal
    ("http://0x7f000001:{port}/echo", "127.0.0.1", "loopback"),  # hexadecimal
    ("http://127.1:{port}/echo", "127.0.0.1", "loopback"),  # short form
    ("http://[::ffff:127.0.0.1]:{port}/echo", "::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]:{port}/echo", "::ffff:127.0.0.1", "loopback"),
    ("http://[64:ff9b::7f00:1]:{port}/echo", "64:ff9b::7f00:1", "loopback"),  # NAT64
    ("http://[2002:7f00:1::]:{port}/echo", "2002:7f00:1::", "loopback"),  # 6to4
    ("http://[::1]:{port}/echo", "::1", "loopback"),
    ("http://localhost:{port}/echo", "127.0.0.1", "loopback"),  # a name resolving to it
    ("http://0.0.0.0:{port}/echo", "0.0.0.0", "unspecified"),
    ("http://[::]:{port}/echo", "::", "unspecified"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "cloud metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254", "cloud metadata"),
    ("http://100.100.100.200/latest/meta-data/", "100.100.100.200", "cloud metadata"),
    ("http://169.254.1.1/", "169.254.1.1", "link-local"),
    ("http://[fe80::1]/", "fe80::1", "link-local"),
    ("http://10.0.0.1/", "10.0.0.1", "private"),
    ("http://172.16.5.4/", "172.16.5.4", "private"),
    ("http://192.168.1.1/", "192.168.1.1", "private"),
    ("http://100.64.0.1/", "100.64.0.1", "carrier-grade NAT"),
    ("http://[fd12:3456::1]/", "fd12:3456::1", "unique-local"),
    ("http://224.0.0.1/", "224.0.0.1", "multicast"),
    ("http://[ff02::1]/", "ff02::1", "multicast"),
    ("http://240.0.0.1/", "240.0.0.1", "reserved"),
]


@pytest.mark.parametrize(("template", "address", "kind"), CORPUS)
async def test_the_corpus_is_refused_without_an_allow_list(
    server: LocalServer, template: str, address: str, kind: str
) -> None:
    """The HTTP Task's client refuses each before connecting; the local server saw nothing."""
    url = template.format(port=server.port)
    with pytest.raises(NamedStepError) as caught:
        await HttpTasks().invoke({"ApiEndpoint": url, "Method": "GET"})
    assert caught.value.error == "States.Permissions"
    assert f"{address}" in caught.value.cause
    assert f"is a {kind} address" in caught.value.cause
    assert "http_allow" in caught.value.cause
    assert server.seen == []


@pytest.mark.parametrize(
    "template",
    [
        "http://2130706433:{port}/echo",
        "http://0177.0.0.1:{port}/echo",
        "http://[::ffff:127.0.0.1]:{port}/echo",
        "http://localhost:{port}/echo",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
async def test_a_state_machine_fails_with_states_permissions(
    server: LocalServer, template: str
) -> None:
    r = await run(legato.App(), template.format(port=server.port))
    assert r.status == "FAILED"
    assert r.error == "States.Permissions"
    assert server.seen == []


async def test_the_same_server_answers_once_allowed(server: LocalServer) -> None:
    """The corpus's refusals are the policy's, not a server that is not there."""
    app = legato.App(http_allow=["127.0.0.0/8"])
    r = await run(app, f"http://2130706433:{server.port}/echo")
    assert r.status == "COMPLETED", r.cause
    r = await run(app, f"http://0177.0.0.1:{server.port}/echo")
    assert r.status == "COMPLETED", r.cause
    assert server.paths() == ["/echo", "/echo"]


async def test_a_redirect_to_a_refused_address_is_refused(
    server: LocalServer, second: LocalServer
) -> None:
    """Each hop is resolved and checked: 127.0.0.1 is allowed, 127.0.0.2 is not."""
    url = server.url(f"/redirect?to={second.url('/echo')}")
    r = await run(legato.App(http_allow=["127.0.0.1"]), url)
    assert r.error == "States.Permissions"
    assert "127.0.0.2" in (r.cause or "")
    assert server.paths() == ["/redirect"]
    assert second.seen == []
    r = await run(legato.App(http_allow=["127.0.0.1", "127.0.0.2"]), url)
    assert r.status == "COMPLETED", r.cause
    assert second.paths() == ["/echo"]


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/echo", "http://10.1.2.3/"],
)
async def test_redirects_to_metadata_loopback_and_private_are_refused(
    server: LocalServer, target: str
) -> None:
    for code in (301, 302, 303, 307, 308):
        url = server.url(f"/redirect?code={code}&to={target.format(port=server.port)}")
        r = await run(legato.App(http_allow=["127.0.0.1"]), url)
        assert r.error == "States.Permissions", (code, r.cause)
    assert server.paths() == ["/redirect"] * 5


async def test_the_connection_goes_to_the_checked_address(server: LocalServer) -> None:
    """The name is resolved once, by the policy's resolver, and the request goes to that
    address with the name as Host: a name no DNS knows still reaches the checked address, so a
    second resolution (DNS rebinding) has no say."""
    answers: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        answers.append(host)
        return ["127.0.0.1"]

    tasks = HttpTasks(allow=["127.0.0.1"], resolver=resolver)
    url = f"http://api.example.invalid:{server.port}/echo"
    result: Any = await tasks.invoke({"ApiEndpoint": url, "Method": "GET"})
    assert result["StatusCode"] == 200
    assert answers == ["api.example.invalid"]
    assert server.seen[-1].headers["host"] == f"api.example.invalid:{server.port}"


async def test_a_name_with_one_refused_answer_among_allowed_ones_is_refused(
    server: LocalServer,
) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "10.0.0.7"]

    tasks = HttpTasks(allow=["127.0.0.1"], resolver=resolver)
    with pytest.raises(NamedStepError) as caught:
        await tasks.invoke({"ApiEndpoint": server.url("/echo"), "Method": "GET"})
    assert caught.value.error == "States.Permissions"
    assert "10.0.0.7" in caught.value.cause
    assert server.seen == []


async def test_a_host_name_on_the_allow_list_is_allowed(server: LocalServer) -> None:
    """A name on the allow-list may resolve to any address (here loopback, not allowed as an
    address); other names resolving there are still refused."""

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    tasks = HttpTasks(allow=["internal.test"], resolver=resolver)
    url = f"http://INTERNAL.test:{server.port}/echo"
    result: Any = await tasks.invoke({"ApiEndpoint": url, "Method": "GET"})
    assert result["StatusCode"] == 200
    with pytest.raises(NamedStepError) as caught:
        await tasks.invoke({"ApiEndpoint": f"http://other.test:{server.port}/", "Method": "GET"})
    assert caught.value.error == "States.Permissions"
    assert server.paths() == ["/echo"]


async def test_a_name_that_does_not_resolve_is_states_http_socket() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    tasks = HttpTasks(resolver=resolver)
    with pytest.raises(NamedStepError) as caught:
        await tasks.invoke({"ApiEndpoint": "https://nowhere.invalid/", "Method": "GET"})
    assert caught.value.error == "States.Http.Socket"
    assert "Name or service not known" in caught.value.cause


async def test_an_international_name_is_resolved_and_sent_as_idna(server: LocalServer) -> None:
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    tasks = HttpTasks(allow=["127.0.0.1"], resolver=resolver)
    url = f"http://bücher.example:{server.port}/echo"
    result: Any = await tasks.invoke({"ApiEndpoint": url, "Method": "GET"})
    assert result["StatusCode"] == 200
    assert asked == ["xn--bcher-kva.example"]
    assert server.seen[-1].headers["host"] == f"xn--bcher-kva.example:{server.port}"
