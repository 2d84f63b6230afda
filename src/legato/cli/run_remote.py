"""``legato run FILE --server URL``: run a state machine file on a Legato server.

The file's own content is what runs, never another definition or a code workflow of the same
name, by the rules of a local run (``cli/run_file.py``): the version of its name that has this
content; else, for a new name (or with ``--new-version``), the file pushed as the next version;
else refused (give another ``--name``). A code workflow of that name is refused too.
The execution is started pinned to the pushed version; ``--wait`` awaits it through the API
and prints its output, or its error and cause with exit code 1, as a local run does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from legato.adapters.http.transport import ApiError
from legato.cli.common import console, print_result
from legato.client import Client
from legato.core.definitions import canonical_json, content_hash
from legato.engine.asl_files import load_definition
from legato.errors import LegatoError, RegistrationError


async def run_on_server(
    file: Path,
    name: str,
    value: Any,
    *,
    execution_id: str | None,
    wait: bool,
    timeout: float | None,
    server: str,
    api_key: str | None,
    new_version: bool = False,
) -> None:
    definition = load_definition(file)  # read and checked here: problems before any request
    digest = content_hash(canonical_json(definition))
    async with Client(server, api_key=api_key) as client:
        await _not_code(client, name)
        try:
            versions = await client.definition_versions(name)
        except (ApiError, RegistrationError) as exc:
            if not _missing(exc):
                raise
            versions = []
        same = [v for v in versions if v.get("content_hash") == digest]
        if same:
            version = str(same[-1]["version"])
        elif versions and not new_version:
            latest = versions[-1]
            raise LegatoError(
                f"{file} differs from the definition {name!r} on the server (version "
                f"{latest.get('version')}, sha256 {str(latest.get('content_hash'))[:12]}; this "
                f"file sha256 {digest[:12]}): run it under another name with --name OTHER, or "
                f"store it as the next version of {name!r} with --new-version"
            )
        else:
            version = str((await client.push_definition(name, definition))["version"])
        handle = await client.start_with(name, [value], id=execution_id, version=version)
        if not wait:
            console.print(handle.id, highlight=False, soft_wrap=True)
            return
        await print_result(handle.id, handle.result(timeout=timeout))


async def _not_code(client: Client, name: str) -> None:
    """A code workflow of that name is never run in the file's place."""
    try:
        found = await client.get_workflow(name)
    except (ApiError, RegistrationError) as exc:
        if _missing(exc):
            return
        raise
    versions = found.get("versions") or [found]
    if any(v.get("kind") == "code" for v in versions if isinstance(v, dict)):
        raise LegatoError(
            f"the server has a code workflow named {name!r}: the file is not run in its "
            "place; give it another name with --name"
        )


def _missing(exc: LegatoError) -> bool:
    """The server has nothing of that name (a 404, whichever problem names it)."""
    return isinstance(exc, RegistrationError) or (isinstance(exc, ApiError) and exc.status == 404)
