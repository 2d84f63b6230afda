"""Bedrock ``invokeModel``, optimized (developer guide, "Invoke and customize Amazon Bedrock
models with Step Functions"): ``Body`` given as JSON is sent as JSON text, and the model's
JSON answer comes back as an object under ``Body``.

moto's bedrock-runtime answers every model with an empty body, which checks the call and the
result's shape but not that the request and answer bodies make the round trip; for that, a
small local HTTP server speaks bedrock-runtime's InvokeModel REST API
(``POST /model/{modelId}/invoke``) as an echoing model, and the app's ``bedrock-runtime``
endpoint points at it."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.aws_emulator import Emulator
from tests.services.optimized_runs import app_for, client, run_task, unique

ARN = "arn:aws:states:::bedrock:invokeModel"


class _Model(BaseHTTPRequestHandler):
    """An echoing model: answers ``{"completion": "echo: <prompt>", ...}``; the model
    ``refuses`` answers with bedrock-runtime's ValidationException."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        parts = self.path.split("/")
        model = urllib.parse.unquote(parts[2]) if len(parts) > 3 else ""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if model == "refuses":
            self._answer(400, {"message": "Malformed input request"}, "ValidationException")
            return
        request = json.loads(body)
        self._answer(
            200,
            {
                "completion": f"echo: {request['prompt']}",
                "model": model,
                "contentType": self.headers.get("Content-Type"),
                "accept": self.headers.get("Accept"),
            },
        )

    def _answer(self, status: int, payload: object, error: str | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if error is not None:
            self.send_header("x-amzn-ErrorType", error)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def model_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Model)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_invoke_model_body_round_trip(aws_emulator: Emulator, model_server: str) -> None:
    app = app_for(aws_emulator, **{"bedrock-runtime": model_server})
    run = await run_task(
        aws_emulator,
        ARN,
        {"ModelId": "anthropic.claude-v2", "Body": {"prompt.$": "$.question", "max_tokens": 10}},
        {"question": "why?"},
        app=app,
    )
    assert run.status == "COMPLETED", run.cause
    assert run.output == {
        "Body": {
            "completion": "echo: why?",
            "model": "anthropic.claude-v2",
            "contentType": "application/json",
            "accept": "application/json",
        },
        "ContentType": "application/json",
    }


async def test_invoke_model_error_name(aws_emulator: Emulator, model_server: str) -> None:
    app = app_for(aws_emulator, **{"bedrock-runtime": model_server})
    run = await run_task(
        aws_emulator, ARN, {"ModelId": "refuses", "Body": {"prompt": "x"}}, app=app
    )
    assert run.status == "FAILED"
    assert run.error == "Bedrock.ValidationException"


async def test_invoke_model_against_moto(aws_emulator: Emulator) -> None:
    run = await run_task(aws_emulator, ARN, {"ModelId": "amazon.titan", "Body": {"inputText": "x"}})
    assert run.status == "COMPLETED", run.cause
    assert run.output == {"Body": {}, "ContentType": "application/json"}


async def test_invoke_model_reads_its_input_from_s3(
    aws_emulator: Emulator, model_server: str
) -> None:
    bucket = unique("prompts")
    s3 = client(aws_emulator, "s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/q.json", Body=b'{"prompt": "from s3"}')
    app = app_for(aws_emulator, **{"bedrock-runtime": model_server})
    run = await run_task(
        aws_emulator,
        ARN,
        {"ModelId": "m", "Input": {"S3Uri": f"s3://{bucket}/in/q.json"}},
        app=app,
    )
    assert run.status == "COMPLETED", run.cause
    assert run.output["Body"]["completion"] == "echo: from s3"


async def test_output_to_s3_is_refused_by_name(aws_emulator: Emulator) -> None:
    run = await run_task(
        aws_emulator,
        ARN,
        {"ModelId": "amazon.titan", "Body": {}, "Output": {"S3Uri": "s3://b/k"}},
    )
    assert run.status == "FAILED"
    assert run.error == "States.Runtime"
    assert "Output (an S3 location for the answer) is not supported" in (run.cause or "")
