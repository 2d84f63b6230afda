"""Items from the objects a Distributed Map reads (legato.core.asl.item_formats; developer
guide, "ItemReader (Map)")."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.asl.item_formats import (
    ItemReadError,
    inventory_files,
    inventory_items,
    listed_item,
    parse_items,
)
from legato.core.events import JSON


def test_csv_with_a_header_row_gives_objects_of_strings() -> None:
    data = b'\xef\xbb\xbfid,name\n1,"Smith, Ann"\n\n2,Bo\n'
    items = parse_items(data, {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}, "b/k")
    assert items == [{"id": "1", "name": "Smith, Ann"}, {"id": "2", "name": "Bo"}]


def test_csv_with_given_headers_pads_short_rows_and_refuses_long_ones() -> None:
    config: dict[str, Any] = {
        "InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"],
        "CSVDelimiter": "PIPE",
    }  # fmt: skip
    assert parse_items(b"1|2\n3\n", config, "b/k") == [{"a": "1", "b": "2"}, {"a": "3", "b": ""}]
    with pytest.raises(ItemReadError, match=r"b/k: line 1 has 3 fields, the header 2"):
        parse_items(b"1|2|3\n", config, "b/k")


def test_json_lines_and_json_arrays_with_max_items() -> None:
    assert parse_items(b'{"a":1}\n\n[2]\n3\n', {"InputType": "JSONL", "MaxItems": 2}, "x") == [
        {"a": 1},
        [2],
    ]
    assert parse_items(b"[1, 2, 3]", {"InputType": "JSON", "MaxItems": 0}, "x") == [1, 2, 3]
    with pytest.raises(ItemReadError, match="needs a JSON array"):
        parse_items(b'{"a": 1}', {"InputType": "JSON"}, "x")
    with pytest.raises(ItemReadError, match="line 2 is not JSON"):
        parse_items(b"1\n{\n", {"InputType": "JSONL"}, "x")


def test_an_inventory_manifest_names_its_files_and_columns() -> None:
    manifest = {
        "destinationBucket": "arn:aws:s3:::inv",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "d/1.csv.gz"}, {"key": "d/2.csv"}],
    }
    bucket, keys, schema = inventory_files(json.dumps(manifest).encode(), "inv/m.json")
    assert (bucket, keys, schema) == ("inv", ["d/1.csv.gz", "d/2.csv"], ["Bucket", "Key", "Size"])
    rows = inventory_items(gzip.compress(b'"s","a b.jpg","3"\n'), "d/1.csv.gz", schema, "w")
    assert list(rows) == [{"Bucket": "s", "Key": "a b.jpg", "Size": "3"}]
    with pytest.raises(ItemReadError, match="only CSV"):
        inventory_files(json.dumps({**manifest, "fileFormat": "ORC"}).encode(), "m")


def test_a_listed_object_is_shaped_as_aws_gives_it() -> None:
    entry: dict[str, JSON] = {"ETag": '"e"', "Key": "k", "LastModified": 1700000000, "Size": 3}
    assert listed_item(entry) == {
        "Etag": '"e"', "Key": "k", "LastModified": 1700000000, "Size": 3,
        "StorageClass": "STANDARD",
    }  # fmt: skip


@given(st.lists(st.dictionaries(st.sampled_from("abc"), st.integers()), max_size=20))
def test_json_lines_round_trip(values: list[dict[str, int]]) -> None:
    data = "\n".join(json.dumps(v) for v in values).encode()
    assert parse_items(data, {"InputType": "JSONL"}, "x") == values
