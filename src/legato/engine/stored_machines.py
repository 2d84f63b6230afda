"""State machines the registry lacks, loaded from the database's definitions.

A state machine needs no Python registration: an execution of (name, version) that the
registry lacks but the ``definitions`` table has runs as that definition, built once and kept
(a version never changes, so what is built stays right). Only a miss in the registry reads the
store, so executions of registered workflows never pay for it. The machines an app registers
(``App.register_state_machine``) are recorded in the table when its engine starts, so that any
engine, and any client, finds them by name and version.
"""

from __future__ import annotations

import logging

from legato.core import codec
from legato.core.asl.arns import AwsIdentity
from legato.core.definitions import canonical_json, content_hash
from legato.core.events import JSON
from legato.engine.registry import Registry, WorkflowDef
from legato.engine.statemachine import MachineOptions, state_machine_def
from legato.engine.statemachine.mocking import MockSetting
from legato.errors import ConfigurationError, DefinitionNotFound, DefinitionVersionExists
from legato.ports.definitions import Definitions, StoredDefinition

log = logging.getLogger("legato.engine")


class StateMachines:
    def __init__(self, registry: Registry, aws: AwsIdentity | None = None) -> None:
        self.registry = registry
        #: the region and account of the ARNs its machines' executions see (``App.aws_region``)
        self.aws = aws or AwsIdentity()
        #: what the app registered: (name, version) -> (canonical JSON, content hash)
        self.registered: dict[tuple[str, str], tuple[str, str]] = {}
        self._built: dict[tuple[str, str], WorkflowDef] = {}
        self.recorded = False  # the registered ones are in the store (``record``)
        #: the mock configuration and test case its executions run (``App.use_mocks``)
        self.mocks: MockSetting | None = None
        self._mocked: dict[str, MockSetting | None] = {}  # execution id -> what it began with

    def register(
        self,
        name: str,
        version: str,
        definition: dict[str, JSON],
        options: MachineOptions | None = None,
    ) -> WorkflowDef:
        """``App.register_state_machine``: into the registry, and noted to be recorded."""
        wf = state_machine_def(name, version, definition, options, self.identity, self.mock_setting)
        text = canonical_json(definition)
        self.registry.add_workflow(
            wf.fn, name, wf.version, None if wf.timeout_ms is None else wf.timeout_ms / 1000,
            code_hash=wf.code_hash, kind="state_machine",
        )  # fmt: skip
        self.registered[(name, wf.version)] = (text, content_hash(text))
        self.recorded = False
        added = self.registry.workflows[(name, wf.version)]
        added.definition = wf.definition
        return added

    def identity(self) -> AwsIdentity:
        """Read when an execution begins, so a setting changed before the engine starts
        (``app.configure(aws_region=...)``) applies to machines registered earlier."""
        return self.aws

    def mock_setting(self, execution_id: str) -> MockSetting | None:
        """The mocks of an execution: those it began with in this process, so that a replay
        (after an eviction from the sticky cache) uses them even if ``App.use_mocks`` changed
        the app's since; else the app's now. An app that never used mocks remembers nothing."""
        if execution_id in self._mocked:
            return self._mocked[execution_id]
        if self.mocks is not None or self._mocked:
            self._mocked[execution_id] = self.mocks
        return self.mocks

    def known(self, name: str, version: str) -> WorkflowDef | None:
        """Without reading the store: registered, or built from the store before."""
        return self.registry.lookup_workflow(name, version) or self._built.get((name, version))

    async def lookup(self, store: Definitions, name: str, version: str) -> WorkflowDef | None:
        """The workflow of (name, version): registered, else the stored definition's."""
        wf = self.known(name, version)
        if wf is not None:
            return wf
        stored = await store.get_definition(name, version)
        return None if stored is None else self.build(stored)

    async def for_start(self, store: Definitions, name: str, version: str | None) -> WorkflowDef:
        """What ``App.start(name, version=...)`` starts when the registry lacks ``name`` (or
        that version of it): the stored definition's given version, or its latest."""
        if version is not None:
            wf = await self.lookup(store, name, version)
        else:
            stored = await store.get_definition(name, None)
            wf = None if stored is None else self.build(stored)
        if wf is None:
            known = ", ".join(sorted({n for n, _ in self.registry.workflows})) or "none"
            raise DefinitionNotFound(name, version, f"(registered workflows: {known})")
        return wf

    def build(self, stored: StoredDefinition) -> WorkflowDef:
        key = (stored.name, stored.version)
        wf = self._built.get(key)
        if wf is None:
            definition = codec.loads(stored.definition)
            wf = state_machine_def(
                stored.name, stored.version, definition, identity=self.identity,
                mocks=self.mock_setting,
            )  # fmt: skip
            self._built[key] = wf
        return wf

    async def record(self, store: Definitions, now: int) -> None:
        """Store the app's registered machines (engine start-up). The same version stored with
        other content is an error: the app's definition changed but its version did not."""
        for (name, version), (text, digest) in self.registered.items():
            try:
                put = await store.put_definition(name, version, text, digest, now)
            except DefinitionVersionExists as exc:
                raise ConfigurationError(
                    f"state machine {name!r} version {version!r} registered by this app differs "
                    f"from the one stored in the database (sha256 {exc.stored_hash[:12]}, this "
                    f"one {digest[:12]}); executions pin their version, so a changed definition "
                    f"needs a new one: register it with "
                    f"app.register_state_machine({name!r}, ..., version=...) and another version"
                ) from None
            if put.created:
                log.info("recorded state machine %s version %s", name, version)
        self.recorded = True

    async def warn_of_code_clashes(self, store: Definitions) -> None:
        """A code workflow whose name and version are also a stored definition's: executions
        of that version run the code, not the definition. Said once, at start-up."""
        code = {key for key in self.registry.workflows if key not in self.registered}
        if not code:
            return
        for summary in await store.list_definitions():
            for v in summary.versions:
                if (summary.name, v.version) in code:
                    log.warning(
                        "workflow %r version %r is a code workflow of this app and also a "
                        "stored state machine definition: its executions run the code; store "
                        "the definition under another name",
                        summary.name, v.version,
                    )  # fmt: skip
