"""Parallel and Map states: many scopes at once, joined in order.

Parallel (ASL spec, "Parallel State"): every branch runs on the same input; the result is
the array of branch outputs in branch order; a failing branch fails the state (its siblings
stop at their next state). Map (ASL spec, "Map State"; developer guide, "Map state in inline
mode", "ItemBatcher", "Tolerated failure threshold"): the ItemProcessor (or legacy Iterator)
runs once per item (or per batch), at most MaxConcurrency at a time (0: no limit); with a
tolerated failure threshold, failed items give their error output and the state fails with
States.ExceedToleratedFailureThreshold only once the threshold is passed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any, cast

from legato.core import error_names
from legato.core.asl import jsonata_query, paths
from legato.core.asl.errors import StatesError
from legato.core.asl.selection import json_type
from legato.core.asl.validate_items import is_distributed
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import Obj, StateData
from legato.engine.statemachine.machine import Cancel, Outcome, Run, Scope, _next


async def run_parallel(run: Run, sd: StateData, scope: Scope) -> Outcome:
    effective = sd.effective_input()
    branch_input = sd.arguments(effective)
    cancel = Cancel(scope.cancel)
    branches = cast(list[JSON], sd.state.get("Branches", []))

    async def branch(definition: Obj) -> JSON:
        inner = Scope(definition, dict(scope.variables), cancel, scope.item,
                      _language(definition, sd, scope))  # fmt: skip
        try:
            return await run.run_scope(inner, branch_input)
        except StatesError:
            cancel.cancelled = True
            raise

    results = await run.ctx.gather(*(branch(cast(Obj, b)) for b in branches))
    scope.cancel.check()
    return _next(sd.state), sd.output(cast(JSON, results))


async def run_map(run: Run, sd: StateData, scope: Scope) -> Outcome:
    if is_distributed(sd.state):  # each iteration a child execution
        from legato.engine.statemachine.distributed_map import run_distributed_map

        return await run_distributed_map(run, sd, scope)
    effective = sd.effective_input()
    items = _items(sd, effective)
    processor = cast(Obj, sd.state.get("ItemProcessor") or sd.state.get("Iterator"))
    inputs = _iteration_inputs(run, sd, scope, effective, items)
    limit = _max_concurrency(sd, effective)
    threshold = _threshold(sd, effective, len(inputs))
    cancel = Cancel(scope.cancel)
    language = _language(processor, sd, scope)
    results: list[JSON] = [None] * len(inputs)
    position = [0]
    failures = [0]

    async def lane() -> None:
        while position[0] < len(inputs):
            cancel.check()
            i = position[0]
            position[0] += 1
            item_input, item = inputs[i]
            inner = Scope(processor, dict(scope.variables), cancel, item, language)
            try:
                results[i] = await run.run_scope(inner, item_input)
            except StatesError as err:
                # States.Runtime is terminal: no tolerated failure threshold absorbs it
                if threshold is None or err.error == error_names.RUNTIME:
                    cancel.cancelled = True
                    raise
                failures[0] += 1
                results[i] = cast(JSON, err.output())
                if threshold(failures[0]):
                    cancel.cancelled = True
                    raise StatesError(
                        error_names.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                        f"{sd.name}: {failures[0]} of {len(inputs)} items failed, more than "
                        "the tolerated failure threshold",
                    ) from None

    lanes = len(inputs) if limit == 0 else min(limit, len(inputs))
    coros: list[Coroutine[Any, Any, None]] = [lane() for _ in range(lanes)]
    await run.ctx.gather(*coros)
    scope.cancel.check()
    return _next(sd.state), sd.output(cast(JSON, results))


def _language(definition: Obj, sd: StateData, scope: Scope) -> str:
    default = "JSONata" if sd.jsonata else scope.language
    return cast(str, definition.get("QueryLanguage", default))


def _items(sd: StateData, effective: JSON) -> list[JSON]:
    if sd.jsonata:
        raw = sd.state.get("Items", "{% $states.input %}")
        items = jsonata_query.evaluate_template(
            raw, {"input": sd.input, "context": sd.context}, sd.variables,
            field="Items", rng=sd.rng,
        )  # fmt: skip
    else:
        path = cast(str, sd.state.get("ItemsPath", "$"))
        items = paths.select(path, effective, sd.context, sd.variables)
    if not isinstance(items, list):  # worded as Step Functions words it
        kind = json_type(items)
        if sd.jsonata:
            text = cast(str, sd.state.get("Items", "{% $states.input %}"))[2:-2].strip()
            raise StatesError(
                error_names.QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{text}' specified for the field 'Items' returned an "
                f"unexpected result type. Expected 'array', but was '{kind}' for value: "
                f"{json.dumps(items, separators=(',', ':'))}",
            )
        raise StatesError(error_names.RUNTIME, f"Map state input must be an array but was: {kind}")
    return items


def _iteration_inputs(
    run: Run, sd: StateData, scope: Scope, effective: JSON, items: list[JSON]
) -> list[tuple[JSON, Obj]]:
    """Each iteration's input and its ``$$.Map.Item``: ItemSelector (or the legacy Parameters)
    evaluated per item, or the item itself; with an ItemBatcher, batches of those as
    ``{"Items": [...], "BatchInput": ...}``. The order is AWS's (developer guide, "Map state
    input and output fields": ItemReader, ItemsPath, ItemSelector, then ItemBatcher), so a
    batch holds the selected items, not the raw ones."""
    selected = _selected_items(sd, effective, items)
    batcher = sd.state.get("ItemBatcher")
    if isinstance(batcher, dict):
        return _batches(sd, effective, [value for value, _ in selected], batcher)
    return selected


def _selected_items(sd: StateData, effective: JSON, items: list[JSON]) -> list[tuple[JSON, Obj]]:
    template_key = "ItemSelector" if "ItemSelector" in sd.state else "Parameters"
    out: list[tuple[JSON, Obj]] = []
    for index, value in enumerate(items):
        item: Obj = {"Index": index, "Value": value}
        if template_key not in sd.state or (sd.jsonata and template_key == "Parameters"):
            out.append((value, item))
            continue
        context: Obj = {**sd.context, "Map": {"Item": item}}
        template = sd.state[template_key]
        if sd.jsonata:
            selected = jsonata_query.evaluate_template(
                template, {"input": sd.input, "context": context}, sd.variables,
                field="ItemSelector", rng=sd.rng,
            )  # fmt: skip
        else:
            selected = paths.payload_template(
                template, effective, context, sd.variables, field=template_key, rng=sd.rng
            )
        out.append((selected, item))
    return out


def _batches(
    sd: StateData, effective: JSON, items: list[JSON], batcher: Obj
) -> list[tuple[JSON, Obj]]:
    view = StateData(sd.name, batcher, sd.input, sd.context, sd.variables, sd.rng, sd.jsonata)
    per_batch = view.number("MaxItemsPerBatch", effective)
    max_bytes = view.number("MaxInputBytesPerBatch", effective)
    batch_input: JSON = None
    if "BatchInput" in batcher:
        if sd.jsonata:
            batch_input = jsonata_query.evaluate_template(
                batcher["BatchInput"], {"input": sd.input, "context": sd.context},
                sd.variables, field="ItemBatcher/BatchInput",
            )  # fmt: skip
        else:
            batch_input = paths.payload_template(
                batcher["BatchInput"], effective, sd.context, sd.variables,
                field="ItemBatcher.BatchInput",
            )  # fmt: skip
    limit = int(per_batch) if per_batch else len(items) or 1
    groups: list[list[JSON]] = [[]]
    size = 0
    for value in items:
        cost = len(json.dumps(value, separators=(",", ":")))
        full = len(groups[-1]) >= limit or (max_bytes and size + cost > max_bytes)
        if groups[-1] and full:
            groups.append([])
            size = 0
        groups[-1].append(value)
        size += cost
    out: list[tuple[JSON, Obj]] = []
    for index, group in enumerate(g for g in groups if g):
        batch: Obj = {"Items": cast(JSON, group)}
        if batch_input is not None:
            batch["BatchInput"] = batch_input
        out.append((batch, {"Index": index, "Value": batch}))
    return out


def _max_concurrency(sd: StateData, effective: JSON) -> int:
    value = sd.number("MaxConcurrency", effective)
    return 0 if value is None else int(value)


def _threshold(sd: StateData, effective: JSON, total: int) -> Callable[[int], bool] | None:
    """None without a tolerated failure threshold (the first failure fails the Map); else a
    test of whether this many failures exceed it."""
    count = sd.number("ToleratedFailureCount", effective)
    percentage = sd.number("ToleratedFailurePercentage", effective)
    if count is None and percentage is None:
        return None
    allowed = math.inf
    if count is not None:
        allowed = count
    if percentage is not None:
        allowed = min(allowed, total * percentage / 100)
    return lambda failed: failed > allowed
