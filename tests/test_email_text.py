"""Every e-mail has a text part: an HTML-only template's is made from its HTML, readable, with
each link's address after its text; a template's own text is left as it is."""

from __future__ import annotations

import pytest

from shared.templating.rendering import RenderFailed, render_channel, render_time_limit
from tests.support.calls import answer, send, upsert_notification
from tests.support.data import token
from tests.support.received import emails_sent

HTML = (
    "<html><head><style>p { color: red }</style></head><body>"
    "<h1>Order {{ order }}</h1>"
    '<p>Hello {{ firstName }}, <a href="https://shop.example/orders/{{ order }}?a=1&amp;b=2">'
    "see your <b>order</b></a>.</p>"
    "<ul><li>Socks</li><li>Hat</li></ul>"
    '<p><a href="mailto:help@shop.example">Write to us</a> or '
    '<a href="https://shop.example/unsubscribe">https://shop.example/unsubscribe</a></p>'
    "<script>track()</script></body></html>"
)


def html_only(client, notification_id: str, **email) -> None:
    """An e-mail-only notification whose template has HTML and no text."""
    template = {"subject": "Order {{ order }}", "html": HTML, **email}
    upsert_notification(
        client,
        {
            "id": notification_id,
            "name": "Order",
            "withEmail": True,
            "templates": {"en": {"email": template}},
        },
    )


def test_an_html_only_email_arrives_with_a_text_part_keeping_the_links(herald, client):
    # Given an HTML-only template
    html_only(client, "order")
    address = f"text-{token()}@example.com"

    # When it is sent
    item = {"notificationId": "order", "userId": f"u-{token()}", "userEmail": address}
    [result] = send(client, {**item, "userFirstName": "Ann", "data": {"order": "A-17"}})

    # Then the provider got both parts, the text made from the HTML with the link addresses
    assert result["channels"]["email"]["status"] == "sent", result
    [mail] = [m for m in emails_sent(herald) if m["to"] == address]
    assert "<b>order</b>" in mail["html"]
    text = mail["text"]
    assert "Order A-17" in text
    assert "Hello Ann, see your order (https://shop.example/orders/A-17?a=1&b=2)." in text
    assert "Write to us (help@shop.example)" in text
    assert text.count("https://shop.example/unsubscribe") == 1
    assert "* Socks" in text and "* Hat" in text
    assert "<" not in text and "color: red" not in text and "track()" not in text


def test_a_template_with_its_own_text_keeps_it(herald, client):
    html_only(client, "order", text="Order {{ order }}: plain.")
    address = f"text-{token()}@example.com"
    item = {"notificationId": "order", "userId": f"u-{token()}", "userEmail": address}

    send(client, {**item, "data": {"order": "B-2"}})

    [mail] = [m for m in emails_sent(herald) if m["to"] == address]
    assert mail["text"].strip() == "Order B-2: plain."


def test_preview_shows_the_text_part_a_send_would_make(client):
    html_only(client, "order")
    preview = answer(
        client.post("/templates.preview", {"notificationId": "order", "data": {"order": "C-3"}})
    )
    assert preview["email"]["html"].startswith("<html>")
    assert "see your order (https://shop.example/orders/C-3?a=1&b=2)" in preview["email"]["text"]


def test_making_the_text_part_stops_at_the_render_time_limit():
    # One paragraph of many links: the layout of a long line costs more than its length
    html = "<p>" + '<a href="https://example.com/x">link</a> word ' * 8_000 + "</p>"
    with pytest.raises(RenderFailed) as failure, render_time_limit(0.05):
        render_channel("en", "email", {"html": "{{ body | safe }}"}, {"body": html})
    assert "en.email.text (made from the HTML)" in failure.value.message
    assert "time limit of 0.05 s" in failure.value.message


@pytest.mark.parametrize(
    ("subject", "from_name"),
    [
        ("Order 7 is on its way", None),
        ("A subject longer than one header line, " * 4 + "folded", "Shop"),
        ("Bestellung für Zoë 🧦", "Lädchen"),
    ],
)
def test_the_mime_reads_back_to_the_same_headers_and_parts(subject, from_name):
    from email import message_from_bytes
    from email.header import decode_header, make_header

    from worker.providers import Email

    body = "Hello\n--==herald.0== is not a boundary\n"
    mail = Email(
        "m-1",
        "zoe@example.com",
        "shop@example.com",
        from_name,
        None,
        subject,
        f"<p>{body}</p>",
        body,
    )
    raw = bytes(mail.mime())
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
    parsed = message_from_bytes(raw)
    unfolded = str(make_header(decode_header(parsed["Subject"])))
    assert " ".join(unfolded.split()) == subject
    assert parsed["X-Herald-Message-Id"] == "m-1"
    sender = str(make_header(decode_header(parsed["From"])))
    assert sender.endswith("shop@example.com>" if from_name else "shop@example.com")
    parts = [part for part in parsed.walk() if not part.is_multipart()]
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert parts[0].get_payload(decode=True).decode() == body
