"""What a caller must not get: Herald's AWS account in provider errors, SQL values in errors,
and every web thread of a process for one project's sends."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bench.standin import Fault, StandIn
from tests.support.calls import Client, send, upsert_notification
from tests.support.data import token, widget_notification
from tests.support.herald import new_project, swapped
from tests.support.servers import standin_herald
from worker.providers.aws import ACCOUNT_MESSAGE

DENIED = (
    "User: arn:aws:iam::123456789012:user/herald is not authorized to perform: ses:SendEmail "
    "on resource: arn:aws:ses:us-east-1:123456789012:identity/example.com"
)
SLOW = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"


@pytest.fixture(scope="module", params=["embedded", "production"])
def ses_herald(request, tmp_path_factory):
    """A Herald of each mode whose SES is a stand-in of its own: (Herald, stand-in)."""
    with StandIn() as standin:
        for herald in standin_herald(request, tmp_path_factory, standin):
            yield herald, standin


@pytest.mark.parametrize(
    ("code", "message", "shown"),
    [
        ("AccessDenied", DENIED, ACCOUNT_MESSAGE),
        ("MessageRejected", "Identity 123456789012 is paused", "Identity [redacted] is paused"),
    ],
)
def test_provider_errors_never_show_the_aws_account(ses_herald, code, message, shown):
    herald, standin = ses_herald
    client = Client(herald.app, new_project(herald)["apiKey"])
    upsert_notification(
        client,
        {
            "id": "mail",
            "name": "Mail",
            "withEmail": True,
            "templates": {"en": {"email": {"subject": "S", "text": "T"}}},
        },
    )
    standin.inject("ses", Fault(403 if code == "AccessDenied" else 400, code, message))
    item = {"notificationId": "mail", "userId": f"u-{token()}", "userEmail": "a@example.com"}

    [result] = send(client, item)

    assert result["emailError"] == f"{code}: {shown}", result
    assert "123456789012" not in str(result) and "arn:aws" not in str(result)


def test_sql_parameters_are_not_in_database_errors(herald):
    with pytest.raises(DBAPIError) as error, herald.engine.connect() as connection:
        connection.execute(text("SELECT x FROM no_such_table WHERE x = :v"), {"v": "ann@a.com"})

    assert "ann@a.com" not in str(error.value)


def test_a_projects_sends_waiting_at_once_are_bounded(herald, project):
    client = Client(herald.app, project["apiKey"])
    upsert_notification(client, widget_notification("slow", SLOW))
    other = Client(herald.app, new_project(herald)["apiKey"])
    upsert_notification(other, widget_notification("fast"))
    answers = []
    with swapped(herald, settings=dataclasses.replace(herald.settings, project_sends=1)):
        waiting = threading.Thread(
            target=lambda: answers.append(send(client, {"notificationId": "slow", "userId": "u"}))
        )
        waiting.start()
        time.sleep(0.5)  # the first send is now waiting for its slow rendering
        refused = client.post(
            "/messages.send", {"messages": [{"notificationId": "slow", "userId": "v"}]}
        )
        others = send(other, {"notificationId": "fast", "userId": "w"})
        waiting.join(30)
        after = client.post(
            "/messages.send", {"messages": [{"notificationId": "fast", "userId": "v"}]}
        )

    assert refused.status_code == 429
    assert refused.get_json()["error"] == "rateLimit/exceeded"
    assert refused.headers["Retry-After"] == "1"
    assert others[0]["ok"] is True
    assert answers and answers[0][0]["id"]
    assert after.status_code == 200
