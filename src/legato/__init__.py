"""Legato: durable workflows for Python.

app = legato.App("sqlite:///app.db")

@app.step(retry=legato.Retry(max_attempts=5))
async def charge(order_id: str) -> str: ...

@app.workflow()
async def checkout(ctx: legato.Context, order_id: str) -> str:
    return await ctx.step(charge, order_id)
"""

from legato.adapters.aws.clients import AwsSettings
from legato.adapters.http_task.connections import (
    ApiKeyAuth,
    BasicAuth,
    HttpConnection,
    OAuthClientCredentials,
)
from legato.client import App, Client, ExecutionStatus, Handle
from legato.client.schedules import BackfillReport, ScheduleDef
from legato.core.events import Status
from legato.core.retry import Retry
from legato.core.schedules import OverlapPolicy
from legato.core.subscriptions import Subscription
from legato.engine.context import Context
from legato.engine.step_context import StepContext, heartbeat, step_context
from legato.engine.waits import ChildRef
from legato.errors import (
    Cancelled,
    ChildFailed,
    CompensationFailed,
    ConfigurationError,
    DatabaseCorruptError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseUnavailableError,
    DeadLetterNotFound,
    DeadLetterStillFails,
    EventNotFound,
    ExecutionAlreadyExists,
    ExecutionCancelled,
    ExecutionClosed,
    ExecutionFailedError,
    ExecutionNotFound,
    ExecutionStateError,
    ExecutionSuspended,
    ExecutionTerminated,
    ExecutionTimedOut,
    ExternalTaskFailed,
    InvalidEvent,
    InvalidSubscription,
    InvalidTaskToken,
    LegatoError,
    NamedStepError,
    NonDeterminismError,
    NonRetryableError,
    PayloadTooLarge,
    RegistrationError,
    ScheduleAlreadyExists,
    ScheduleNotFound,
    SerializationError,
    StepFailed,
    StoreError,
    SubscriptionExists,
    SubscriptionNotFound,
    TaskTokenClosed,
    WorkflowTimeoutError,
    WorkflowUsageError,
)
from legato.ports.events import DeadLetter, IngestResult
from legato.ports.schedules import Schedule, ScheduleFire

__all__ = [
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
