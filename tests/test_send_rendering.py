"""What a sent message carries: the language picked, template data over profile fields,
escaping, skipped and muted channels, and the profile a send creates or leaves alone."""

from __future__ import annotations

from tests.support.calls import send, upsert_notification
from tests.support.data import notification, phone, token
from tests.support.received import emails_sent, sms_sent


def test_language_falls_back_from_region_to_base_to_default(herald, client):
    templates = {
        "en": {"widget": {"content": "english"}},
        "pt": {"widget": {"content": "português"}},
        "pt-BR": {"widget": {"content": "brasileiro"}},
        "fr": {"widget": {"content": "français"}},
    }
    upsert_notification(client, notification(withEmail=False, withSMS=False, templates=templates))
    tag = token()
    cases = {"pt-BR": "brasileiro", "pt-PT": "português", "de": "english", "fr-CA": "français"}
    for language, expected in cases.items():
        [result] = send(
            client,
            {
                "notificationId": "welcome",
                "userId": f"{tag}-{language}",
                "userLanguage": language,
                "id": f"{tag}-{language}",
            },
        )
        message = client.get("/messages.get", id=result["id"]).get_json()["message"]
        assert message["widget"]["content"] == expected, language


def welcome_email(herald, client, data: dict, **profile) -> dict:
    """Send the standard notification to a fresh address with this data; the one e-mail sent."""
    upsert_notification(client, notification())
    address = f"to-{token()}@example.com"
    item = {"notificationId": "welcome", "userId": f"u-{token()}", "userEmail": address}
    [result] = send(client, {**item, **profile, "data": data})
    assert result["ok"], result
    [mail] = [m for m in emails_sent(herald) if m["to"] == address]
    return mail


def test_data_overrides_profile_fields_in_templates(herald, client):
    data = {"firstName": "FromData", "code": "9"}
    mail = welcome_email(herald, client, data, userFirstName="Profile")
    assert mail["subject"] == "Hello FromData"


def test_missing_email_and_telephone_are_skipped_with_reasons(herald, client):
    upsert_notification(client, notification())
    [result] = send(
        client, {"notificationId": "welcome", "userId": f"u-{token()}", "data": {"code": "1"}}
    )
    assert result["ok"] and result["status"] == "sent"
    assert result["channels"]["email"] == {"status": "skipped", "reason": "userEmail/missing"}
    assert result["channels"]["sms"] == {"status": "skipped", "reason": "userTelephone/missing"}
    assert result["channels"]["widget"]["status"] == "sent"


def test_template_failing_with_this_data_answers_render_failed(herald, client):
    email = {"subject": "Order {{ order.number }}", "text": "Total {{ order.total(2) }}"}
    upsert_notification(
        client, notification(withSMS=False, withWidget=False, templates={"en": {"email": email}})
    )
    address = f"fail-{token()}@example.com"
    [result] = send(
        client, {"notificationId": "welcome", "userId": f"u-{token()}", "userEmail": address}
    )
    assert result["ok"] is False
    assert result["error"] == "template/renderFailed"
    assert "en.email." in result["message"] and "order" in result["message"]
    assert not [m for m in emails_sent(herald) if m["to"] == address]
    message = client.get("/messages.get", id=result["id"]).get_json()["message"]
    assert message["status"] == "failed" and message["error"] == "template/renderFailed"


def test_html_in_data_is_escaped_in_the_email_html(herald, client):
    mail = welcome_email(herald, client, {"firstName": "<script>alert(1)</script>", "code": "1"})
    assert "<script>" not in mail["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail["html"]


def test_a_newline_in_a_subject_never_reaches_a_header(herald, client):
    data = {"firstName": "Ann\r\nBcc: victim@example.com", "code": "1"}
    mail = welcome_email(herald, client, data)
    assert "\n" not in mail["subject"] and "\r" not in mail["subject"]
    assert mail["subject"] == "Hello Ann Bcc: victim@example.com"
    if "raw" in mail:
        headers = mail["raw"].split(b"\n\n", 1)[0]
        assert not any(line.lower().startswith(b"bcc:") for line in headers.splitlines())


def test_send_creates_unknown_user_with_profile_fields(herald, client):
    upsert_notification(client, notification())
    user = f"u-{token()}"
    number = phone()
    send(
        client,
        {
            "notificationId": "welcome",
            "userId": user,
            "userEmail": "new@example.com",
            "userTelephone": number,
            "userFirstName": "Neo",
            "userLanguage": "pt-br",
            "userTimezone": "America/Sao_Paulo",
            "userCountry": "br",
            "data": {"code": "1"},
        },
    )
    profile = client.get("/users.get", id=user).get_json()["user"]
    assert profile["email"] == "new@example.com"
    assert profile["telephone"] == number
    assert profile["firstName"] == "Neo"
    assert profile["language"] == "pt-BR"
    assert profile["timezone"] == "America/Sao_Paulo"
    assert profile["country"] == "BR"


def test_send_never_overwrites_an_existing_users_email(herald, client):
    upsert_notification(client, notification())
    user = f"u-{token()}"
    kept = f"kept-{token()}@example.com"
    client.post("/users.upsert", {"users": [{"id": user, "email": kept}]})
    send(
        client,
        {
            "notificationId": "welcome",
            "userId": user,
            "userEmail": f"other-{token()}@example.com",
            "userFirstName": "Filled",
            "data": {"code": "1"},
        },
    )
    profile = client.get("/users.get", id=user).get_json()["user"]
    assert profile["email"] == kept
    assert profile["firstName"] == "Filled"
    assert [m for m in emails_sent(herald) if m["to"] == kept]


def test_muted_channel_is_not_sent(herald, client):
    upsert_notification(client, notification(allowMuteSMS=True))
    user, number = f"u-{token()}", phone()
    client.post(
        "/users.upsert",
        {
            "users": [
                {"id": user, "telephone": number, "preferences": {"welcome": {"muteSMS": True}}}
            ]
        },
    )
    [result] = send(client, {"notificationId": "welcome", "userId": user, "data": {"code": "1"}})
    assert result["channels"]["sms"]["status"] == "muted"
    assert number not in [m["to"] for m in sms_sent(herald)]
