"""The user events of SPEC §9, both modes: `user.preferences.updated` written with the widget's
change of a user's mutes, `user.unsubscribed` with a one-click unsubscribe, each in the
change's transaction and only for a project with an enabled endpoint; and `replay`, which
sets an endpoint's deliveries since a time back to pending (or creates them)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update

from shared.contacts import Subscription, make_token
from shared.feed.reading import user_hmac
from shared.infra.db import autocommit, transaction
from shared.infra.models import projects, utcnow
from shared.infra.secrets import secret_box
from shared.webhooks import upsert_webhook, webhook_deliveries, webhook_events, webhooks
from shared.webhooks.events import record_event
from shared.webhooks.replay import replay
from tests.support.calls import Client, upsert_notification, upsert_users
from tests.support.data import comment_notification, token
from tests.support.herald import new_project

URL = "http://127.0.0.1:9/hook"  # never posted to here: no worker pump in these tests' asserts


def hooked(herald, events=("*",), enabled: bool = True) -> tuple[dict, Client, str]:
    """A new project with one endpoint, a notification its users may mute, one user."""
    project = new_project(herald, "events")
    settings = replace(herald.settings, webhooks_allow_private=True)
    fields = {"url": URL, "events": list(events), "enabled": enabled}
    with transaction(herald.engine) as connection:
        upsert_webhook(connection, settings, project["projectId"], fields)
    client = Client(herald.app, project["apiKey"])
    upsert_notification(client, comment_notification("Hi"))
    user = f"u-{token()}"
    assert upsert_users(client, {"id": user, "email": f"{user}@example.com"})[0]["ok"]
    return project, client, user


def events_of(herald, project_id: str, prefix: str = "user.") -> list:
    e = webhook_events
    query = select(e.c.type, e.c.data).where(
        e.c.project_id == project_id, e.c.type.like(prefix + "%")
    )
    with autocommit(herald.engine) as connection:
        return [(row.type, row.data) for row in connection.execute(query.order_by(e.c.pk))]


def set_profile(herald, project: dict, user: str, profile: dict):
    auth = {"projectId": project["projectId"], "userId": user}
    auth["userHmac"] = user_hmac(project["widgetSecret"], user)
    body = json.dumps({**auth, "user": profile})
    return herald.app.test_client().post("/front/users.setProfile", data=body)


def test_the_widget_changing_mutes_writes_preferences_updated(herald):
    project, _, user = hooked(herald)
    mute = {"preferences": {"comment": {"muteEmail": True}}}
    assert set_profile(herald, project, user, mute).status_code == 200
    [(kind, data)] = events_of(herald, project["projectId"])
    assert kind == "user.preferences.updated" and data["userId"] == user
    assert data["preferences"]["comment"]["muteEmail"] is True
    # The same mutes again, or a language alone, change no preference: no event
    assert set_profile(herald, project, user, mute).status_code == 200
    assert set_profile(herald, project, user, {"language": "fr"}).status_code == 200
    assert len(events_of(herald, project["projectId"])) == 1


def test_no_user_event_without_an_enabled_endpoint(herald):
    for project, _, user in (hooked(herald, enabled=False), _bare(herald)):
        mute = {"preferences": {"comment": {"muteEmail": True}}}
        assert set_profile(herald, project, user, mute).status_code == 200
        assert events_of(herald, project["projectId"]) == []


def _bare(herald) -> tuple[dict, Client, str]:
    project = new_project(herald, "bare")
    client = Client(herald.app, project["apiKey"])
    upsert_notification(client, comment_notification("Hi"))
    user = f"u-{token()}"
    assert upsert_users(client, {"id": user})[0]["ok"]
    return project, client, user


def _unsubscribe_path(herald, project_id: str, user: str) -> str:
    with autocommit(herald.engine) as connection:
        query = select(projects.c.widget_secret).where(projects.c.id == project_id)
        stored = connection.execute(query).scalar_one()
    box = secret_box(herald.settings.secret_keys)
    return "/unsubscribe/" + make_token(box, stored, Subscription(project_id, user, "comment"))


def test_a_one_click_unsubscribe_writes_unsubscribed_and_preferences_updated(herald):
    project, _, user = hooked(herald)
    path = _unsubscribe_path(herald, project["projectId"], user)
    form = {"data": "List-Unsubscribe=One-Click"}
    form["content_type"] = "application/x-www-form-urlencoded"
    assert herald.app.test_client().post(path, **form).status_code == 200
    found = events_of(herald, project["projectId"])
    assert [kind for kind, _ in found] == ["user.unsubscribed", "user.preferences.updated"]
    for _, data in found:
        assert (data["userId"], data["notificationId"]) == (user, "comment")
        assert data["preferences"]["comment"]["muteEmail"] is True
    # Posting again changes nothing more: no more events
    assert herald.app.test_client().post(path, **form).status_code == 200
    assert len(events_of(herald, project["projectId"])) == 2


def _deliveries(herald, webhook_pk: int) -> dict:
    d, e = webhook_deliveries, webhook_events
    query = select(e.c.id, d.c.status, d.c.attempts, d.c.next_at, d.c.enqueued_at)
    query = query.join(e, e.c.pk == d.c.event_pk).where(d.c.webhook_pk == webhook_pk)
    with autocommit(herald.engine) as connection:
        return {row.id: row for row in connection.execute(query)}


def _webhook_pk(herald, project_id: str) -> int:
    with autocommit(herald.engine) as connection:
        query = select(webhooks.c.pk).where(webhooks.c.project_id == project_id)
        return connection.execute(query).scalar_one()


def test_replay_sets_deliveries_since_a_time_back_to_pending(herald):
    project, _, _ = hooked(herald, events=("message.sent",))
    project_id, now = project["projectId"], utcnow()
    pk = _webhook_pk(herald, project_id)
    with transaction(herald.engine) as connection:
        ids = [record_event(connection, project_id, "message.sent", {"n": n}) for n in range(4)]
        ids.append(record_event(connection, project_id, "message.read", {}))  # not wanted
        e, d = webhook_events, webhook_deliveries
        connection.execute(update(e).where(e.c.id.in_(ids)).values(dispatched_at=now))
        connection.execute(
            update(e).where(e.c.id == ids[0]).values(created_at=now - timedelta(days=2))
        )
        for event_id, status in ((ids[0], "failed"), (ids[1], "failed"), (ids[2], "succeeded")):
            event_pk = select(e.c.pk).where(e.c.id == event_id).scalar_subquery()
            connection.execute(
                d.insert().values(
                    event_pk=event_pk,
                    webhook_pk=pk,
                    status=status,
                    attempts=8,
                    next_at=None,
                    enqueued_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    with transaction(herald.engine) as connection:
        count = replay(connection, project_id, now - timedelta(hours=1))
    assert count == 3
    rows = _deliveries(herald, pk)
    assert rows[ids[0]].status == "failed"  # before the time: untouched
    for event_id, attempts in ((ids[1], 8), (ids[2], 8), (ids[3], 0)):
        row = rows[event_id]
        assert (row.status, row.attempts, row.enqueued_at) == ("pending", attempts, None)
        assert row.next_at is not None
    assert ids[4] not in rows
