"""The embedded mode's demo: a project, two notifications and a user to try the bell with."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import dramatiq
import uuid6
from sqlalchemy import Engine, select

from shared.contacts.users import UserChange, upsert_users
from shared.feed.reading import user_hmac
from shared.infra.db import transaction
from shared.infra.models import projects
from shared.infra.secrets import SecretBox
from shared.messages.ingress import NewMessage
from shared.messages.sending import send_batch
from shared.notifications.catalog import parse_notification, upsert_notification
from shared.tenancy.projects import create_project

DEMO_PROJECT = "Herald demo"
DEMO_USER = "demo-user"
DEMO_SENDER = "demo@herald.example.com"

NOTIFICATIONS = [
    {
        "id": "comment",
        "name": "Comments on your documents",
        "withWidget": True,
        "withEmail": True,
        "allowMuteWidget": True,
        "allowMuteEmail": True,
        "templates": {
            "en": {
                "widget": {
                    "content": "<b>{{ author }}</b> commented on <b>{{ document }}</b>: "
                    "“{{ comment }}”",
                    "icon": "{{ avatar }}",
                },
                "email": {
                    "subject": "{{ author }} commented on {{ document }}",
                    "text": "{{ author }} wrote: {{ comment }}",
                },
            }
        },
    },
    {
        "id": "like",
        "name": "Likes",
        "withWidget": True,
        "withEmail": True,
        "allowMuteEmail": True,
        "stackTimeout": 3600,
        "templates": {
            "en": {
                "widget": {
                    "content": "<b>{{ author }}</b>{% if increment > 1 %} and {{ increment - 1 }}"
                    " other{{ 's' if increment > 2 }}{% endif %} liked <b>{{ document }}</b>",
                    "icon": "{{ avatar }}",
                },
                "email": {"subject": "{{ author }} liked {{ document }}", "text": "A new like."},
            }
        },
    },
]

PEOPLE = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Linus Pauling"]
DOCUMENTS = ["Q3 roadmap", "Launch checklist", "Pricing page copy", "Onboarding flow"]
COMMENTS = [
    "Looks great, ship it!",
    "Can we move the deadline to Friday?",
    "I left two suggestions in the second section.",
    "Love the new illustrations.",
]


# Each send takes the next author, document and comment: varied, yet the same in every run.
_turns = itertools.count()


@dataclass(frozen=True)
class Demo:
    """What the demo page needs to mount the bell."""

    project_id: str
    user_id: str
    user_hmac: str


def ensure_demo(engine: Engine, box: SecretBox = SecretBox()) -> Demo:
    """The demo project, made with its notifications and user on first use (its widget secret
    sealed in `box`)."""
    with transaction(engine) as connection:
        row = connection.execute(
            select(projects.c.id, projects.c.widget_secret)
            .where(projects.c.name == DEMO_PROJECT)
            .order_by(projects.c.created_at)
            .limit(1)
        ).first()
        if row is None:
            created = create_project(connection, DEMO_PROJECT, DEMO_SENDER, "Herald demo", box=box)
            project_id, secret = created["projectId"], created["widgetSecret"]
            for notification in NOTIFICATIONS:
                upsert_notification(connection, project_id, parse_notification(notification))
            user = UserChange(DEMO_USER, {"email": "you@example.com", "firstName": "Sam"})
            upsert_users(connection, project_id, [user])
        else:
            project_id, secret = row.id, box.open(row.widget_secret)
    return Demo(project_id, DEMO_USER, user_hmac(secret, DEMO_USER))


def initials(name: str) -> str:
    """Up to two capital letters for an avatar, nothing else."""
    return "".join(word[0] for word in name.split() if word[:1].isalpha())[:2].upper()


def send_demo(
    engine: Engine, broker: dramatiq.Broker, demo: Demo, stacked: bool, avatars: str, wait: float
) -> dict[str, Any]:
    """Send the demo user a comment, or a like that stacks onto the open stack of likes; the
    icon is the author's avatar under the `avatars` URL."""
    turn = next(_turns)
    author = PEOPLE[turn % len(PEOPLE)]
    data = {"author": author, "avatar": f"{avatars}?name={quote(author)}"}
    if stacked:
        notification_id, increment_id = "like", "likes"
        data |= {"document": DOCUMENTS[0]}
    else:
        notification_id, increment_id = "comment", None
        data |= {
            "document": DOCUMENTS[turn % len(DOCUMENTS)],
            "comment": COMMENTS[(turn * 3 + 1) % len(COMMENTS)],
        }
    message = NewMessage(str(uuid6.uuid7()), demo.user_id, notification_id, data, increment_id)
    return send_batch(engine, broker, demo.project_id, [message], wait)[0]
