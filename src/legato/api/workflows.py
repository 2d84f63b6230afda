"""``/v1/workflows``: the workflows the connected engines serve, with the JSON Schema of their
arguments (from the annotations, through pydantic) and their versions: what each orchestrating
engine recorded at start-up (``workflow_types``), and this server's own registry."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from legato.api.deps import LegatoApp
from legato.api.problems import Problem, problem_responses
from legato.client import App
from legato.core import codec

router = APIRouter(prefix="/v1/workflows", tags=["workflows"])


class Workflow(BaseModel):
    name: str
    version: str
    kind: Literal["code", "state_machine"]
    args_schema: dict[str, Any] = Field(
        description="JSON Schema of its arguments as one object (by parameter name); {} for a "
        "state machine, whose input is any JSON"
    )
    code_hash: str


class WorkflowList(BaseModel):
    items: list[Workflow]


class WorkflowVersions(BaseModel):
    name: str
    latest_version: str
    versions: list[Workflow]


async def _known(app: App) -> list[Workflow]:
    found: dict[tuple[str, str], Workflow] = {}
    store = await app.store_ready()
    for t in await store.workflow_types():
        kind: Literal["code", "state_machine"] = (
            "state_machine" if t.kind == "state_machine" else "code"
        )
        found[(t.name, t.version)] = Workflow(
            name=t.name,
            version=t.version,
            kind=kind,
            args_schema=codec.loads(t.args_schema),
            code_hash=t.code_hash,
        )
    for (name, version), wf in app.registry.workflows.items():
        machine = wf.kind == "state_machine"
        found[(name, version)] = Workflow(
            name=name,
            version=version,
            kind="state_machine" if machine else "code",
            args_schema={} if machine else wf.arg_schema.json_schema(),
            code_hash=wf.code_hash,
        )
    return [found[key] for key in sorted(found)]


@router.get("", response_model=WorkflowList, responses=problem_responses())
async def list_workflows(app: LegatoApp) -> WorkflowList:
    """Every workflow and version the engines on this database serve."""
    return WorkflowList(items=await _known(app))


@router.get("/{name}", response_model=WorkflowVersions, responses=problem_responses(404))
async def get_workflow(name: str, app: LegatoApp) -> WorkflowVersions:
    """A workflow's versions; ``latest_version`` is the one a start without a version takes
    on this server (the last registered here, else the most recently recorded)."""
    versions = [w for w in await _known(app) if w.name == name]
    if not versions:
        raise Problem(404, "workflow-not-found", f"no engine on this database serves {name!r}")
    registered = [v for (n, v) in app.registry.workflows if n == name]
    latest = registered[-1] if registered else versions[-1].version
    return WorkflowVersions(name=name, latest_version=latest, versions=versions)
