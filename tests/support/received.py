"""What the e-mail and SMS providers received, read the same way in both modes: from moto's
record in production, from the outbox files in the embedded mode."""

from __future__ import annotations

import email
import email.policy
import json
import urllib.request


def moto_sent(moto_url: str) -> tuple[list[dict], list[dict]]:
    """What moto recorded: (e-mails, each with its MIME as `raw_data`; SMS)."""
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json") as response:
        data = json.load(response)
    return data.get("ses", {}).get("RawMessage", []), data.get("sns", {}).get("SMS", [])


def emails_sent(herald) -> list[dict]:
    """Every e-mail the providers took: {to, from, subject, html, text, raw, id}, read from the
    MIME that moto received (production) or that the outbox wrote (embedded)."""
    if herald.settings.email_providers[0].kind == "ses":
        return [
            {**_parts(m["raw_data"].encode()), "from": m["source"], "id": m["id"]}
            for m in moto_sent(herald.moto_url)[0]
        ]
    return [
        {**_parts(path.read_bytes()), "id": path.stem}
        for path in sorted((herald.outbox / "email").glob("*.eml"))
    ]


def _parts(raw: bytes) -> dict:
    """The headers and the text and HTML parts of one MIME e-mail."""
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    html, text = mail.get_body(("html",)), mail.get_body(("plain",))
    return {
        "to": mail["To"],
        "from": mail["From"],
        "subject": mail["Subject"],
        "html": html.get_content() if html else None,
        "text": text.get_content() if text else None,
        "raw": raw,
    }


def sms_sent(herald) -> list[dict]:
    """Every SMS the providers took: {to, text, id}."""
    if herald.settings.sms_providers[0].kind == "sns":
        return [
            {"to": m["phone_number"], "text": m["message"], "id": m["message_id"]}
            for m in moto_sent(herald.moto_url)[1]
        ]
    log = herald.outbox / "sms.log"
    if not log.exists():
        return []
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return [{"to": m["to"], "text": m["text"], "id": m["providerMessageId"]} for m in lines]
