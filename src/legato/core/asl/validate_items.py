"""Validation of a Distributed Map's ``ItemReader`` and ``ResultWriter`` (developer guide,
"ItemReader (Map)", "ResultWriter (Map)", "Distributed Map state").

Both belong to a Map whose ``ItemProcessor.ProcessorConfig.Mode`` is ``DISTRIBUTED``. The
reader is ``s3:getObject`` (with ``ReaderConfig.InputType`` JSON, JSONL, CSV or MANIFEST) or
``s3:listObjectsV2``; the writer is ``s3:putObject`` with a Bucket (and Prefix). Their
Parameters (JSONPath) or Arguments (JSONata) name the bucket; a bucket given as a URL
(``file:///data``, ``memory://x``: any fsspec URL) is read and written without AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from legato.core.asl.item_formats import DELIMITERS, HEADER_LOCATIONS, INPUT_TYPES
from legato.core.asl.validate_fields import (
    JSONATA,
    JSONPATH,
    Ctx,
    check_exclusive,
    check_int,
    check_path,
    check_template,
    jsonata_expression,
    key,
)

GET_OBJECT: Final = "arn:aws:states:::s3:getObject"
LIST_OBJECTS: Final = "arn:aws:states:::s3:listObjectsV2"
PUT_OBJECT: Final = "arn:aws:states:::s3:putObject"
MAX_ITEMS: Final = 100_000_000

_READER_FIELDS = {"Resource", "ReaderConfig", "Parameters", "Arguments"}
_WRITER_FIELDS = {"Resource", "Parameters", "Arguments"}
_CONFIG_FIELDS = {
    "InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems", "MaxItemsPath",
}  # fmt: skip


def is_distributed(state: Mapping[str, object]) -> bool:
    """Whether a Map state runs in distributed mode (``ProcessorConfig.Mode: DISTRIBUTED``)."""
    processor = state.get("ItemProcessor", state.get("Iterator"))
    if not isinstance(processor, dict):
        return False
    config = processor.get("ProcessorConfig")
    return isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED"


def check_items(ctx: Ctx, fields: Mapping[str, object], path: str, language: str) -> None:
    """Every problem of a Map state's ItemReader and ResultWriter."""
    for name in ("ItemReader", "ResultWriter"):
        if name in fields and not is_distributed(fields):
            ctx.add(
                key(path, name),
                f"{name} needs a Distributed Map (ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED)",
            )
    if "ItemReader" in fields:
        _check_reader(ctx, fields["ItemReader"], key(path, "ItemReader"), language)
    if "ResultWriter" in fields:
        _check_writer(ctx, fields["ResultWriter"], key(path, "ResultWriter"), language)


def _check_reader(ctx: Ctx, reader: object, path: str, language: str) -> None:
    if not isinstance(reader, dict):
        ctx.add(path, "ItemReader must be a JSON object")
        return
    _check_fields(ctx, reader, path, _READER_FIELDS, "ItemReader")
    resource = reader.get("Resource")
    if resource not in (GET_OBJECT, LIST_OBJECTS):
        ctx.add(
            key(path, "Resource"),
            f"ItemReader Resource must be {GET_OBJECT} or {LIST_OBJECTS}",
        )
    _check_arguments(ctx, reader, path, language, ("Bucket",))
    config = reader.get("ReaderConfig", {})
    at = key(path, "ReaderConfig")
    if not isinstance(config, dict):
        ctx.add(at, "ReaderConfig must be a JSON object")
        return
    _check_fields(ctx, config, at, _CONFIG_FIELDS, "ReaderConfig")
    kind = config.get("InputType")
    if resource == GET_OBJECT and kind is None:
        ctx.add(key(at, "InputType"), f"InputType is required to read items with {GET_OBJECT}")
    elif resource == LIST_OBJECTS and kind is not None:
        ctx.add(key(at, "InputType"), f"InputType is not used with {LIST_OBJECTS}")
    elif kind is not None and kind not in INPUT_TYPES:
        ctx.add(key(at, "InputType"), f"InputType must be one of {', '.join(INPUT_TYPES)}")
    _check_csv(ctx, config, at, kind)
    check_exclusive(ctx, config, at, ("MaxItems", "MaxItemsPath"), required=False)
    check_int(ctx, config, at, "MaxItems", 0, MAX_ITEMS, language=language)
    if language == JSONPATH:
        check_path(ctx, config, at, "MaxItemsPath", reference=True, nullable=False)
    elif "MaxItemsPath" in config:
        ctx.add(key(at, "MaxItemsPath"), "MaxItemsPath is not allowed in JSONata states")


