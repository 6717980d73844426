"""`POST /webhooks/ses`: Herald as the HTTPS subscriber of the SNS topic SES publishes to."""

from __future__ import annotations

import logging
import urllib.request

from flask import Blueprint, Response, request

from api.http.errors import error_response
from api.http.requests import body_bytes, parse_json, services
from shared.feedback.ses import FEEDBACK, parse_ses_event, record_feedback
from shared.feedback.sns import FETCH_TIMEOUT, require_topics, url_allowed, verify_message
from shared.infra.errors import Forbidden, HeraldError

log = logging.getLogger("herald.webhooks")

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/ses")
def ses():
    """Verify an SNS message of an allowed topic, then confirm the subscription or record the
    SES event; without `HERALD_SNS_TOPIC_ARNS`, a 403 saying to set it."""
    settings = services().settings
    require_topics(settings)
    message = _sns_message()
    verify_message(message, settings)
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        return _confirm(message["SubscribeURL"], message.get("TopicArn"))
    if kind == "UnsubscribeConfirmation":
        log.warning("SNS unsubscribed this endpoint from %s", message.get("TopicArn"))
        return {"ok": True, "outcome": "unsubscribed"}
    event = parse_ses_event(message["Message"])
    if event is None:
        FEEDBACK.labels("other", "ignored").inc()
        return {"ok": True, "outcome": "ignored"}
    return {"ok": True, "outcome": record_feedback(services().engine, event)}


def _sns_message() -> dict:
    """The body: SNS posts JSON as text/plain, with its type in a header too."""
    message = parse_json(body_bytes())  # as every other body: UTF-8, bounded in depth
    if not isinstance(message, dict):
        raise HeraldError("body/invalid", "The body must be an SNS message (a JSON object).")
    header = request.headers.get("x-amz-sns-message-type")
    if header is not None and header != message.get("Type"):
        raise HeraldError(
            "body/invalid", "The x-amz-sns-message-type header does not match the message Type."
        )
    return message


def _confirm(url: str, topic: str | None) -> dict | Response:
    """Visit the SubscribeURL (only on an allowed SNS host), which confirms the subscription;
    a 502 when it can't be reached."""
    if not url_allowed(url, services().settings):
        raise Forbidden("signature/invalid", "The SubscribeURL is not on an allowed SNS host.")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            response.read()
    except OSError as exc:
        log.error("confirming the SNS subscription to %s failed: %s", topic, exc)
        message = "Herald could not reach the SubscribeURL; SNS will send the confirmation again."
        return error_response(HeraldError("subscription/confirmFailed", message), 502)
    log.info("SNS subscription to %s confirmed", topic)
    return {"ok": True, "outcome": "confirmed"}
