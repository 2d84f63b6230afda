"""Member names between Step Functions' PascalCase and the service model's own spelling.

Step Functions writes an ``aws-sdk`` call's parameters and reads its response in PascalCase
"even if the native service API is in camelCase" (developer guide, "Learning to use AWS service
SDK integrations": ``startSyncExecution`` takes ``StateMachineArn``), while botocore takes and
gives the model's member names (``stateMachineArn``). Only structure members are renamed: the
keys of a map (a DynamoDB item's attribute names, tags) are data and stay as they are, so the
walk follows the operation's input or output shape."""

from __future__ import annotations

from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape


def pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def to_model(shape: Shape | None, value: Any) -> Any:
    """``value`` written in PascalCase, with each structure member under the model's name
    (a name already the model's is kept; one the model lacks is left for botocore to name)."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        members = shape.members
        by_pascal = {pascal(name): name for name in members}
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key) if key in members else by_pascal.get(str(key), str(key))
            out[name] = to_model(members.get(name), item)
        return out
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [to_model(shape.member, item) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: to_model(shape.value, item) for key, item in value.items()}
    return value


def from_model(shape: Shape | None, value: Any) -> Any:
    """A response with each structure member's name in PascalCase, as Step Functions gives it."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        members = shape.members
        return {pascal(key): from_model(members.get(key), item) for key, item in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [from_model(shape.member, item) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: from_model(shape.value, item) for key, item in value.items()}
    return value
