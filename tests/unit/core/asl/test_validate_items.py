"""Validation of a Distributed Map's ItemReader and ResultWriter (legato.core.asl.validate_items;
developer guide, "ItemReader (Map)", "ResultWriter (Map)")."""

from __future__ import annotations

from typing import Any

import pytest

from legato.core.asl.validate import validate

GET = "arn:aws:states:::s3:getObject"
LIST = "arn:aws:states:::s3:listObjectsV2"
PUT = "arn:aws:states:::s3:putObject"


def dmap(language: str = "JSONPath", mode: str = "DISTRIBUTED", **fields: Any) -> dict[str, Any]:
    state = {
        "Type": "Map",
        "End": True,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": mode},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}},
        },
        **fields,
    }
    return {"QueryLanguage": language, "StartAt": "A", "States": {"A": state}}


def reader(config: dict[str, Any] | None = None, resource: str = GET, **params: Any) -> Any:
    out: dict[str, Any] = {
        "Resource": resource,
        "Parameters": {"Bucket": "b", "Key": "k", **params},
    }
    if config is not None:
        out["ReaderConfig"] = config
    return out


VALID = [
    dmap(ItemReader=reader({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"})),
    dmap(ItemReader=reader({"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
                            "CSVHeaders": ["a", "b"], "CSVDelimiter": "TAB"})),
    dmap(ItemReader=reader({"InputType": "JSONL", "MaxItems": 10})),
    dmap(ItemReader=reader({"InputType": "JSON", "MaxItemsPath": "$.max"})),
    dmap(ItemReader=reader({"InputType": "MANIFEST"})),
    dmap(ItemReader={"Resource": LIST, "Parameters": {"Bucket.$": "$.bucket", "Prefix": "p/"}}),
    dmap(ResultWriter={"Resource": PUT, "Parameters": {"Bucket": "b", "Prefix": "out"}}),
    dmap("JSONata", ItemReader={"Resource": GET, "ReaderConfig": {"InputType": "JSON",
         "MaxItems": "{% $states.input.n %}"}, "Arguments": {"Bucket": "b", "Key": "k"}}),
    dmap("JSONata", ResultWriter={"Resource": PUT, "Arguments": "{% $states.input.where %}"}),
]  # fmt: skip


@pytest.mark.parametrize("definition", VALID)
def test_valid_readers_and_writers(definition: dict[str, Any]) -> None:
    assert validate(definition) == []


INVALID = [
    (dmap(mode="INLINE", ItemReader=reader({"InputType": "CSV"})), "$.States.A.ItemReader",
     "needs a Distributed Map"),
    (dmap(ItemReader=reader()), "$.States.A.ItemReader.ReaderConfig.InputType",
     "InputType is required"),
    (dmap(ItemReader=reader({"InputType": "XML"})), "$.States.A.ItemReader.ReaderConfig.InputType",
     "must be one of CSV, JSON, JSONL, MANIFEST"),
    (dmap(ItemReader=reader({"InputType": "JSON"}, resource=LIST)),
     "$.States.A.ItemReader.ReaderConfig.InputType", "not used with"),
    (dmap(ItemReader=reader({"InputType": "CSV"}, resource="arn:aws:states:::s3:getObjects")),
     "$.States.A.ItemReader.Resource", "must be arn:aws:states:::s3:getObject or"),
    (dmap(ItemReader=reader({"InputType": "CSV", "CSVHeaderLocation": "GIVEN"})),
     "$.States.A.ItemReader.ReaderConfig.CSVHeaders", "non-empty array of strings"),
    (dmap(ItemReader=reader({"InputType": "CSV", "CSVHeaders": ["a"]})),
     "$.States.A.ItemReader.ReaderConfig.CSVHeaders", "needs CSVHeaderLocation GIVEN"),
    (dmap(ItemReader=reader({"InputType": "JSON", "CSVHeaderLocation": "FIRST_ROW"})),
     "$.States.A.ItemReader.ReaderConfig.CSVHeaderLocation", "only used with InputType CSV"),
    (dmap(ItemReader=reader({"InputType": "JSON", "MaxItems": -1})),
     "$.States.A.ItemReader.ReaderConfig.MaxItems", "between 0 and 100000000"),
    (dmap(ItemReader=reader({"InputType": "JSON", "MaxItems": 1, "MaxItemsPath": "$.n"})),
     "$.States.A.ItemReader.ReaderConfig.MaxItemsPath", "mutually exclusive"),
    (dmap(ItemReader=reader({"InputType": "JSON", "Sheet": 1})),
     "$.States.A.ItemReader.ReaderConfig.Sheet", "not allowed in ReaderConfig"),
    (dmap(ItemReader={"Resource": GET, "ReaderConfig": {"InputType": "JSON"}}),
     "$.States.A.ItemReader.Parameters", "Parameters is required"),
    (dmap(ItemReader={"Resource": LIST, "Parameters": {"Prefix": "p"}}),
     "$.States.A.ItemReader.Parameters.Bucket", "Bucket is required"),
    (dmap(ResultWriter={"Resource": GET, "Parameters": {"Bucket": "b"}}),
     "$.States.A.ResultWriter.Resource", "must be arn:aws:states:::s3:putObject"),
    (dmap(ResultWriter={"Resource": PUT, "Parameters": {"Bucket": "b"},
                        "WriterConfig": {"OutputType": "JSONL"}}),
     "$.States.A.ResultWriter.WriterConfig", "does not support WriterConfig"),
    (dmap("JSONata", ResultWriter={"Resource": PUT, "Parameters": {"Bucket": "b"}}),
     "$.States.A.ResultWriter.Parameters", "use Arguments"),
]  # fmt: skip


@pytest.mark.parametrize(("definition", "path", "words"), INVALID)
def test_invalid_readers_and_writers(definition: dict[str, Any], path: str, words: str) -> None:
    problems = validate(definition)
    assert any(p.path == path and words in p.rule for p in problems), problems
