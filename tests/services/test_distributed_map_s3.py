"""A Distributed Map against S3 (moto's server, the ``aws_emulator`` fixture): items read from
CSV, JSON Lines and S3 Inventory objects and from a listing, results written in AWS's layout
(developer guide, "ItemReader (Map)", "ResultWriter (Map)"), ``States.ItemReaderFailed``,
``States.ResultWriterFailed`` and tolerated failures ("Tolerated failure threshold")."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest

import legato
from legato.testing import WorkflowEnvironment
from tests.aws_emulator import Emulator

GET = "arn:aws:states:::s3:getObject"
PUT = "arn:aws:states:::s3:putObject"


def _s3(emulator: Emulator) -> Any:
    return boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1")


def _bucket(emulator: Emulator, **objects: bytes) -> str:
    """A new bucket (unique: tests share the session's emulator) holding ``objects``."""
    name = f"dmap-{uuid.uuid4().hex[:12]}"
    s3 = _s3(emulator)
    s3.create_bucket(Bucket=name)
    for key, body in objects.items():
        s3.put_object(Bucket=name, Key=key.replace("__", "/"), Body=body)
    return name


def _read_json(emulator: Emulator, bucket: str, key: str) -> Any:
    return json.loads(_s3(emulator).get_object(Bucket=bucket, Key=key)["Body"].read())


def _app(emulator: Emulator, tmp_path: Path) -> legato.App:
    app = legato.App(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        aws=legato.AwsSettings(endpoint_url=emulator.url),
    )

    @app.step(name="score")
    def score(item: dict[str, Any]) -> dict[str, Any]:
        if str(item.get("name", "")).startswith("bad"):
            raise ValueError(f"cannot score {item['name']}")
        return {"name": item["name"], "score": len(str(item["name"]))}

    return app


def _machine(reader: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Score",
            "States": {"Score": {"Type": "Task", "Resource": "score", "End": True}},
        },
        "MaxConcurrency": 2,
        "End": True,
        **extra,
    }
    if reader is not None:
        state["ItemReader"] = reader
    return {"StartAt": "Each", "States": {"Each": state}}


async def _outcome(app: legato.App, machine: dict[str, Any], input: Any = None) -> Any:
    """The execution's output, or its (error, cause) when it failed."""
    app.register_state_machine("scores", machine)
    try:
        async with WorkflowEnvironment(app):
            handle = await app.start("scores", input or {})
            try:
                return await handle.result(timeout=60)
            except legato.ExecutionFailedError:
                row = await handle.status_row()
                return (row.error_type, row.error_message)
    finally:  # the SDK clients live on this test's event loop
        await app.aws_clients.close()


async def test_a_csv_object_is_read_and_results_are_written_to_s3(
    aws_emulator: Emulator, tmp_path: Path
) -> None:
    source = _bucket(aws_emulator, **{"in__people.csv": b"name,city\nann,Oslo\nbob,Rome\n"})
    target = _bucket(aws_emulator)
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        "Parameters": {"Bucket": source, "Key": "in/people.csv"},
    }
    writer = {"Resource": PUT, "Parameters": {"Bucket": target, "Prefix": "jobs"}}
    output = await _outcome(_app(aws_emulator, tmp_path), _machine(reader, ResultWriter=writer))
    run_id = output["MapRunArn"].rsplit(":", 1)[-1]
    key = f"jobs/{run_id}/manifest.json"
    assert output["ResultWriterDetails"] == {"Bucket": target, "Key": key}
    manifest = _read_json(aws_emulator, target, key)
    assert manifest["DestinationBucket"] == target
    assert manifest["MapRunArn"] == output["MapRunArn"]
    assert manifest["ResultFiles"]["FAILED"] == manifest["ResultFiles"]["PENDING"] == []
    [listed] = manifest["ResultFiles"]["SUCCEEDED"]
    assert listed["Key"] == f"jobs/{run_id}/SUCCEEDED_0.json"
    entries = _read_json(aws_emulator, target, listed["Key"])
    assert [json.loads(e["Input"]) for e in entries] == [
        {"name": "ann", "city": "Oslo"},
        {"name": "bob", "city": "Rome"},
    ]
    assert [json.loads(e["Output"]) for e in entries] == [
        {"name": "ann", "score": 3},
        {"name": "bob", "score": 3},
    ]
    assert {e["Status"] for e in entries} == {"SUCCEEDED"}
    assert entries[0]["ExecutionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:execution:scores/Each:"
    )


