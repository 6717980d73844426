"""What the benchmark sends: its notification, users and message batches."""

from __future__ import annotations

import functools
from typing import Any

import phonenumbers

NOTIFICATION_ID = "bench-alert"
EMAIL_FROM = "bench@example.com"


def notification() -> dict[str, Any]:
    """A notification on e-mail, SMS and the widget, with templates for each."""
    return {
        "id": NOTIFICATION_ID,
        "name": "Benchmark alert",
        "withWidget": True,
        "withEmail": True,
        "withSMS": True,
        "defaultLanguage": "en",
        "stackTimeout": 0,
        "templates": {
            "en": {
                "widget": {
                    "content": "<b>{{ firstName }}</b>, {{ title }}",
                    "link": "https://x.io/a",
                },
                "email": {
                    "subject": "{{ title }} for {{ firstName }}",
                    "html": "<p>Hello {{ firstName }},</p><p>{{ body }}</p>"
                    "{% for line in lines %}<li>{{ line }}</li>{% endfor %}",
                    "text": "Hello {{ firstName }}, {{ body }}",
                },
                "sms": {"text": "{{ title }}: {{ body }} ({{ messageId }})"},
            }
        },
    }


@functools.cache
def telephone(n: int) -> str:
    """The n-th benchmark phone number: a valid UK mobile in E.164, checked by phonenumbers."""
    number = f"+447400{n % 1_000_000:06d}"
    if not phonenumbers.is_valid_number(phonenumbers.parse(number)):
        raise ValueError(f"{number} is not a valid phone number")
    return number


def message(user: str, n: int) -> dict[str, Any]:
    """One `messages.send` item to user `user` (created on first use) with e-mail and phone."""
    return {
        "notificationId": NOTIFICATION_ID,
        "userId": user,
        "userEmail": f"{user}@example.com",
        "userTelephone": telephone(n),
        "userFirstName": "Ada",
        "userLanguage": "en",
        "data": {"title": "Build finished", "body": f"Run {n} passed.", "lines": ["a", "b"]},
    }


def messages_body(prefix: str, first: int, size: int) -> dict[str, Any]:
    """A `messages.send` body of `size` messages to users `prefix-first` onwards."""
    return {"messages": [message(f"{prefix}-{n}", n) for n in range(first, first + size)]}


def users_body(prefix: str, first: int, size: int) -> dict[str, Any]:
    """A `users.upsert` body of `size` users with every profile field."""
    return {
        "users": [
            {
                "id": f"{prefix}-{n}",
                "email": f"{prefix}-{n}@example.com",
                "telephone": telephone(n),
                "firstName": "Ada",
                "lastName": "Lovelace",
                "language": "en-GB",
                "timezone": "Europe/London",
                "country": "GB",
                "data": {"plan": "pro", "seats": n % 50},
            }
            for n in range(first, first + size)
        ]
    }
