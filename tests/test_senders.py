"""Allowed senders (SPEC §1, §3, §6): a template's or an override's `from` must be one of the
project's, its default From counts as one, and no project can send as another's sender."""

from __future__ import annotations

import json

import boto3
import pytest
from alembic import command
from sqlalchemy import insert, select

from shared.infra.config import Settings
from shared.infra.db import alembic_config, autocommit, make_engine, transaction
from shared.infra.models import allowed_senders, projects, utcnow
from shared.operations.demo import DEMO_SENDER, ensure_demo
from shared.tenancy.projects import authenticate, create_project
from shared.tenancy.senders import list_senders, remove_sender
from tests.support.backends import fresh_database
from tests.support.calls import send, upsert_notification
from tests.support.cli import run_herald
from tests.support.data import SENDER, notification, token
from tests.support.herald import allow_sender
from tests.support.received import emails_sent


def with_from(address: str, notification_id: str = "welcome") -> dict:
    """The standard notification, its English e-mail sent from `address`."""
    body = notification(notification_id)
    body["templates"]["en"]["email"]["from"] = address
    return body


def test_the_default_from_is_an_allowed_sender(herald, client):
    stored = upsert_notification(client, with_from(SENDER.upper()))
    assert stored["templates"]["en"]["email"]["from"] == SENDER.upper().split("@")[0] + (
        "@herald.example.com"
    )


def test_a_template_from_not_allowed_is_refused_naming_language_and_address(herald, client):
    response = client.post(
        "/notifications.upsert", with_from("billing@elsewhere.example.net", "n1")
    )

    assert response.status_code == 400
    error = response.get_json()
    assert error["error"] == "template/senderNotAllowed"
    assert "templates.en.email.from" in error["message"]
    assert "billing@elsewhere.example.net" in error["message"]
    assert client.get("/notifications.get", id="n1").status_code == 404


def test_an_allowed_domain_allows_its_addresses_but_not_its_subdomains(herald, client):
    allow_sender(herald, client, "Elsewhere.EXAMPLE.net")

    upsert_notification(client, with_from("anyone@elsewhere.example.net"))
    response = client.post("/notifications.upsert", with_from("a@mail.elsewhere.example.net", "n2"))

    assert response.get_json()["error"] == "template/senderNotAllowed"


def test_a_non_ascii_sender_domain_is_compared_and_stored_in_idna(herald, client):
    allow_sender(herald, client, "bücher.example")

    stored = upsert_notification(client, with_from("info@BÜCHER.example"))

    assert stored["templates"]["en"]["email"]["from"] == "info@xn--bcher-kva.example"


def test_another_projects_default_from_is_not_allowed(herald, client):
    with transaction(herald.engine) as connection:
        create_project(connection, f"b-{token()}", "alerts@project-b.example.net", "B", "B")

    response = client.post("/notifications.upsert", with_from("alerts@project-b.example.net", "n3"))

    assert response.get_json()["error"] == "template/senderNotAllowed"
    assert client.get("/notifications.get", id="n3").status_code == 404


def test_an_override_from_not_allowed_is_an_item_error_and_nothing_stored(herald, client):
    upsert_notification(client, notification())
    refused_id, user_id = f"m-{token()}", f"u-{token()}"
    item = {"notificationId": "welcome", "userId": user_id, "data": {"code": "1"}}

    refused, accepted = send(
        client,
        {**item, "id": refused_id, "emailSettingsOverride": {"from": "ceo@bank.example.net"}},
        {**item, "emailSettingsOverride": {"from": SENDER}},
    )

    assert (refused["ok"], refused["error"]) == (False, "template/senderNotAllowed")
    assert "ceo@bank.example.net" in refused["message"]
    assert client.get("/messages.get", id=refused_id).status_code == 404
    assert accepted["ok"] is True


