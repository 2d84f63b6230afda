"""Field-level checks shared by the ASL validator: types, ranges, paths, payload templates,
variables and JSONata strings (ASL spec, "Paths", "Payload Template", "Intrinsic Functions";
AWS Step Functions developer guide, "Passing data between states with variables" and
"Transforming data with JSONata").

Every check appends :class:`Problem` s to a :class:`Ctx` and returns; none raises, whatever
the value it is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from legato.core.asl import validate_syntax as syntax
from legato.core.asl.sdk_catalog import SdkCatalog

JSONPATH = "JSONPath"
JSONATA = "JSONata"
MAX_SECONDS = 99_999_999

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``path`` is the JSON path of the field, ``rule`` what it breaks."""

    path: str
    rule: str


@dataclass
class Ctx:
    """What validation collects while it walks a definition."""

    top_language: str = JSONPATH
    problems: list[Problem] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    #: checks aws-sdk services and actions when the caller has a catalog (core reads no SDK)
    sdk: SdkCatalog | None = None

    def add(self, path: str, rule: str) -> None:
        self.problems.append(Problem(path, rule))


def key(path: str, name: str) -> str:
    """``path`` extended by the field ``name``: ``.name`` when it is an identifier,
    ``['name']`` otherwise."""
    if not isinstance(name, str):  # a caller's dict may have other keys than JSON's strings
        name = repr(name)
    if _IDENTIFIER.match(name):
        return f"{path}.{name}"
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_timestamp(value: object) -> bool:
    """An RFC 3339 timestamp such as ``2016-03-14T01:59:00Z`` (ASL spec, "Wait State")."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def jsonata_expression(value: object) -> str | None:
    """The expression inside a ``"{% ... %}"`` string, or None for any other value."""
    if isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}":
        return value[2:-2]
    return None


def check_unknown(
    ctx: Ctx, obj: Mapping[str, object], path: str, allowed: Iterable[str], where: str
) -> None:
    """Every field of ``obj`` must be one ``where`` allows."""
    known = set(allowed)
    for name in obj:
        if name not in known:
            ctx.add(key(path, name), f"field {name} is not allowed in {where}")


def check_exclusive(
    ctx: Ctx, obj: Mapping[str, object], path: str, names: tuple[str, ...], required: bool
) -> None:
    """At most one of ``names`` (exactly one when ``required``)."""
    present = [n for n in names if n in obj]
    for extra in present[1:]:
        ctx.add(key(path, extra), f"{' and '.join(present)} are mutually exclusive")
    if required and not present:
        ctx.add(path, f"exactly one of {', '.join(names)} is required")


def check_string(ctx: Ctx, obj: Mapping[str, object], path: str, name: str) -> None:
    if name in obj and not isinstance(obj[name], str):
        ctx.add(key(path, name), f"{name} must be a string")


def check_int(
    ctx: Ctx,
    obj: Mapping[str, object],
    path: str,
    name: str,
    minimum: int,
    maximum: int = MAX_SECONDS,
    language: str = JSONPATH,
) -> None:
    """An integer in ``[minimum, maximum]``; JSONata states may give a ``{% %}`` expression."""
    if name not in obj:
        return
    value = obj[name]
    if language == JSONATA and jsonata_expression(value) is not None:
        return
    if not is_int(value):
        also = " or a JSONata expression" if language == JSONATA else ""
        ctx.add(key(path, name), f"{name} must be an integer{also}")
    elif not minimum <= value <= maximum:  # type: ignore[operator]
        ctx.add(key(path, name), f"{name} must be between {minimum} and {maximum}")


def check_path(
    ctx: Ctx, obj: Mapping[str, object], path: str, name: str, reference: bool, nullable: bool
) -> None:
    """A Path (or a Reference Path), or null where the spec allows it."""
    if name not in obj:
        return
    value = obj[name]
    if value is None and nullable:
        return
    kind = "a Reference Path" if reference else "a Path"
    if nullable:
        kind += " or null"
    if not isinstance(value, str):
        ctx.add(key(path, name), f"{name} must be {kind}")
        return
    ok = syntax.is_reference_path(value) if reference else syntax.is_path(value)
    if not ok:
        ctx.add(key(path, name), f"{name} must be {kind}; {value!r} is not")


def check_path_or_intrinsic(ctx: Ctx, value: object, path: str, what: str) -> None:
    """The value of a ``.$`` field: a Path or an intrinsic function (ASL spec, "Payload
    Template")."""
    if not isinstance(value, str):
        ctx.add(path, f"{what} must be a string holding a Path or an intrinsic function")
    elif value.startswith("States."):
        problem = syntax.intrinsic_problem(value)
        if problem:
            ctx.add(path, f"{what}: {problem}")
    elif not syntax.is_path(value):
        ctx.add(path, f"{what} must be a Path or an intrinsic function; {value!r} is neither")


def check_template(ctx: Ctx, value: object, path: str, name: str, top: bool = True) -> None:
    """A Payload Template: a JSON object whose ``.$`` fields hold Paths or intrinsic functions,
    at any depth (ASL spec, "Payload Template")."""
    if isinstance(value, dict):
        for field_name, inner in value.items():
            inner_path = key(path, field_name)
            if field_name.endswith(".$"):
                base = field_name[:-2]
                if base in value:
                    ctx.add(inner_path, f"fields {base} and {field_name} collide")
                check_path_or_intrinsic(ctx, inner, inner_path, f"{name} field {field_name}")
            else:
                check_template(ctx, inner, inner_path, name, top=False)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_template(ctx, item, index(path, i), name, top=False)
    elif top:
        ctx.add(path, f"{name} must be a JSON object")


def check_object(ctx: Ctx, obj: Mapping[str, object], path: str, name: str) -> None:
    if name in obj and not isinstance(obj[name], dict):
        ctx.add(key(path, name), f"{name} must be a JSON object")


def check_assign(ctx: Ctx, obj: Mapping[str, object], path: str, language: str) -> None:
    """``Assign``: an object of variable names (ASL variables, "Passing data between states
    with variables"); in JSONPath states ``name.$`` fields hold Paths or intrinsic functions."""
    if "Assign" not in obj:
        return
    value = obj["Assign"]
    assign_path = key(path, "Assign")
    if not isinstance(value, dict):
        ctx.add(assign_path, "Assign must be a JSON object of variable names")
        return
    for name, inner in value.items():
        inner_path = key(assign_path, name)
        variable = name[:-2] if language == JSONPATH and name.endswith(".$") else name
        if not variable.isidentifier() or len(variable) > 80:
            ctx.add(inner_path, f"{variable!r} is not a valid variable name")
        if language == JSONPATH:
            if name.endswith(".$"):
                check_path_or_intrinsic(ctx, inner, inner_path, f"Assign field {name}")
            else:
                check_template(ctx, inner, inner_path, "Assign", top=False)


def check_jsonata_strings(ctx: Ctx, value: object, path: str) -> None:
    """Every ``"{% ... %}"`` string in ``value`` must be a JSONata expression that compiles."""
    if isinstance(value, dict):
        for name, inner in value.items():
            check_jsonata_strings(ctx, inner, key(path, name))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            check_jsonata_strings(ctx, inner, index(path, i))
    else:
        if jsonata_expression(value) is not None:
            problem = syntax.jsonata_problem(str(value))
            if problem:
                ctx.add(path, f"JSONata expression does not compile: {problem}")
