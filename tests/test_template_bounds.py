"""Bounded rendering: a field past its size limit or a message past its time limit fails that
message with `template/renderFailed` at once, and the worker goes on with the next one."""

from __future__ import annotations

import time

import pytest

from shared.templating.rendering import RenderFailed, render_channel, render_time_limit
from tests.support.calls import send, upsert_notification
from tests.support.data import notification, phone, token
from tests.support.health import assert_still_answering, peak_rss_mb

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
NESTED_OUTPUT = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
BIG_IN_LOOP = '{% for i in range(100000) %}{{ "a" * 100000 }}{% endfor %}'

# (channel, field, template, what the failure names)
RENDER_LIMITS = [
    ("email", "html", NESTED_LOOPS, "time limit of 2 s"),
    ("email", "html", NESTED_OUTPUT, "524,288 bytes"),
    ("email", "html", BIG_IN_LOOP, "524,288 bytes"),
    ("email", "text", BIG_IN_LOOP, "524,288 bytes"),
    ("email", "subject", "{% for i in range(600) %}ab{% endfor %}", "998 characters"),
    ("sms", "text", "{% for i in range(1601) %}x{% endfor %}", "1,600 characters"),
    ("widget", "content", BIG_IN_LOOP, "65,536 bytes"),
    ("widget", "link", "https://x/{% for i in range(3000) %}a{% endfor %}", "2,048 characters"),
]


def recipient() -> dict:
    """A new user with an address and a number, so that every channel renders."""
    return {
        "userId": f"u-{token()}",
        "userEmail": f"u-{token()}@herald.example.com",
        "userTelephone": phone(),
    }


def with_template(channel: str, field: str, template: str) -> dict:
    templates = dict(notification()["templates"]["en"])
    templates[channel] = {**templates[channel], field: template}
    return {"templates": {"en": templates}}


@pytest.mark.parametrize(("channel", "field", "template", "limit"), RENDER_LIMITS)
def test_a_field_past_its_limit_fails_the_message_at_once(
    herald, client, channel, field, template, limit
):
    # Given a notification whose template compiles but renders past a bound
    upsert_notification(client, notification(**with_template(channel, field, template)))
    before = peak_rss_mb()
    started = time.monotonic()

    [result] = send(client, {"notificationId": "welcome", **recipient()})

    # Then the message failed with the field and the limit named, without waiting for a retry
    assert (result["ok"], result["status"]) == (False, "failed")
    assert result["error"] == "template/renderFailed"
    assert f"en.{channel}.{field}" in result["message"]
    assert limit in result["message"]
    assert time.monotonic() - started < 4.5
    stored = client.get("/messages.get", id=result["id"]).get_json()["message"]
    assert stored["status"] == "failed"
    assert stored["error"] == "template/renderFailed"
    assert_still_answering(herald)
    assert peak_rss_mb() - before < 200


def test_the_worker_goes_on_after_a_message_past_its_time_limit(herald, client):
    upsert_notification(client, notification(**with_template("email", "html", NESTED_LOOPS)))
    [slow] = send(client, {"notificationId": "welcome", **recipient()})
    upsert_notification(client, notification())

    [next_one] = send(client, {"notificationId": "welcome", **recipient(), "data": {"code": 7}})

    assert slow["error"] == "template/renderFailed"
    assert (next_one["ok"], next_one["status"]) == (True, "sent")
    assert {c["status"] for c in next_one["channels"].values()} == {"sent"}


@pytest.mark.parametrize(
    "override",
    [
        {"emailSettingsOverride": {"subject": "{% for i in range(999) %}x{% endfor %}"}},
        {"emailSettingsOverride": {"html": BIG_IN_LOOP}},
        {"widgetSettingsOverride": {"content": NESTED_LOOPS}},
    ],
)
def test_an_override_past_its_limit_fails_the_message(herald, client, override):
    upsert_notification(client, notification())

    [result] = send(client, {"notificationId": "welcome", **recipient(), **override})

    assert (result["ok"], result["error"]) == (False, "template/renderFailed")
    assert "limit" in result["message"]


@pytest.mark.parametrize(
    "template",
    [
        '{{ "{:>999999999}".format(1) }}',
        "{{ code * 1000000000 }}",
        "{% set s = code * 100000 %}" + "{% set s = s ~ s %}" * 5 + "{{ s }}",
        "{{ code|center(10**9) }}",
        "{{ (code ~ ',')|join(range(100000)|list) }}",
        "{{ code.ljust(10**9) }}",
        "{% for a in code * 50000 %}{% for b in code * 50000 %}{% endfor %}{% endfor %}",
        "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(1) }}",
    ],
)
def test_data_dependent_bombs_stop_while_rendering(template):
    # A value only known at render time can't be refused by the compiler: the render stops.
    started = time.monotonic()
    with render_time_limit(0.5), pytest.raises(RenderFailed) as failed:
        render_channel("en", "email", {"html": template}, {"code": "ab"})
    assert "en.email.html" in failed.value.message
    assert time.monotonic() - started < 1.5


def test_ordinary_templates_still_render():
    fields = {
        "subject": "Hi {{ name|title }} ({{ '%05.1f'|format(3.14159) }})",
        "html": "{% for i in items %}{{ loop.index }}:{{ i ~ '!' }} {% endfor %}{{ 2 ** 10 }}",
        "text": "{{ items|join(', ') }} {{ '{:>4}'.format(7) }} {{ 'x' * 3 }}",
    }
    rendered = render_channel("en", "email", fields, {"name": "ann lee", "items": [1, 2]})
    assert rendered == {
        "subject": "Hi Ann Lee (003.1)",
        "html": "1:1! 2:2! 1024",
        "text": "1, 2    7 xxx",
    }
