"""The Amazon Resource Names Step Functions gives state machines and their executions.

Developer guide, "Accessing execution data from the Context object": ``$$.Execution.Id`` is
``arn:aws:states:us-east-1:123456789012:execution:stateMachineName:executionName`` while
``$$.Execution.Name`` is ``executionName``, and ``$$.StateMachine.Id`` is
``arn:aws:states:us-east-1:123456789012:stateMachine:stateMachineName``; the optimised
``states:startExecution`` integration returns the child's ``ExecutionArn`` in the same format.
Legato has no AWS region or account, so they are settings (``App(aws_region=...,
aws_account=...)``) whose defaults are the ones in AWS's own examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

#: The region and account in AWS's documentation examples.
DEFAULT_REGION: Final = "us-east-1"
DEFAULT_ACCOUNT: Final = "123456789012"

_REGION: Final = re.compile(r"[a-z]{2}(-[a-z0-9]+)+")
_ACCOUNT: Final = re.compile(r"\d{12}")
#: ``arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME`` (a name may hold ':').
_EXECUTION_ARN: Final = re.compile(r"arn:aws[a-z-]*:states:[^:]*:[^:]*:execution:[^:]+:(.+)")


@dataclass(frozen=True)
class AwsIdentity:
    """The region and account that state machine and execution ARNs name."""

    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT

    def state_machine_arn(self, machine: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{machine}"

    def execution_arn(self, machine: str, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:execution:{machine}:{name}"


def identity_problem(region: str, account: str) -> str | None:
    """Why ``region`` / ``account`` cannot stand in an ARN, or None. A region is like
    ``eu-west-1``; an account id is 12 digits."""
    if not isinstance(region, str) or _REGION.fullmatch(region) is None:
        return f"aws_region must be a region name such as 'us-east-1', not {region!r}"
    if not isinstance(account, str) or _ACCOUNT.fullmatch(account) is None:
        return f"aws_account must be a 12-digit account id such as '123456789012', not {account!r}"
    return None


def execution_name_of(arn_or_name: str) -> str:
    """The execution an execution ARN names (its last part: Legato's execution id); any other
    string is taken as the id itself."""
    match = _EXECUTION_ARN.fullmatch(arn_or_name)
    return arn_or_name if match is None else match.group(1)
