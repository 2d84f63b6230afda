"""What a Distributed Map's ``ItemReader`` makes of the objects it reads (developer guide,
"ItemReader (Map)"): pure functions from bytes to items, so the reading step only fetches.

* ``InputType: JSON``: the object is a JSON array; each element is an item.
* ``InputType: JSONL``: one JSON value per line; blank lines are skipped.
* ``InputType: CSV``: each row an object of text values keyed by the header, which is the first
  row (``CSVHeaderLocation: FIRST_ROW``) or ``CSVHeaders`` (``GIVEN``); ``CSVDelimiter``
  COMMA (default), PIPE, SEMICOLON, SPACE or TAB.
* ``InputType: MANIFEST``: an S3 Inventory ``manifest.json``; its CSV data files (gzipped or
  not, no header) give one item per row keyed by the manifest's ``fileSchema``.
* ``s3:listObjectsV2`` (no ReaderConfig InputType): one item per object,
  ``{Etag, Key, LastModified (epoch seconds), Size, StorageClass}``.

Each problem raises :class:`ItemReadError` with a cause naming the object and the line, which
the reading step reports as ``States.ItemReaderFailed``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from legato.core.events import JSON

ITEM_READER_FAILED: Final = "States.ItemReaderFailed"
RESULT_WRITER_FAILED: Final = "States.ResultWriterFailed"

INPUT_TYPES: Final = ("CSV", "JSON", "JSONL", "MANIFEST")
HEADER_LOCATIONS: Final = ("FIRST_ROW", "GIVEN")
DELIMITERS: Final = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


class ItemReadError(Exception):
    """An object the reader cannot turn into items: the cause of ``States.ItemReaderFailed``."""


def parse_items(data: bytes, config: Mapping[str, JSON], where: str) -> list[JSON]:
    """The items of one object read with ``s3:getObject`` under ``config`` (the evaluated
    ReaderConfig), at most ``MaxItems`` of them; ``where`` names the object in errors."""
    kind = config.get("InputType")
    limit = max_items(config)
    text = _text(data, where)
    if kind == "JSON":
        return _json_array(text, where)[:limit]
    if kind == "JSONL":
        return take(_json_lines(text, where), limit)
    if kind == "CSV":
        return take(csv_items(text, config, where), limit)
    raise ItemReadError(f"{where}: InputType {kind!r} cannot be read with s3:getObject")


def max_items(config: Mapping[str, JSON]) -> int | None:
    """``MaxItems`` (evaluated): None or 0 means no limit (developer guide: up to 100,000,000)."""
    value = config.get("MaxItems")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    return None


def csv_items(text: str, config: Mapping[str, JSON], where: str) -> Iterator[JSON]:
    """Rows as objects of strings; a row longer than the header is an error, a shorter one
    leaves the missing columns empty (AWS pads them too)."""
    delimiter = DELIMITERS.get(str(config.get("CSVDelimiter", "COMMA")), ",")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    if config.get("CSVHeaderLocation") == "GIVEN":
        header = [str(h) for h in config.get("CSVHeaders") or []]  # type: ignore[union-attr]
    else:
        first = next(rows, None)
        if first is None:
            return
        header = first
    width = len(header)
    for row in rows:
        if not row:
            continue
        if len(row) > width:
            raise ItemReadError(
                f"{where}: line {rows.line_num} has {len(row)} fields, the header {width}"
            )
        if len(row) < width:
            row = row + [""] * (width - len(row))
        yield dict(zip(header, row, strict=True))


def inventory_files(data: bytes, where: str) -> tuple[str, list[str], list[str]]:
    """An S3 Inventory ``manifest.json``: the bucket its data files are in, their keys, and
    the column names (``fileSchema``). Only the CSV format is read (ORC and Parquet are not)."""
    try:
        manifest = json.loads(_text(data, where))
    except json.JSONDecodeError as exc:
        raise ItemReadError(f"{where}: the manifest is not JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ItemReadError(f"{where}: the manifest must be a JSON object")
    if manifest.get("fileFormat", "CSV") != "CSV":
        raise ItemReadError(
            f"{where}: only CSV S3 Inventory reports are read, not {manifest.get('fileFormat')!r}"
        )
    bucket = str(manifest.get("destinationBucket", ""))
    bucket = bucket.rsplit(":", 1)[-1]  # arn:aws:s3:::NAME
    files = manifest.get("files")
    schema = manifest.get("fileSchema")
    if not bucket or not isinstance(files, list) or not isinstance(schema, str):
        raise ItemReadError(f"{where}: a manifest needs destinationBucket, fileSchema and files")
    keys = [str(f.get("key")) for f in files if isinstance(f, dict) and f.get("key")]
    return bucket, keys, [name.strip() for name in schema.split(",")]


def inventory_items(data: bytes, key: str, schema: list[str], where: str) -> Iterator[JSON]:
    """The rows of one inventory data file (gzipped when its key ends in ``.gz``)."""
    if key.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ItemReadError(f"{where}: not a gzip file ({exc})") from None
    config: dict[str, JSON] = {"CSVHeaderLocation": "GIVEN", "CSVHeaders": list(schema)}
    return csv_items(_text(data, where), config, where)


def listed_item(entry: Mapping[str, JSON]) -> JSON:
    """One object of a listing, as the Distributed Map gives it to an iteration; entries come
    with ``LastModified`` as epoch seconds (the step converts botocore's datetimes)."""
    return {
        "Etag": entry.get("ETag", entry.get("Etag")),
        "Key": entry.get("Key"),
        "LastModified": entry.get("LastModified"),
        "Size": entry.get("Size"),
        "StorageClass": entry.get("StorageClass", "STANDARD"),
    }


def take(items: Iterable[JSON], limit: int | None) -> list[JSON]:
    out: list[JSON] = []
    for item in items:
        if limit is not None and len(out) >= limit:
            break
        out.append(item)
    return out


def _text(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ItemReadError(f"{where}: not UTF-8 text ({exc})") from None


def _json_array(text: str, where: str) -> list[JSON]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ItemReadError(f"{where}: not JSON ({exc})") from None
    if not isinstance(value, list):
        raise ItemReadError(f"{where}: InputType JSON needs a JSON array")
    return value


def _json_lines(text: str, where: str) -> Iterator[JSON]:
    decode = json.JSONDecoder().decode
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield decode(line)
        except json.JSONDecodeError as exc:
            raise ItemReadError(f"{where}: line {number} is not JSON ({exc.msg})") from None
