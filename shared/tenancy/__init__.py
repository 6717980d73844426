"""Tenants: projects and their keys, their request budgets, their allowed e-mail senders."""

from shared.tenancy.buckets.base import Buckets, Budget, Decision
from shared.tenancy.projects import (
    Project,
    authenticate,
    create_key,
    create_project,
    load_project,
    revoke_key,
)
from shared.tenancy.ratelimit import (
    build_buckets,
    project_budget,
    refused,
    set_project_budget,
    take_front,
)
from shared.tenancy.senders import add_sender, list_senders, remove_sender

__all__ = [
    "Budget",
    "Buckets",
    "Decision",
    "Project",
    "add_sender",
    "authenticate",
    "build_buckets",
    "create_key",
    "create_project",
    "list_senders",
    "load_project",
    "project_budget",
    "refused",
    "remove_sender",
    "revoke_key",
    "set_project_budget",
    "take_front",
]
