"""``/v1/definitions``: state machine definitions stored in the database, versioned and
content-hashed (``legato.ports.definitions``); validation without storing. A definition's
graph (``/v1/definitions/{name}/graph``) is in ``graphs``.

A body is the definition as JSON or YAML (by ``Content-Type``). Storing the same content again
answers the version it already is (200, ``created: false``); a version given that exists with
other content is 409 ``definition-version-exists``; an invalid definition is 422
``invalid-definition`` with every problem and its JSON path.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from legato.adapters.aws.catalog import sdk_catalog
from legato.api.deps import LegatoApp
from legato.api.problems import Problem, problem_responses
from legato.core.asl.definition import parse_definition
from legato.core.asl.integrations_used import integrations_used
from legato.core.asl.validate import count_states, validate
from legato.core.definitions import check_name, check_version
from legato.core.events import JSON
from legato.errors import InvalidDefinitionError

router = APIRouter(prefix="/v1/definitions", tags=["definitions"])

MEDIA_TYPES = ("application/json", "application/yaml", "text/yaml", "application/x-yaml")
_BODY = {
    "requestBody": {
        "required": True,
        "description": "an Amazon States Language definition, as JSON or YAML",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
            "text/yaml": {"schema": {"type": "string"}},
            "application/x-yaml": {"schema": {"type": "string"}},
        },
    }
}


class Stored(BaseModel):
    name: str
    version: str
    content_hash: str
    created_at: str
    created: bool


class Definition(BaseModel):
    name: str
    version: str
    content_hash: str
    created_at: str
    definition: dict[str, Any]


class Summary(BaseModel):
    name: str
    latest_version: str
    versions: list[str]
    created_at: str


class Summaries(BaseModel):
    items: list[Summary]


class Version(BaseModel):
    version: str
    content_hash: str
    created_at: str


class Versions(BaseModel):
    name: str
    items: list[Version]


class PathProblem(BaseModel):
    path: str
    message: str


class Validation(BaseModel):
    valid: bool
    states: int
    problems: list[PathProblem]
    #: the service integrations the definition uses (``legato definitions validate --json``)
    integrations: list[dict[str, Any]] = []


async def _definition(request: Request) -> dict[str, JSON]:
    """The body as a definition (parsed, not yet validated); a body in another media type is
    415, one that is not UTF-8 JSON or YAML 422 ``invalid-definition``."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise Problem(
            415,
            "unsupported-media-type",
            f"a definition is sent as {', '.join(MEDIA_TYPES)}, not {media or 'no Content-Type'}",
        )
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(
            422, "invalid-definition", f"the body is not UTF-8 text ({exc.reason})",
            errors=[{"path": "$", "message": "the body is not UTF-8 text"}],
        ) from None  # fmt: skip
    return parse_definition(text, "the request body")


@router.post(
    "",
    status_code=201,
    response_model=Stored,
    responses={
        200: {"model": Stored, "description": "that content is that version already"},
        **problem_responses(400, 409, 415),
    },
    openapi_extra=_BODY,
)
async def register(
    request: Request,
    response: Response,
    app: LegatoApp,
    name: str = Query(description="the definition's name"),
    version: str | None = Query(None, description="default: 1 + the highest integer version"),
) -> Stored:
    """Store a definition as a version of ``name`` (validated first)."""
    for where, problem in (
        ("name", check_name(name)),
        ("version", None if version is None else check_version(version)),
    ):
        if problem is not None:
            raise Problem(
                422, "invalid-request", problem,
                errors=[{"path": f"$.{where}", "in": "query", "message": problem}],
            )  # fmt: skip
    put = await app.push_definition(name, await _definition(request), version)
    if not put.created:
        response.status_code = 200
    return Stored(**put.stored.as_json(definition=False), created=put.created)


@router.get("", response_model=Summaries, responses=problem_responses())
async def list_definitions(app: LegatoApp) -> Summaries:
    """Every stored definition name with its versions."""
    return Summaries(items=[Summary(**s.as_json()) for s in await app.list_definitions()])


@router.post(
    "/validate",
    response_model=Validation,
    openapi_extra=_BODY,
    responses=problem_responses(400, 415),
)
async def validate_definition(request: Request) -> Validation:
    """Check a definition against the Amazon States Language rules, storing nothing."""
    definition: object = None
    try:
        definition = await _definition(request)
    except InvalidDefinitionError as exc:
        found, states = exc.problems, 0
    else:
        # a thread: an unknown aws-sdk name may read every botocore model (seconds)
        found = await asyncio.to_thread(validate, definition, sdk_catalog())
        states = count_states(definition)
    problems = [PathProblem(path=p.path, message=p.rule) for p in found]
    used = integrations_used(definition)
    return Validation(valid=not problems, states=states, problems=problems, integrations=used)


@router.get("/{name}", response_model=Definition, responses=problem_responses(404))
async def latest(name: str, app: LegatoApp) -> Definition:
    """The latest version of a definition (the one stored last)."""
    return Definition(**(await app.get_definition(name)).as_json())


@router.get("/{name}/versions", response_model=Versions, responses=problem_responses(404))
async def versions(name: str, app: LegatoApp) -> Versions:
    """A definition's versions, oldest first."""
    found = await app.definition_versions(name)
    return Versions(name=name, items=[Version(**v.as_json()) for v in found])


@router.get(
    "/{name}/versions/{version}", response_model=Definition, responses=problem_responses(404)
)
async def one_version(name: str, version: str, app: LegatoApp) -> Definition:
    """One version of a definition."""
    return Definition(**(await app.get_definition(name, version)).as_json())
