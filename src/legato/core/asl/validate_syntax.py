"""Syntax checks of the strings ASL embeds: Paths, Reference Paths, intrinsic functions and
JSONata expressions (ASL spec, "Paths", "Reference Paths", "Intrinsic Functions"; AWS Step
Functions developer guide, "Transforming data with JSONata").

The validator calls only the four functions below; each delegates to the module that evaluates
the same syntax at run time, so a definition that validates is one the interpreter can read.
None of them raises.
"""

from __future__ import annotations

from legato.core.asl import intrinsics, jsonata_query, paths


def is_path(text: str) -> bool:
    """A Path: JSONPath from ``$`` (input), ``$$`` (context) or ``$name`` (a variable)."""
    try:
        return paths.is_valid_path(text)
    except Exception:  # noqa: BLE001 - a validator reports; it does not crash on odd input
        return False


def is_reference_path(text: str) -> bool:
    """A Reference Path: a Path that selects one node, with only ``.name``, ``['name']`` and
    ``[n]`` steps (no wildcards, filters, slices or unions)."""
    try:
        return paths.is_reference_path(text)
    except Exception:  # noqa: BLE001
        return False


def intrinsic_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed intrinsic function call, or None."""
    try:
        return intrinsics.check(text)
    except Exception as exc:  # noqa: BLE001
        return f"invalid intrinsic function {text!r}: {exc}"


def jsonata_problem(text: str) -> str | None:
    """Why ``text``, a ``"{% ... %}"`` string, is not a JSONata expression that compiles."""
    try:
        return jsonata_query.check_syntax(text)
    except Exception as exc:  # noqa: BLE001
        return f"invalid JSONata expression: {exc}"