def _check_csv(ctx: Ctx, config: Mapping[str, object], path: str, kind: object) -> None:
    for name in ("CSVHeaderLocation", "CSVHeaders", "CSVDelimiter"):
        if name in config and kind != "CSV":
            ctx.add(key(path, name), f"{name} is only used with InputType CSV")
    location = config.get("CSVHeaderLocation", "FIRST_ROW")
    if location not in HEADER_LOCATIONS:
        ctx.add(key(path, "CSVHeaderLocation"), "CSVHeaderLocation must be FIRST_ROW or GIVEN")
    headers = config.get("CSVHeaders")
    if location == "GIVEN" and kind == "CSV":
        valid = isinstance(headers, list) and headers and all(isinstance(h, str) for h in headers)
        if not valid:
            ctx.add(
                key(path, "CSVHeaders"),
                "CSVHeaders must be a non-empty array of strings with CSVHeaderLocation GIVEN",
            )
    elif "CSVHeaders" in config:
        ctx.add(key(path, "CSVHeaders"), "CSVHeaders needs CSVHeaderLocation GIVEN")
    if "CSVDelimiter" in config and config["CSVDelimiter"] not in DELIMITERS:
        ctx.add(key(path, "CSVDelimiter"), f"CSVDelimiter must be one of {', '.join(DELIMITERS)}")


def _check_writer(ctx: Ctx, writer: object, path: str, language: str) -> None:
    if not isinstance(writer, dict):
        ctx.add(path, "ResultWriter must be a JSON object")
        return
    if "WriterConfig" in writer:
        ctx.add(
            key(path, "WriterConfig"),
            "Legato does not support WriterConfig yet: results are written as AWS writes them "
            "without it (Transformation NONE, OutputType JSON)",
        )
    _check_fields(ctx, writer, path, _WRITER_FIELDS | {"WriterConfig"}, "ResultWriter")
    if writer.get("Resource") != PUT_OBJECT:
        ctx.add(key(path, "Resource"), f"ResultWriter Resource must be {PUT_OBJECT}")
    _check_arguments(ctx, writer, path, language, ("Bucket",))


def _check_fields(
    ctx: Ctx, obj: Mapping[str, object], path: str, allowed: set[str], what: str
) -> None:
    for name in obj:
        if name not in allowed:
            ctx.add(key(path, name), f"field {name} is not allowed in {what}")


def _check_arguments(
    ctx: Ctx, obj: Mapping[str, object], path: str, language: str, required: tuple[str, ...]
) -> None:
    """Parameters (JSONPath) or Arguments (JSONata): an object naming at least the bucket."""
    name = "Arguments" if language == JSONATA else "Parameters"
    wrong = "Parameters" if language == JSONATA else "Arguments"
    if wrong in obj:
        ctx.add(key(path, wrong), f"{wrong} is not allowed in {language} states; use {name}")
    if name not in obj:
        ctx.add(key(path, name), f"{name} is required (it names the Bucket)")
        return
    value = obj[name]
    at = key(path, name)
    if language == JSONATA and jsonata_expression(value) is not None:
        return
    if not isinstance(value, dict):
        ctx.add(at, f"{name} must be a JSON object")
        return
    if language == JSONPATH:
        check_template(ctx, value, at, name)
    for field in required:
        if field not in value and field + ".$" not in value:
            ctx.add(key(at, field), f"{field} is required")
