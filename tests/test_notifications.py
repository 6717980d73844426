"""notifications.upsert, .list, .get, .delete and what each refuses (SPEC §1, §3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.infra.models import notifications
from tests.support.calls import refused, upsert_notification
from tests.support.data import order_shipped, token


def test_upsert_creates_a_notification_that_get_and_list_show(client):
    notification_id = f"shipped-{token()}"
    created = upsert_notification(client, order_shipped(notification_id, stackTimeout=60))
    assert created["id"] == notification_id
    assert created["withEmail"] is True and created["allowMuteEmail"] is True
    assert created["allowMuteSMS"] is False
    assert created["defaultLanguage"] == "en" and created["stackTimeout"] == 60
    assert created["templates"]["en"]["email"]["subject"] == "Your order {{ orderId }}"

    fetched = client.get("/notifications.get", id=notification_id)
    assert fetched.status_code == 200
    assert fetched.get_json()["notification"] == created

    listed = client.get("/notifications.list").get_json()["notifications"]
    assert listed == [created]


def test_upsert_of_an_existing_id_replaces_it_and_bumps_its_version(herald, client, project):
    notification_id = f"n-{token()}"
    first = upsert_notification(client, order_shipped(notification_id))
    # When the same id is upserted with a new name and only the widget channel
    second = upsert_notification(
        client,
        {
            "id": notification_id,
            "name": "Renamed",
            "withWidget": True,
            "templates": {"en": {"widget": {"content": "New"}}},
        },
    )
    # Then the notification is replaced as a whole, not merged
    assert second["name"] == "Renamed"
    assert second["withEmail"] is False and second["withSMS"] is False
    assert second["allowMuteEmail"] is False
    assert second["templates"] == {"en": {"widget": {"content": "New"}}}
    assert second["createdAt"] == first["createdAt"]
    assert second["updatedAt"] >= first["updatedAt"]
    assert (
        client.get("/notifications.get", id=notification_id).get_json()["notification"]["name"]
        == "Renamed"
    )
    assert len(client.get("/notifications.list").get_json()["notifications"]) == 1
    with herald.engine.connect() as connection:
        version = connection.execute(
            select(notifications.c.version).where(
                notifications.c.project_id == project["projectId"],
                notifications.c.id == notification_id,
            )
        ).scalar_one()
    assert version == 2


def test_list_holds_every_notification_of_the_project_by_id(client):
    ids = [f"b-{token()}", f"a-{token()}", f"c-{token()}"]
    for notification_id in ids:
        upsert_notification(client, order_shipped(notification_id))
    listed = client.get("/notifications.list").get_json()["notifications"]
    assert [n["id"] for n in listed] == sorted(ids)


def test_deleted_notification_answers_not_found(client):
    notification_id = f"n-{token()}"
    upsert_notification(client, order_shipped(notification_id))
    response = client.post("/notifications.delete", {"id": notification_id})
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "id": notification_id}

    fetched = client.get("/notifications.get", id=notification_id)
    assert fetched.status_code == 404
    assert fetched.get_json()["error"] == "notification/notFound"
    assert client.get("/notifications.list").get_json()["notifications"] == []
    again = client.post("/notifications.delete", {"id": notification_id})
    assert again.status_code == 404
    assert again.get_json()["error"] == "notification/notFound"


def test_get_of_an_unknown_id_is_404_not_found(client):
    response = client.get("/notifications.get", id="never-made")
    assert response.status_code == 404
    assert response.get_json()["error"] == "notification/notFound"


def test_delete_without_an_id_answers_id_required(client):
    response = client.post("/notifications.delete", {})
    assert response.status_code == 400
    assert response.get_json()["error"] == "id/required"


@pytest.mark.parametrize(
    ("flag", "language_templates"),
    [
        ("withWidget", {"email": {"subject": "s", "text": "t"}}),
        ("withEmail", {"widget": {"content": "c"}}),
        ("withEmail", {"email": {"subject": "s"}}),
        ("withEmail", {"email": {"html": "<p>h</p>"}}),
        ("withSMS", {"sms": {}}),
    ],
)
def test_enabled_channel_without_its_default_language_template_is_refused(
    client, flag, language_templates
):
    notification_id = f"n-{token()}"
    body = {"id": notification_id, "name": "N", flag: True, "templates": {"en": language_templates}}
    answer = refused(client, body)
    assert answer["error"] == "templates/invalid"
    assert flag in answer["message"]
    assert client.get("/notifications.get", id=notification_id).status_code == 404


def test_channel_template_only_in_another_language_than_the_default_is_refused(client):
    body = {
        "id": f"n-{token()}",
        "name": "N",
        "withWidget": True,
        "defaultLanguage": "fr",
        "templates": {"en": {"widget": {"content": "Hi"}}},
    }
    answer = refused(client, body)
    assert answer["error"] == "templates/invalid"
    assert "templates.fr.widget.content" in answer["message"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("withEmail", "yes", "withEmail/invalid"),
        ("allowMuteSMS", 1, "allowMuteSMS/invalid"),
        ("name", 12, "name/invalid"),
        ("id", "has space", "id/invalid"),
        ("id", 7, "id/invalid"),
        ("stackTimeout", -1, "stackTimeout/invalid"),
        ("stackTimeout", "60", "stackTimeout/invalid"),
        ("defaultLanguage", "xx-QQ", "defaultLanguage/invalid"),
        ("templates", [], "templates/invalid"),
        ("templates", {"en": "Hi"}, "templates/invalid"),
        ("templates", {"en": {"sms": {"text": 5}}}, "templates/invalid"),
        ("color", "red", "color/unknown"),
        ("withFax", True, "withFax/unknown"),
    ],
)
def test_a_bad_field_answers_its_code_and_changes_nothing(client, field, value, code):
    notification_id = f"n-{token()}"
    body = {"id": notification_id, "name": "N", field: value}
    answer = refused(client, body)
    assert answer["error"] == code
    assert client.get("/notifications.list").get_json()["notifications"] == []


@pytest.mark.parametrize(
    ("templates", "named"),
    [
        ({"en": {"push": {"text": "Hi"}}}, "templates.en.push"),
        ({"en": {"sms": {"text": "Hi", "unicode": True}}}, "templates.en.sms.unicode"),
    ],
)
def test_an_unknown_channel_or_template_field_is_named_with_its_path(client, templates, named):
    answer = refused(client, {"id": f"n-{token()}", "name": "N", "templates": templates})
    assert answer["error"] == "templates/invalid"
    assert named in answer["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "N"}, "id/required"),
        ({"id": "", "name": "N"}, "id/required"),
        ({"id": "n"}, "name/required"),
        ({"id": "n", "name": ""}, "name/required"),
    ],
)
def test_missing_id_or_name_is_required(client, body, code):
    assert refused(client, body)["error"] == code


@pytest.mark.parametrize("language", ["xx-QQ", "not a language", "e"])
def test_invalid_language_key_in_templates_is_refused(client, language):
    answer = refused(
        client,
        {"id": f"n-{token()}", "name": "N", "templates": {language: {"sms": {"text": "Hi"}}}},
    )
    assert answer["error"] == "templates/invalid"
    assert language in answer["message"]


def test_two_template_keys_of_the_same_language_are_refused(client):
    answer = refused(
        client,
        {
            "id": f"n-{token()}",
            "name": "N",
            "templates": {"pt-br": {"sms": {"text": "one"}}, "pt-BR": {"sms": {"text": "two"}}},
        },
    )
    assert answer["error"] == "templates/invalid"
    assert "pt-br" in answer["message"] and "pt-BR" in answer["message"]


def test_language_keys_are_stored_in_canonical_case(client):
    notification_id = f"n-{token()}"
    stored = upsert_notification(
        client,
        {
            "id": notification_id,
            "name": "N",
            "defaultLanguage": "EN",
            "withSMS": True,
            "templates": {"en": {"sms": {"text": "Hi"}}, "pt-br": {"sms": {"text": "Oi"}}},
        },
    )
    assert stored["defaultLanguage"] == "en"
    assert set(stored["templates"]) == {"en", "pt-BR"}


def test_a_body_that_is_not_an_object_is_body_invalid(client):
    response = client.post("/notifications.upsert", data=b"[]")
    assert response.status_code == 400
    assert response.get_json()["error"] == "body/invalid"
