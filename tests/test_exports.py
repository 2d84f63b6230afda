"""``legato``'s public names, pinned: adding or removing one is a deliberate change to this
list (and to the README), never a side effect of moving code."""

from __future__ import annotations

import legato

PUBLIC = [
    "ApiKeyAuth",
    "App",
    "AwsSettings",
    "BackfillReport",
    "BasicAuth",
    "Cancelled",
    "ChildFailed",
    "ChildRef",
    "Client",
    "CompensationFailed",
    "ConfigurationError",
    "Context",
    "DatabaseCorruptError",
    "DatabaseLockedError",
    "DatabaseReadOnlyError",
    "DatabaseUnavailableError",
    "DeadLetter",
    "DeadLetterNotFound",
    "DeadLetterStillFails",
    "EventNotFound",
    "ExecutionAlreadyExists",
    "ExecutionCancelled",
    "ExecutionClosed",
    "ExecutionFailedError",
    "ExecutionNotFound",
    "ExecutionStateError",
    "ExecutionStatus",
    "ExecutionSuspended",
    "ExecutionTerminated",
    "ExecutionTimedOut",
    "ExternalTaskFailed",
    "Handle",
    "HttpConnection",
    "IngestResult",
    "InvalidEvent",
    "InvalidSubscription",
    "InvalidTaskToken",
    "LegatoError",
    "NamedStepError",
    "NonDeterminismError",
    "NonRetryableError",
    "OAuthClientCredentials",
    "OverlapPolicy",
    "PayloadTooLarge",
    "RegistrationError",
    "Retry",
    "Schedule",
    "ScheduleAlreadyExists",
    "ScheduleDef",
    "ScheduleFire",
    "ScheduleNotFound",
    "SerializationError",
    "Status",
    "StepContext",
    "StepFailed",
    "StoreError",
    "Subscription",
    "SubscriptionExists",
    "SubscriptionNotFound",
    "TaskTokenClosed",
    "WorkflowTimeoutError",
    "WorkflowUsageError",
    "heartbeat",
    "step_context",
]


def test_all_is_exactly_the_public_api() -> None:
    assert sorted(legato.__all__) == PUBLIC


def test_every_exported_name_exists_and_says_where_it_lives() -> None:
    for name in legato.__all__:
        value = getattr(legato, name)
        module = getattr(value, "__module__", "")
        assert module.startswith("legato."), (name, module)


def test_nothing_public_is_left_out_of_all() -> None:
    public = {
        name
        for name in vars(legato)
        if not name.startswith("_") and not isinstance(getattr(legato, name), type(legato))
    }
    assert public == set(legato.__all__)


def test_importing_legato_leaves_the_aws_sdk_and_fsspec_for_first_use() -> None:
    """Every CLI command and app imports ``legato``; the AWS SDK (aiobotocore, botocore,
    aiohttp) and fsspec cost about 0.4 s to import and only integrations need them."""
    import subprocess
    import sys

    heavy = ("aiobotocore", "botocore", "aiohttp", "fsspec")
    code = f"import sys, legato, legato.testing; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
