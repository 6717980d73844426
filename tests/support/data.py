"""What the tests send: ids, addresses and numbers unique to a test, and the notifications
they upsert."""

from __future__ import annotations

import secrets

import phonenumbers

SENDER = "sender@herald.example.com"  # verified in moto's SES; every test project sends from it


def token() -> str:
    """A short random token to make ids, addresses and numbers unique to a test."""
    return secrets.token_hex(4)


def phone() -> str:
    """A valid, unique-enough UK mobile number in E.164."""
    while True:
        number = f"+4479{secrets.randbelow(10**8):08d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number


def notification(notification_id: str = "welcome", **fields) -> dict:
    """The standard notification: e-mail, SMS and widget in English, with `fields` on top."""
    return {
        "id": notification_id,
        "name": "Welcome",
        "withEmail": True,
        "withSMS": True,
        "withWidget": True,
        "defaultLanguage": "en",
        "templates": {
            "en": {
                "email": {
                    "subject": "Hello {{ firstName }}",
                    "html": "<p>Hi {{ firstName }}, your code is {{ code }}</p>",
                    "text": "Hi {{ firstName }}: {{ code }}",
                },
                "sms": {"text": "{{ firstName }}, your code is {{ code }}"},
                "widget": {"content": "Welcome <b>{{ firstName }}</b> #{{ increment }}"},
            },
        },
        **fields,
    }


def order_shipped(notification_id: str, **fields) -> dict:
    """A valid notification on all three channels, with `fields` on top."""
    return {
        "id": notification_id,
        "name": "Order shipped",
        "withWidget": True,
        "withEmail": True,
        "withSMS": True,
        "allowMuteEmail": True,
        "templates": {
            "en": {
                "widget": {"content": "Order {{ orderId }} shipped", "link": "https://shop.test/o"},
                "email": {
                    "subject": "Your order {{ orderId }}",
                    "html": "<p>Hi {{ firstName }}</p>",
                    "text": "Hi {{ firstName }}",
                },
                "sms": {"text": "Order {{ orderId }} shipped"},
            }
        },
        **fields,
    }


def widget_notification(notification_id: str, content: str = "Hi") -> dict:
    """A widget-only notification, which needs no e-mail or SMS provider."""
    return {
        "id": notification_id,
        "name": "N",
        "withWidget": True,
        "templates": {"en": {"widget": {"content": content}}},
    }


def comment_notification(widget_content: str) -> dict:
    """`comment`: a widget with a link and an e-mail, both mutable by the user, no SMS."""
    return notification(
        "comment",
        name="Comments",
        withSMS=False,
        allowMuteWidget=True,
        allowMuteEmail=True,
        templates={
            "en": {
                "widget": {"content": widget_content, "link": "/c"},
                "email": {"subject": "New comment", "text": "{{ author }} commented"},
            }
        },
    )
