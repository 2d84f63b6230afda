"""The whole Store port: what a database adapter (SQLite, PostgreSQL) provides.

Each part is a small protocol with one job, and engine components ask for only the parts they
use: ``Executions`` (transitions and reads), ``TaskQueue``, ``Inbox``, ``Membership``
(replicas and partition leases), ``Liveness`` (proof that an owner is dead), ``Workers``
(who serves which steps), ``Lifecycle`` (open, migrate, notifications) and ``Inspection`` (an
operator's reads: counts, id prefixes, retrying steps), ``Definitions`` (state machine
definitions, versioned and content-hashed), ``ApiKeys`` (who may call the HTTP API),
``Schedules`` (schedules and their fires) and ``Events`` (events that start workflows,
subscriptions, dead letters).
"""

from __future__ import annotations

from typing import Protocol

from legato.ports.api_keys import ApiKeys
from legato.ports.definitions import Definitions
from legato.ports.events import Events
from legato.ports.executions import Executions
from legato.ports.inbox import Inbox
from legato.ports.inspection import Inspection
from legato.ports.lifecycle import Lifecycle
from legato.ports.liveness import Liveness
from legato.ports.membership import Membership
from legato.ports.schedules import Schedules
from legato.ports.task_queue import TaskQueue
from legato.ports.workers import Workers


class Store(
    Executions,
    TaskQueue,
    Inbox,
    Membership,
    Liveness,
    Workers,
    Lifecycle,
    Inspection,
    ApiKeys,
    Definitions,
    Schedules,
    Events,
    Protocol,
):
    pass