def test_an_override_from_an_allowed_idna_domain_is_sent_from_its_ascii_form(herald, client):
    sender = "news@xn--bcher-kva.example"
    if herald.moto_url:  # SES sends only from verified identities
        ses = boto3.client("ses", endpoint_url=herald.moto_url, region_name="us-east-1")
        ses.verify_email_identity(EmailAddress=sender)
    allow_sender(herald, client, "xn--bcher-kva.example")
    upsert_notification(client, notification())
    address = f"to-{token()}@example.com"
    override = {"emailSettingsOverride": {"from": "news@bücher.example"}}

    [result] = send(
        client,
        {"notificationId": "welcome", "userId": f"u-{token()}", "userEmail": address, **override},
    )

    assert result["ok"] is True and "emailError" not in result, result
    [sent] = [mail for mail in emails_sent(herald) if mail["to"] == address]
    assert sender in sent["from"]


@pytest.mark.api  # a database of each kind, made by the test
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_migration_allows_each_existing_projects_default_from(tmp_path, database):
    if database == "sqlite":
        _migrate_existing_projects(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        with fresh_database("herald_senders") as url:
            _migrate_existing_projects(url)


def _migrate_existing_projects(url: str) -> None:
    # Given a database at the schema before allowed senders, with two projects
    engine = make_engine(Settings(database_url=url))
    config = alembic_config(engine)
    command.upgrade(config, "0006")
    with transaction(engine) as connection:
        for project_id, sender in (("prj_a", "Alerts@Bücher.example"), ("prj_b", None)):
            connection.execute(
                insert(projects).values(
                    id=project_id,
                    name=project_id,
                    widget_secret="s",
                    email_from=sender,
                    created_at=utcnow(),
                )
            )
    # When it is upgraded
    command.upgrade(config, "head")
    # Then the default From of the one that had one is its allowed sender
    with autocommit(engine) as connection:
        rows = connection.execute(
            select(allowed_senders.c.project_id, allowed_senders.c.sender)
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("prj_a", "alerts@xn--bcher-kva.example")]


def test_the_command_line_adds_lists_and_removes_senders(sqlite_url):
    created = json.loads(
        run_herald("project", "create", "Acme", "--email-from", "hi@acme.example.net").stdout
    )
    project_id = created["projectId"]

    assert run_herald("senders", "add", project_id, "Bücher.example").exit_code == 0
    assert run_herald("senders", "add", project_id, "billing@acme.example.net").exit_code == 0
    listed = json.loads(run_herald("senders", "list", project_id).stdout)["senders"]
    assert listed == ["billing@acme.example.net", "hi@acme.example.net", "xn--bcher-kva.example"]
    assert run_herald("senders", "remove", project_id, "billing@acme.example.net").exit_code == 0
    again = run_herald("senders", "remove", project_id, "billing@acme.example.net")
    assert again.exit_code != 0 and "not an allowed sender" in again.output
    bad = run_herald("senders", "add", project_id, "not a domain")
    assert bad.exit_code != 0 and "sender/invalid" in bad.output
    unknown = run_herald("senders", "list", "prj_nope")
    assert unknown.exit_code != 0 and "project/notFound" in unknown.output
    # The sender removed is refused from then on
    engine = make_engine(Settings(database_url=sqlite_url))
    with autocommit(engine) as connection:
        listed = connection.execute(select(allowed_senders.c.sender)).scalars().all()
    engine.dispose()
    assert sorted(listed) == ["hi@acme.example.net", "xn--bcher-kva.example"]


def test_a_removed_sender_is_refused_on_the_next_upsert(herald, client):
    allow_sender(herald, client, "promo.example.net")
    upsert_notification(client, with_from("a@promo.example.net"))
    with transaction(herald.engine) as connection:
        assert remove_sender(
            connection, authenticate(connection, client.key).id, "PROMO.example.net"
        )

    response = client.post("/notifications.upsert", with_from("a@promo.example.net"))

    assert response.get_json()["error"] == "template/senderNotAllowed"


def test_a_key_can_not_allow_senders_through_the_api(herald, client):
    response = client.post("/senders.add", {"sender": "evil.example.net"})
    assert response.status_code == 404


def test_the_demo_projects_default_from_is_an_allowed_sender(herald):
    demo = ensure_demo(herald.engine)

    with autocommit(herald.engine) as connection:
        assert DEMO_SENDER in list_senders(connection, demo.project_id)
