"""What ``--json`` prints: plain JSON objects with stable keys, for scripts (times are ISO 8601
in UTC)."""

from __future__ import annotations

from typing import Any

from legato.client import ExecutionStatus
from legato.core.durations import instant
from legato.ports.inspection import RetryingStep


def status_json(r: ExecutionStatus) -> dict[str, Any]:
    return {
        "id": r.id,
        "workflow": r.workflow,
        "version": r.version,
        "status": r.status.value,
        "current_step": r.current_step,
        "reason": r.reason,
        "error_type": r.error_type,
        "error_message": r.error_message,
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
        "closed_at": r.closed_at.isoformat() if r.closed_at else None,
        "started_by": r.started_by,
    }


def retrying_json(s: RetryingStep) -> dict[str, Any]:
    return {
        "execution_id": s.execution_id,
        "workflow": s.workflow,
        "step": s.step,
        "step_id": s.step_id,
        "attempt": s.attempt,
        "error_type": s.error_type,
        "message": s.message,
        "failed_at": instant(s.failed_at).isoformat(),
        "next_attempt": s.attempt + 1,
        "next_attempt_at": instant(s.next_attempt_at).isoformat(),
    }
