"""The files a Distributed Map's ``ResultWriter`` exports, in AWS's layout (developer guide,
"ResultWriter (Map)", "Exporting to Amazon S3"), built from the Map Run's compact records so
the writing step only stores bytes.

Under ``<Prefix>/<map run id>/``: ``SUCCEEDED_0.json``, ``FAILED_0.json`` and
``PENDING_0.json`` (a JSON array of child executions each, written only when there is one) and
``manifest.json``, ``{DestinationBucket, MapRunArn, ResultFiles: {FAILED, PENDING, SUCCEEDED:
[{Key, Size}]}}``. The Map state's result is then ``{MapRunArn, ResultWriterDetails: {Bucket,
Key}}`` with the manifest's key. AWS starts a new numbered file past 5 GB; Legato holds the
results of one Map Run in memory, so one file per status is all it writes.

A record (what the Map Run keeps of each child) is a list ``[index, status, input, output,
error, cause, start_ms, stop_ms]``; PENDING records were never started.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, cast

from legato.core.asl.times import format_timestamp
from legato.core.events import JSON

STATUSES: Final = ("FAILED", "PENDING", "SUCCEEDED")


@dataclass(frozen=True)
class MapRun:
    """Who the children are: their state machine (``MACHINE/LABEL``) and execution ARNs."""

    arn: str  # arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:ID
    id: str
    machine_arn: str  # arn:aws:states:REGION:ACCOUNT:stateMachine:MACHINE/LABEL
    execution_prefix: str  # arn:aws:states:REGION:ACCOUNT:execution:MACHINE/LABEL:
    name_prefix: str  # a child's name (Legato execution id) is this + its index

    def to_json(self) -> JSON:
        return [self.arn, self.id, self.machine_arn, self.execution_prefix, self.name_prefix]

    @classmethod
    def from_json(cls, value: JSON) -> MapRun:
        arn, id_, machine, prefix, names = cast(list[str], value)
        return cls(arn, id_, machine, prefix, names)


def folder(prefix: str, map_run_id: str) -> str:
    """``Prefix/<map run id>/`` (no leading slash when there is no prefix)."""
    head = prefix.strip("/")
    return f"{head}/{map_run_id}/" if head else f"{map_run_id}/"


def entry(run: MapRun, record: Sequence[JSON]) -> JSON:
    """One child execution as the result files describe it."""
    index, status, child_input, output, error, cause, start, stop = record
    name = f"{run.name_prefix}{index}"
    out: dict[str, JSON] = {
        "ExecutionArn": run.execution_prefix + name,
        "Input": json.dumps(child_input, separators=(",", ":")),
        "InputDetails": {"Included": True},
        "Name": name,
    }
    if status == "SUCCEEDED":
        out["Output"] = json.dumps(output, separators=(",", ":"))
        out["OutputDetails"] = {"Included": True}
    elif status == "FAILED":
        out["Error"] = error
        out["Cause"] = cause
    out["RedriveCount"] = 0
    if status != "PENDING":
        out["StartDate"] = format_timestamp(cast(int, start))
    out["StateMachineArn"] = run.machine_arn
    out["Status"] = status
    if status != "PENDING":
        out["StopDate"] = format_timestamp(cast(int, stop))
    return out


def result_files(
    run: MapRun, records: Sequence[Sequence[JSON]], prefix: str
) -> list[tuple[str, bytes]]:
    """The result files (key, content) to write for these records, one per status that has
    any, in FAILED, PENDING, SUCCEEDED order; the manifest comes from :func:`manifest`."""
    base = folder(prefix, run.id)
    files: list[tuple[str, bytes]] = []
    for status in STATUSES:
        chosen = [entry(run, r) for r in records if r[1] == status]
        if chosen:
            text = json.dumps(chosen, separators=(",", ":"))
            files.append((f"{base}{status}_0.json", text.encode()))
    return files


def manifest(run: MapRun, bucket: str, files: Sequence[tuple[str, bytes]]) -> bytes:
    """``manifest.json``: which file holds which status, with sizes."""
    listed: dict[str, JSON] = {status: [] for status in STATUSES}
    for key, content in files:
        status = key.rsplit("/", 1)[-1].split("_", 1)[0]
        cast(list[JSON], listed[status]).append({"Key": key, "Size": len(content)})
    body = {"DestinationBucket": bucket, "MapRunArn": run.arn, "ResultFiles": listed}
    return json.dumps(body, separators=(",", ":")).encode()


def writer_output(run: MapRun, bucket: str, prefix: str) -> JSON:
    """The Map state's result once its results are exported."""
    return {
        "MapRunArn": run.arn,
        "ResultWriterDetails": {"Bucket": bucket, "Key": folder(prefix, run.id) + "manifest.json"},
    }
