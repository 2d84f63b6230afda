"""Schemathesis against ``/openapi.json`` of the real app (its engine running on SQLite, served
over ASGI): no request it makes gets a 5xx, and no response breaks the schema the routes
declare (status codes, content types, bodies). Bounded examples per operation: well under a
minute."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from legato.api.server import create_api
from tests.api.apps import make_app


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    folder: Path = tmp_path_factory.mktemp("openapi")
    app = make_app(f"sqlite:///{folder / 'legato.db'}")
    api = create_api(app)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # schemathesis serves every request on one event loop (its portal's) and runs the
        # lifespan there: the engine lives on that loop too
        async with app:
            yield

    api.router.lifespan_context = lifespan
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    yield schema
    asgi.shutdown_lifespans()


EXAMPLES = 12  # per operation
SHORT_WAIT = 0.05  # seconds: what a long poll (claims, activity polls, ?wait=) may wait here


def _short_waits(case: schemathesis.Case[Any]) -> None:
    """Long polls wait as asked (up to a minute; 10 s when not told) when nothing comes: keep
    the run short, with every other field as generated."""
    long_poll = case.path.endswith(("/claim", "/poll"))
    if long_poll and not isinstance(case.body, dict):  # no body: the default wait
        case.body = {"wait_seconds": SHORT_WAIT}
    for where, key in ((case.body, "wait_seconds"), (case.query, "wait")):
        if isinstance(where, dict):
            value = where.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                where[key] = min(value, SHORT_WAIT)
            elif value is None and long_poll and key == "wait_seconds":
                where[key] = SHORT_WAIT


def test_the_api_keeps_to_its_schema(api_schema: schemathesis.BaseSchema) -> None:
    # one hypothesis run per operation, driven here (schemathesis's pytest plugin does not
    # follow this pytest's node ids); every operation runs, the failures are reported together
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema loads whole
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # a failure is reported as found: no
            # shrinking, which can take minutes on these bodies
        )
        def check(case: schemathesis.Case[Any]) -> None:
            _short_waits(case)
            # a start's input is checked against the workflow's own schema, and ids name
            # executions that mostly do not exist: schema-valid requests may well be 404/422
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collected, reported below
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 14
    assert not failures, "\n\n".join(failures)
