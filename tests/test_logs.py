"""Logs: JSON lines with the role and the ids of the delivery or request, no personal data;
request ids taken from and given back in `X-Request-Id`."""

from __future__ import annotations

import json
import logging
import re
import uuid

import pytest
from sqlalchemy import text

from tests.support.calls import answer, send, upsert_notification
from tests.support.data import notification, phone, token
from tests.support.logs import captured


def test_delivery_lines_carry_the_ids_and_no_address(herald, client, project):
    # Given a user with an e-mail address and a phone number
    upsert_notification(client, notification())
    address, number = f"ann-{token()}@example.com", phone()
    user = {"id": f"u-{token()}", "email": address, "telephone": number, "firstName": "Ann"}
    answer(client.post("/users.upsert", {"users": [user]}))
    message_id = str(uuid.uuid4())
    # When a message to them is delivered
    with captured() as lines:
        item = {"id": message_id, "notificationId": "welcome", "userId": user["id"]}
        [result] = send(client, {**item, "data": {"code": 1}})
        assert result["status"] == "sent", result
    # Then its delivery logged JSON lines with time, level, the worker role and every id
    delivery = [line for line in lines if line.get("message_id") == message_id]
    assert delivery, lines
    for line in delivery:
        assert line["role"] == "worker" and line["level"] in ("INFO", "WARNING", "ERROR")
        assert line["project_id"] == project["projectId"] and line["job_id"], line
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line["time"]), line
    assert any(line["message"] == "message sent" for line in delivery), delivery
    # And the request's line has its id and the web role
    [request] = [line for line in lines if line["message"] == "request"]
    assert request["role"] == "web" and request["status"] == 200 and request["request_id"]
    # And no line holds the address or the number
    logged = json.dumps(lines)
    assert address not in logged and number not in logged


def test_a_database_error_is_logged_without_its_parameters(herald):
    address, number = f"bob-{token()}@example.com", phone()
    # When a statement with an address and a number among its parameters fails and is logged
    with captured() as lines:
        try:
            with herald.engine.connect() as connection:
                connection.execute(
                    text("SELECT * FROM no_such_table WHERE a = :email AND b = :phone"),
                    {"email": address, "phone": number},
                )
        except Exception:  # noqa: BLE001
            logging.getLogger("herald.test").exception("the statement failed: %s", address)
    # Then the line tells the error without the parameters, the address or the number
    [line] = [line for line in lines if line["logger"] == "herald.test"]
    assert "no_such_table" in line["exc_info"]
    # hidden by the engine (hide_parameters), and scrubbed again by the log formatter
    assert "SQL parameters hidden" in line["exc_info"] or "[parameters: hidden]" in line["exc_info"]
    assert address not in json.dumps(line) and number not in json.dumps(line)
    assert line["message"] == "the statement failed: <email>"


@pytest.mark.parametrize(
    ("sent", "kept"), [("req-42.a:b_c", True), (None, False), ("not an id <x>", False)]
)
def test_request_id_is_echoed_or_made(herald, client, sent, kept):
    headers = {"X-Request-Id": sent} if sent else {}
    with captured() as lines:
        response = client.get("/users.get", id="nobody", headers=headers)
    given = response.headers["X-Request-Id"]
    if kept:
        assert given == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", given), given
    [line] = [line for line in lines if line["message"] == "request"]
    assert line["request_id"] == given and line["endpoint"] == "backend.users_get"