async def test_a_json_lines_object_with_max_items(aws_emulator: Emulator, tmp_path: Path) -> None:
    lines = b'{"name": "ann"}\n{"name": "bob"}\n{"name": "cy"}\n'
    source = _bucket(aws_emulator, **{"items.jsonl": lines})
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "JSONL", "MaxItemsPath": "$.limit"},
        "Parameters": {"Bucket.$": "$.bucket", "Key": "items.jsonl"},
    }
    output = await _outcome(
        _app(aws_emulator, tmp_path), _machine(reader), {"bucket": source, "limit": 2}
    )
    assert output == [{"name": "ann", "score": 3}, {"name": "bob", "score": 3}]


async def test_a_csv_with_given_headers_and_a_json_object(
    aws_emulator: Emulator, tmp_path: Path
) -> None:
    source = _bucket(
        aws_emulator, **{"rows.csv": b"ann;1\nbob;2\n", "rows.json": b'[{"name": "cy"}]'}
    )
    csv_reader = {
        "Resource": GET,
        "ReaderConfig": {
            "InputType": "CSV",
            "CSVHeaderLocation": "GIVEN",
            "CSVHeaders": ["name", "rank"],
            "CSVDelimiter": "SEMICOLON",
        },
        "Parameters": {"Bucket": source, "Key": "rows.csv"},
    }
    app = _app(aws_emulator, tmp_path)
    assert await _outcome(app, _machine(csv_reader)) == [
        {"name": "ann", "score": 3},
        {"name": "bob", "score": 3},
    ]
    json_reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": source, "Key": "rows.json"},
    }
    app = _app(aws_emulator, tmp_path / "second")
    assert await _outcome(app, _machine(json_reader)) == [{"name": "cy", "score": 2}]


async def test_list_objects_v2_gives_one_item_per_object(
    aws_emulator: Emulator, tmp_path: Path
) -> None:
    source = _bucket(aws_emulator, **{"p__a.txt": b"1", "p__b.txt": b"22", "q__c.txt": b"333"})
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": source, "Prefix": "p/"},
    }
    selector = {"name.$": "$$.Map.Item.Value.Key", "size.$": "$$.Map.Item.Value.Size"}
    machine = _machine(reader, ItemSelector=selector)
    machine["States"]["Each"]["ItemProcessor"]["States"] = {"P": {"Type": "Pass", "End": True}}
    machine["States"]["Each"]["ItemProcessor"]["StartAt"] = "P"
    output = await _outcome(_app(aws_emulator, tmp_path), machine)
    assert output == [{"name": "p/a.txt", "size": 1}, {"name": "p/b.txt", "size": 2}]


async def test_an_s3_inventory_manifest_reads_its_gzipped_csv_files(
    aws_emulator: Emulator, tmp_path: Path
) -> None:
    inventory = _bucket(aws_emulator)
    data = gzip.compress(b'"src","ann.jpg","10"\n"src","bob.jpg","20"\n')
    manifest = {
        "sourceBucket": "src",
        "destinationBucket": f"arn:aws:s3:::{inventory}",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "inv/data/1.csv.gz", "size": len(data), "MD5checksum": "x"}],
    }
    s3 = _s3(aws_emulator)
    s3.put_object(Bucket=inventory, Key="inv/data/1.csv.gz", Body=data)
    s3.put_object(Bucket=inventory, Key="inv/manifest.json", Body=json.dumps(manifest).encode())
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "MANIFEST"},
        "Parameters": {"Bucket": inventory, "Key": "inv/manifest.json"},
    }
    machine = _machine(reader, ItemSelector={"name.$": "$$.Map.Item.Value.Key"})
    output = await _outcome(_app(aws_emulator, tmp_path), machine)
    assert output == [{"name": "ann.jpg", "score": 7}, {"name": "bob.jpg", "score": 7}]


async def test_a_missing_object_is_item_reader_failed(
    aws_emulator: Emulator, tmp_path: Path
) -> None:
    source = _bucket(aws_emulator)
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": source, "Key": "nowhere.json"},
    }
    error, cause = await _outcome(_app(aws_emulator, tmp_path), _machine(reader))
    assert error == "States.ItemReaderFailed"
    assert f"{source}/nowhere.json" in cause and "NoSuchKey" in cause


