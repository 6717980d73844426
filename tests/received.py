"""What the e-mail and SMS providers received, read the same way in both modes: from moto's
record in production, from the outbox files in the embedded mode."""

from __future__ import annotations

import email
import email.policy
import json
import urllib.request


def moto_sent(moto_url: str) -> tuple[list[dict], list[dict]]:
    """What moto recorded: (e-mails, SMS)."""
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json") as response:
        data = json.load(response)
    return data.get("ses", {}).get("Message", []), data.get("sns", {}).get("SMS", [])


def emails_sent(herald) -> list[dict]:
    """Every e-mail the providers took: {to, from, subject, html, id} (and `raw` from files)."""
    if herald.settings.email_provider == "ses":
        return [
            {
                "to": m["destinations"]["ToAddresses"][0],
                "from": m["source"],
                "subject": m["subject"],
                "html": m["body"],
                "id": m["id"],
            }
            for m in moto_sent(herald.moto_url)[0]
        ]
    out = []
    for path in sorted((herald.outbox / "email").glob("*.eml")):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html = mail.get_body(("html",))
        out.append(
            {
                "to": mail["To"],
                "from": mail["From"],
                "subject": mail["Subject"],
                "html": html.get_content() if html else None,
                "id": path.stem,
                "raw": path.read_bytes(),
            }
        )
    return out


def sms_sent(herald) -> list[dict]:
    """Every SMS the providers took: {to, text, id}."""
    if herald.settings.sms_provider == "sns":
        return [
            {"to": m["phone_number"], "text": m["message"], "id": m["message_id"]}
            for m in moto_sent(herald.moto_url)[1]
        ]
    log = herald.outbox / "sms.log"
    if not log.exists():
        return []
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return [{"to": m["to"], "text": m["text"], "id": m["providerMessageId"]} for m in lines]
