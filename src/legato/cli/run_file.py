"""Which stored version ``legato run FILE`` runs: always the file's own content.

A run names a workflow, and a name could mean something else than the file: a version stored
earlier with other content, a state machine the app registers, a code workflow. So the file's
content is looked up by its hash: a stored version with that content is run as it is; a name
not stored yet gets the file as its first version; a name stored with other content is refused
with the two ways out (``--name OTHER``, or ``--new-version`` to store the file as the next
version). A code workflow of the same name (in the app, or served by an engine on this database) is
refused too: nothing but the file runs.
"""

from __future__ import annotations

from pathlib import Path

from legato.client import App
from legato.core.definitions import canonical_json, content_hash
from legato.core.events import JSON
from legato.errors import DefinitionNotFound, LegatoError


async def version_to_run(
    app: App, name: str, definition: dict[str, JSON], file: Path, new_version: bool
) -> str:
    """The version of ``name`` whose content is ``definition``, stored if need be."""
    digest = content_hash(canonical_json(definition))
    code = sorted(v for (n, v) in app.registry.workflows if n == name and
                  (n, v) not in app.machines.registered)  # fmt: skip
    if not code:  # nor one that an engine serving this database runs
        store = await app.store_ready()
        code = sorted(t.version for t in await store.workflow_types()
                      if t.name == name and t.kind == "code")  # fmt: skip
    if code:
        raise LegatoError(
            f"{file} cannot run as {name!r}: a code workflow has that name "
            f"(version {code[-1]}); run the file under another name with --name OTHER"
        )
    await app.record_state_machines()  # the app's machines are stored versions like any other
    same = await app.definition_by_hash(name, digest)
    if same is not None:
        return same.version
    try:
        latest = await app.get_definition(name)
    except DefinitionNotFound:
        latest = None
    if latest is None or new_version:
        put = await app.push_definition(name, definition)
        return put.stored.version
    raise LegatoError(
        f"{file} differs from the definition {name!r} stored in the database (version "
        f"{latest.version}, sha256 {latest.content_hash[:12]}; this file sha256 {digest[:12]}): "
        f"run it under another name with --name OTHER, or store it as the next version of "
        f"{name!r} with --new-version"
    )
