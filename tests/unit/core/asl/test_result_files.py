"""The files a Distributed Map's ResultWriter exports (legato.core.asl.result_files; developer
guide, "ResultWriter (Map)")."""

from __future__ import annotations

import json

from legato.core.asl.result_files import MapRun, folder, manifest, result_files, writer_output
from legato.core.events import JSON

RUN = MapRun(
    arn="arn:aws:states:us-east-1:123456789012:mapRun:m/Map:r1",
    id="r1",
    machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m/Map",
    execution_prefix="arn:aws:states:us-east-1:123456789012:execution:m/Map:",
    name_prefix="e/Map/1/",
)


def test_the_folder_is_prefix_then_map_run_id() -> None:
    assert folder("jobs", "r1") == "jobs/r1/"
    assert folder("jobs/", "r1") == "jobs/r1/"
    assert folder("", "r1") == "r1/"


def test_files_per_status_and_the_manifest() -> None:
    records: list[list[JSON]] = [
        [0, "SUCCEEDED", {"a": 1}, {"b": 2}, None, None, 0, 1000],
        [1, "FAILED", {"a": 2}, None, "E", "why", 0, 2000],
        [2, "PENDING", {"a": 3}, None, None, None, 0, 0],
    ]
    files = result_files(RUN, records, "out")
    assert [key for key, _ in files] == [
        "out/r1/FAILED_0.json", "out/r1/PENDING_0.json", "out/r1/SUCCEEDED_0.json",
    ]  # fmt: skip
    failed, pending, succeeded = (json.loads(content) for _, content in files)
    assert succeeded == [
        {
            "ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:m/Map:e/Map/1/0",
            "Input": '{"a":1}',
            "InputDetails": {"Included": True},
            "Name": "e/Map/1/0",
            "Output": '{"b":2}',
            "OutputDetails": {"Included": True},
            "RedriveCount": 0,
            "StartDate": "1970-01-01T00:00:00.000Z",
            "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m/Map",
            "Status": "SUCCEEDED",
            "StopDate": "1970-01-01T00:00:01.000Z",
        }
    ]
    assert (failed[0]["Error"], failed[0]["Cause"], failed[0]["Status"]) == ("E", "why", "FAILED")
    assert "StartDate" not in pending[0] and pending[0]["Status"] == "PENDING"
    listed = json.loads(manifest(RUN, "bkt", files))
    assert listed["DestinationBucket"] == "bkt" and listed["MapRunArn"] == RUN.arn
    assert listed["ResultFiles"]["SUCCEEDED"] == [
        {"Key": "out/r1/SUCCEEDED_0.json", "Size": len(files[2][1])}
    ]
    assert writer_output(RUN, "bkt", "out") == {
        "MapRunArn": RUN.arn,
        "ResultWriterDetails": {"Bucket": "bkt", "Key": "out/r1/manifest.json"},
    }


def test_no_results_leave_an_empty_manifest() -> None:
    assert result_files(RUN, [], "") == []
    assert json.loads(manifest(RUN, "b", []))["ResultFiles"] == {
        "FAILED": [], "PENDING": [], "SUCCEEDED": [],
    }  # fmt: skip
    assert MapRun.from_json(RUN.to_json()) == RUN
