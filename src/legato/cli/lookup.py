"""Which execution an operator means: its whole id, or the first characters of one (as with
git commits), as long as they name exactly one execution."""

from __future__ import annotations

from legato.errors import LegatoError
from legato.ports.executions import ExecutionRow
from legato.ports.store import Store

SHOWN_MATCHES = 5  # an ambiguous prefix's error names this many of its matches


async def find_execution(store: Store, id_or_prefix: str) -> ExecutionRow:
    """The execution with this id or, if none has it, the one whose id starts with it. A whole
    id is one primary-key read; only an id that names nothing is tried as a prefix."""
    row = await store.load_execution(id_or_prefix)
    if row is not None:
        return row
    if not id_or_prefix:
        raise LegatoError("give an execution id (or the first characters of one)")
    found = await store.executions_by_prefix(id_or_prefix, SHOWN_MATCHES + 1)
    if not found:
        raise LegatoError(f"no execution with id or id prefix {id_or_prefix!r}")
    if len(found) > 1:
        named = ", ".join(f"{r.id} ({r.workflow}, {r.status.value})" for r in found[:SHOWN_MATCHES])
        more = ", ..." if len(found) > SHOWN_MATCHES else ""
        raise LegatoError(
            f"id prefix {id_or_prefix!r} is ambiguous: it matches {named}{more}; "
            "give more of the id"
        )
    return found[0]
