"""Sticky executions (DESIGN.md §5): running workflows stay in memory on the replica that
decides them, so a new event resumes the suspended coroutine instead of replaying its
history. A least-recently-used cache with a size limit; an evicted execution replays."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Container

from legato.engine.instance import WorkflowInstance


class StickyCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self._instances: OrderedDict[str, WorkflowInstance] = OrderedDict()

    def __len__(self) -> int:
        return len(self._instances)

    def __contains__(self, execution_id: object) -> bool:
        return execution_id in self._instances

    def get(self, execution_id: str) -> WorkflowInstance | None:
        return self._instances.get(execution_id)

    def use(self, execution_id: str) -> WorkflowInstance:
        """The cached instance, now the most recently used."""
        self._instances.move_to_end(execution_id)
        return self._instances[execution_id]

    def put(self, inst: WorkflowInstance, busy: Container[str]) -> None:
        """Keep ``inst``; past the size limit, evict the least recently used instances, never
        one in ``busy`` (a transition in flight would find its instance gone)."""
        self._instances[inst.execution_id] = inst
        self._instances.move_to_end(inst.execution_id)
        excess = len(self._instances) - self.size
        if excess <= 0:
            return
        victims = []
        for eid in self._instances:
            if eid not in busy:
                victims.append(eid)
                if len(victims) == excess:
                    break
        for eid in victims:
            self._instances.pop(eid).close()

    def evict(self, execution_id: str) -> None:
        inst = self._instances.pop(execution_id, None)
        if inst is not None:
            inst.close()

    def evict_where(self, doomed: Callable[[str], bool]) -> None:
        for eid in [e for e in self._instances if doomed(e)]:
            self.evict(eid)

    def clear(self) -> None:
        for inst in self._instances.values():
            inst.close()
        self._instances.clear()
