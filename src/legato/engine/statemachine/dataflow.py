"""A state's data flow in either query language.

JSONPath states (ASL spec, "Input and Output Processing"): InputPath → Parameters → (the
state's work) → ResultSelector → ResultPath → OutputPath. JSONata states (developer guide,
"Transforming data with JSONata"): Arguments → (work) → Output, with ``$states.input``,
``$states.result``, ``$states.errorOutput`` and ``$states.context``. In both, ``Assign`` is
evaluated against the variables as they were when the state began, together with the output
("Passing data between states with variables": assignments are not visible in the same state's
Output), and then applied.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from legato.core.asl import jsonata_query, paths
from legato.core.asl.errors import StatesError
from legato.core.asl.intrinsics import evaluate, is_intrinsic
from legato.core.asl.numbers import runtime_number
from legato.core.asl.paths import MISSING, MaybeMissing
from legato.core.events import JSON

JSONATA = "JSONata"
Obj = dict[str, JSON]


@dataclass
class StateData:
    """One state's evaluation: its definition, raw input, context object and the variables
    visible to it (its scope's, read-only here; ``assign`` returns the new bindings)."""

    name: str
    state: Obj
    input: JSON
    context: Obj
    variables: dict[str, JSON]
    rng: random.Random
    jsonata: bool
    pending: dict[str, JSON] = field(default_factory=dict)  # assignments to apply on exit

    def _states(self, **extra: JSON) -> Obj:
        return {"input": self.input, "context": self.context, **extra}

    def _get(self, key: str) -> MaybeMissing:
        return cast(MaybeMissing, self.state.get(key, MISSING))

    # --- before the work ----------------------------------------------------------------------
    def effective_input(self) -> JSON:
        """JSONPath: InputPath applied; JSONata: the raw input (no InputPath there)."""
        if self.jsonata:
            return self.input
        return paths.input_path(self._get("InputPath"), self.input, self.context, self.variables)

    def arguments(self, effective: JSON, template_field: str = "Parameters") -> JSON:
        """The work's input: Parameters (JSONPath) or Arguments (JSONata), else the input."""
        if self.jsonata:
            if "Arguments" not in self.state:
                return effective
            return jsonata_query.evaluate_template(
                self.state["Arguments"], self._states(), self.variables,
                field="Arguments", rng=self.rng,
            )  # fmt: skip
        if template_field not in self.state:
            return effective
        return paths.payload_template(
            self.state[template_field], effective, self.context, self.variables,
            field=template_field, rng=self.rng,
        )  # fmt: skip

    def number(self, key: str, effective: JSON) -> float | None:
        """A numeric field that may come as ``Key`` (a literal, or in JSONata an expression) or
        ``KeyPath`` (JSONPath: a path into the effective input): TimeoutSeconds, Seconds...
        A numeric string counts as its number; anything else, or a value out of the field's
        range, is ``States.Runtime`` (``legato.core.asl.numbers``)."""
        if key in self.state:
            value = self.state[key]
            source = json.dumps(value)
            if self.jsonata and jsonata_query.is_expression(value):
                source = cast(str, value)
                value = jsonata_query.evaluate_template(
                    value, self._states(), self.variables, field=key
                )
        elif key + "Path" in self.state:
            source = cast(str, self.state[key + "Path"])
            value = paths.select(source, effective, self.context, self.variables)
        else:
            return None
        return runtime_number(key, value, source)

    def text(self, key: str, effective: JSON) -> str | None:
        """Error/Cause of a Fail state: literal, JSONata expression, or ``KeyPath`` (a path or
        an intrinsic function in JSONPath states)."""
        if key in self.state:
            value = self.state[key]
            if self.jsonata and jsonata_query.is_expression(value):
                value = jsonata_query.evaluate_template(
                    value, self._states(), self.variables, field=key
                )
        elif key + "Path" in self.state:
            # A path that selects nothing is States.Runtime here, not ParameterPathFailure
            # (that one names the fields of a payload template), as Step Functions reports it.
            path = cast(str, self.state[key + "Path"])
            if is_intrinsic(path):
                value = evaluate(path, effective, self.context, self.variables, self.rng)
            else:
                value = paths.select(path, effective, self.context, self.variables)
        else:
            return None
        return value if isinstance(value, str) else None if value is None else str(value)

    # --- after the work -----------------------------------------------------------------------
    def output(self, result: JSON, *, has_result: bool = True, effective: JSON = None) -> JSON:
        """The state's output from its result (Task, Parallel, Map, Pass) or, without one
        (Choice, Wait, Succeed), from its effective input."""
        if self.jsonata:
            default = result if has_result else self.input
            states = self._states(result=result) if has_result else self._states()
            self.pending.update(self._assign_jsonata(states))
            if "Output" not in self.state:
                return default
            return jsonata_query.evaluate_template(
                self.state["Output"], states, self.variables, field="Output",
                rng=self.rng,
            )  # fmt: skip
        if has_result:
            if "ResultSelector" in self.state:
                result = paths.payload_template(
                    self.state["ResultSelector"], result, self.context, self.variables,
                    field="ResultSelector", rng=self.rng,
                )  # fmt: skip
            self.pending.update(self._assign_jsonpath(result))
            merged = paths.result_path(self._get("ResultPath"), self.input, result)
        else:
            self.pending.update(self._assign_jsonpath(effective))
            merged = effective
        return paths.output_path(self._get("OutputPath"), merged, self.context, self.variables)

    def _assign_jsonpath(self, result: JSON, block: JSON = None) -> Obj:
        block = self.state.get("Assign") if block is None else block
        if block is None:
            return {}
        return paths.assign_jsonpath(block, result, self.context, self.variables, self.rng)

    def _assign_jsonata(self, states: Obj, block: JSON = None) -> Obj:
        block = self.state.get("Assign") if block is None else block
        if block is None:
            return {}
        return jsonata_query.evaluate_assign(
            block, states, self.variables, field="Assign", rng=self.rng
        )

    def rule_output(self, rule: Mapping[str, JSON], effective: JSON) -> JSON:
        """A Choice state's output once ``rule`` (a matched Choice Rule, or {} for Default)
        decided: the rule's own Output/Assign where it has them, else the state's."""
        if self.jsonata:
            states = self._states()
            block = rule.get("Assign", self.state.get("Assign"))
            self.pending.update(self._assign_jsonata(states, block) if block is not None else {})
            template = rule.get("Output", self.state.get("Output", MISSING))
            if template is MISSING:
                return self.input
            return jsonata_query.evaluate_template(
                template, states, self.variables, field="Output",
                rng=self.rng,
            )  # fmt: skip
        block = rule.get("Assign", self.state.get("Assign"))
        if block is not None:
            self.pending.update(self._assign_jsonpath(effective, block))
        return paths.output_path(self._get("OutputPath"), effective, self.context, self.variables)

    def caught(self, catcher: Mapping[str, JSON], error: StatesError) -> JSON:
        """Output of a state whose error a Catcher caught: JSONPath: the error output placed by
        the catcher's ResultPath (default ``$``) into the raw input; JSONata: the catcher's
        Output (default the error output), with ``$states.errorOutput``."""
        error_output: JSON = cast(JSON, error.output())
        self.pending.clear()
        if self.jsonata:
            states = self._states(errorOutput=error_output)
            if "Assign" in catcher:
                self.pending.update(self._assign_jsonata(states, catcher["Assign"]))
            if "Output" not in catcher:
                return error_output
            return jsonata_query.evaluate_template(
                catcher["Output"], states, self.variables, field="Catch/Output"
            )
        if "Assign" in catcher:
            self.pending.update(self._assign_jsonpath(error_output, catcher["Assign"]))
        return paths.result_path(
            cast(MaybeMissing, catcher.get("ResultPath", MISSING)), self.input, error_output
        )
