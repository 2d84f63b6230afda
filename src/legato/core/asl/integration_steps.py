"""The names of the built-in steps a state machine's integrations run as (registered in every
app by ``legato.client.builtin_steps``). A user's step cannot be named so by accident: plain
step names in a Resource never start with ``legato.``."""

from __future__ import annotations

AWS_STEP = "legato.aws"
HTTP_STEP = "legato.http"
SFN_STEP = "legato.sfn"
#: a Distributed Map's ItemReader and ResultWriter (``legato.client.item_steps``)
ITEMS_READ_STEP = "legato.items.read"
ITEMS_WRITE_STEP = "legato.items.write"
#: the workflow each Distributed Map child execution runs: its processor, given in its input
MAP_CHILD_WORKFLOW = "legato.map.child"