async def test_item_reader_failed_is_caught_like_any_error(
    aws_emulator: Emulator, tmp_path: Path
) -> None:
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "JSONL"},
        "Parameters": {"Bucket": _bucket(aws_emulator, **{"x.jsonl": b"{not json\n"}),
                       "Key": "x.jsonl"},
    }  # fmt: skip
    machine = _machine(reader)
    state = machine["States"]["Each"]
    del state["End"]
    state["Next"] = "Caught"
    state["Catch"] = [{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Caught"}]
    machine["States"]["Caught"] = {"Type": "Pass", "End": True}
    output = await _outcome(_app(aws_emulator, tmp_path), machine)
    assert output["Error"] == "States.ItemReaderFailed"
    assert "line 1 is not JSON" in output["Cause"]


async def test_a_missing_result_bucket_is_result_writer_failed(
    aws_emulator: Emulator, tmp_path: Path
) -> None:
    writer = {"Resource": PUT, "Parameters": {"Bucket": f"absent-{uuid.uuid4().hex[:8]}"}}
    machine = _machine(None, ItemsPath="$.items", ResultWriter=writer)
    error, cause = await _outcome(
        _app(aws_emulator, tmp_path), machine, {"items": [{"name": "ann"}]}
    )
    assert error == "States.ResultWriterFailed"
    assert "NoSuchBucket" in cause


@pytest.mark.parametrize(
    ("tolerance", "expected_error", "pending"),
    [
        ({"ToleratedFailureCount": 2}, None, 0),
        ({"ToleratedFailurePercentage": 50}, None, 0),
        ({"ToleratedFailureCount": 1}, "States.ExceedToleratedFailureThreshold", 0),
        ({}, "States.ExceedToleratedFailureThreshold", 2),
    ],
)
async def test_tolerated_failures(
    aws_emulator: Emulator,
    tmp_path: Path,
    tolerance: dict[str, Any],
    expected_error: str | None,
    pending: int,
) -> None:
    """Two of four children fail: tolerated with a count of 2 or 50%, not with 1 or none;
    the results are written either way, with the failures in FAILED_0.json."""
    lines = b'{"name": "ann"}\n{"name": "bad1"}\n{"name": "bo"}\n{"name": "bad2"}\n'
    source = _bucket(aws_emulator, **{"in.jsonl": lines})
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "JSONL"},
        "Parameters": {"Bucket": source, "Key": "in.jsonl"},
    }
    writer = {"Resource": PUT, "Parameters": {"Bucket": source, "Prefix": "out/"}}
    machine = _machine(reader, ResultWriter=writer, MaxConcurrency=1, **tolerance)
    outcome = await _outcome(_app(aws_emulator, tmp_path), machine)
    listing = _s3(aws_emulator).list_objects_v2(Bucket=source, Prefix="out/")
    keys = sorted(o["Key"].rsplit("/", 1)[-1] for o in listing.get("Contents", []))
    if expected_error is None:
        assert keys == ["FAILED_0.json", "SUCCEEDED_0.json", "manifest.json"]
        run_id = outcome["MapRunArn"].rsplit(":", 1)[-1]
        failed = _read_json(aws_emulator, source, f"out/{run_id}/FAILED_0.json")
        assert [(e["Error"], e["Status"]) for e in failed] == [("ValueError", "FAILED")] * 2
        assert "cannot score bad1" in failed[0]["Cause"]
    else:
        error, cause = outcome
        assert error == expected_error
        assert "child executions failed" in cause
        # MaxConcurrency 1: the Map Run stops at the failure that passes the threshold; the
        # items never started are PENDING (with none tolerated: the two after "bad1")
        assert "manifest.json" in keys and "FAILED_0.json" in keys
        [folder] = {o["Key"].rsplit("/", 1)[0] for o in listing["Contents"]}
        files = _read_json(aws_emulator, source, f"{folder}/manifest.json")["ResultFiles"]
        if pending:
            [pending_file] = files["PENDING"]
            entries = _read_json(aws_emulator, source, pending_file["Key"])
            assert [json.loads(e["Input"]) for e in entries] == [{"name": "bo"}, {"name": "bad2"}]
            assert {e["Status"] for e in entries} == {"PENDING"}
        else:
            assert files["PENDING"] == []
