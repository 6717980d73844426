"""The sandbox's bounds sum what one operation builds and cover every operation that builds in
one step: each hostile template below is refused with its code, naming the bound, while the
process that compiles or renders it grows by less than 50 MB; the refusal is the same through
the API in both modes. Macros and blocks render, and a refused attribute fails the message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.calls import answer, send, upsert_notification
from tests.support.data import notification, token
from tests.support.received import emails_sent

MAX_GROWTH_MB = 50
ROOT = Path(__file__).resolve().parent.parent
HELD = "the items a list or dict holds at every depth"
# A block rendered only where `self.b()` asks for it, so that its output is joined in one call.
BLOCK = (
    "{% if false %}{% block b %}{% for i in range(1000) %}{{ 'a' * 100000 }}{% endfor %}"
    "{% endblock %}{% endif %}{{ self.b()|length }}"
)

# (template, what the refusal names): constants refused when compiled (template/invalid).
COMPILE_BOMBS = [
    ('{{ "%(a)200000000s" % {"a": "x"} }}', "a width of 200,000,000"),
    ('{{ ("a " * 50000)|wordwrap(1, wrapstring="w" * 1000) }}', "the result of wordwrap"),
    ('{{ [1]|batch(10000, "x" * 10000)|list }}', "the result of batch"),
    ('{{ ("é" * 200000)|tojson }}', "the JSON of a value"),
    ('{{ (["a"] * 200000)|pprint }}', "the result of pprint"),
    ('{{ ("9" * 5000)|int }}', "a number's size in bits"),
    ('{{ ("f" * 1000000)|int(base=16) }}', "a number's size in bits"),
]
# (template, what the refusal names): refused when rendered (template/renderFailed).
RENDER_BOMBS = [
    ('{{ ("{0:>10000}" * 2000).format(1) }}', "the result of format"),
    ('{{ ("{a:>10000}" * 10000).format_map({"a": 1}) }}', "the result of format"),
    ('{% set b = "x" * 1000000 %}{{ ("{0}" * 100).format(b) }}', "the result of format"),
    ('{% set d = {"a": "x" * 1000000} %}{{ ("%(a)s" * 100) % d }}', "the result of `%`"),
    ('{% set b = "a" * 1000000 %}{{ [b] * 300 }}', HELD),
    ('{% set b = "x" * 10000 %}{{ ([b] * 10000)|dump|length }}', HELD),
    (
        '{% set a = [] %}{% set b = [a] * 1000 %}{% set _ = a.append("x" * 100000) %}'
        "{{ b|string|length }}",
        HELD,
    ),
    (
        "{% set a = [] %}{% set b = [a] * 25000 %}{% set _ = a.extend(range(30000)) %}"
        "{{ b|sort|length }}",
        HELD,
    ),
    ('{% set b = "x" * 10000 %}{{ [1]|batch(10000, b)|list|string|length }}', "batch"),
    ('{% set b = "x" * 10000 %}{{ [1]|slice(10000, b)|list|string|length }}', "slice"),
    ('{% set b = "é" * 500000 %}{{ [b]|tojson|length }}', "the JSON of a value"),
    ('{{ ("," * 100).join("a" * 1000000) }}', "the result of join"),
    ('{{ ("\\t" * 10000).expandtabs(10000) }}', "the result of expandtabs"),
    ('{{ (1).to_bytes(300000000, "big") }}', "the result of to_bytes"),
    ('{{ "x".encode().ljust(100000000) }}', "a width of 100,000,000"),
    (
        '{% set l = [] %}{% for i in range(1000) %}{{ l.append("a" * 100000) }}{% endfor %}',
        "what a template adds to its lists and dicts",
    ),
    (
        "{% set lists = [] %}{% for i in range(100) %}{% set _ = lists.append([]) %}{% endfor %}"
        '{% for l in lists %}{% set _ = l.append("a" * 1000000) %}{% endfor %}',
        "what a template adds to its lists and dicts",
    ),
    (
        '{% macro m() %}{% for i in range(1000) %}{{ "a" * 100000 }}{% endfor %}{% endmacro %}'
        "{{ m()|length }}",
        "the output of a macro or block",
    ),
    (BLOCK, "the output of a macro or block"),
]
# (template, what it renders): within the bounds, and quick.
RENDERS = [
    ('{% macro greet(name) %}Hi {{ name }}!{% endmacro %}{{ greet("Ann") }}', "Hi Ann!"),
    ('{% set sign %}-- {{ "the team"|title }}{% endset %}{{ sign }}', "-- The Team"),
    ('{% filter upper %}thanks, {{ "ann" }}{% endfilter %}', "THANKS, ANN"),
    ("{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}in{% endcall %}", "[in]"),
    ("{{ [1, 2, 3, 4]|slice(2)|list }}", "[[1, 2], [3, 4]]"),
    ("{{ ([[1, 2, 3, 4, 5, 6, 7, 8, 9]] * 20000)|sum(start=[])|length }}", "180000"),
    (
        "{% set a = [] %}{% for i in range(5000) %}{% set _ = a.append(i) %}{% endfor %}"
        "{{ a|length }}",
        "5000",
    ),
]
UNSAFE = '{{ 1 | attr("__class__") }}'

# Compile and render one template in a process of its own, and say how much it grew.
PROBE = """
import json, resource, sys
from shared.infra.errors import HeraldError
from shared.templating.rendering import compile_templates, render_channel
template = sys.argv[1]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
answer = {"error": None, "message": ""}
try:
    compile_templates({"en": {"email": {"html": template}}})
    render_channel("en", "email", {"html": template}, {})
except HeraldError as exc:
    answer = {"error": exc.code, "message": exc.message}
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({**answer, "grown_mb": grown / 1024}))
"""


def in_a_fresh_process(template: str) -> dict:
    """The error a fresh process gets compiling and rendering `template`, and its growth."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, template],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(done.stdout.splitlines()[-1])


def sms_only(template: str) -> dict:
    """An unsaved notification whose only template is this SMS text."""
    body = notification(f"limits-{token()}", withEmail=False, withWidget=False)
    body["templates"]["en"] = {"sms": {"text": template}}
    return body


@pytest.mark.parametrize(
    ("template", "named", "error"),
    [(*row, "template/invalid") for row in COMPILE_BOMBS]
    + [(*row, "template/renderFailed") for row in RENDER_BOMBS],
)
def test_a_bomb_is_refused_before_the_process_grows(template, named, error):
    refused = in_a_fresh_process(template)

    assert refused["error"] == error, refused
    assert named in refused["message"]
    assert refused["grown_mb"] < MAX_GROWTH_MB, refused


@pytest.mark.parametrize(("template", "named"), COMPILE_BOMBS)
def test_a_constant_bomb_is_refused_when_the_notification_is_saved(herald, client, template, named):
    body = sms_only(template)

    refused = answer(client.post("/notifications.upsert", body), 400)

    assert refused["error"] == "template/invalid"
    assert "en.sms.text" in refused["message"] and named in refused["message"]
    assert client.get("/notifications.get", id=body["id"]).status_code == 404


@pytest.mark.parametrize(("template", "named"), [*RENDER_BOMBS, (UNSAFE, "unsafe")])
def test_a_bomb_fails_the_preview_with_the_bound_named(client, template, named):
    refused = answer(client.post("/templates.preview", {"notification": sms_only(template)}), 400)

    assert refused["error"] == "template/renderFailed"
    assert "en.sms.text" in refused["message"] and named in refused["message"]


@pytest.mark.parametrize(
    ("template", "named"), [RENDER_BOMBS[0], RENDER_BOMBS[4], (UNSAFE, "unsafe")]
)
def test_a_bomb_fails_its_message_at_once(client, template, named):
    upsert_notification(client, notification())
    item = {"notificationId": "welcome", "userId": f"u-{token()}", "userEmail": "a@example.com"}

    [result] = send(client, {**item, "emailSettingsOverride": {"text": template}})

    assert (result["ok"], result["status"], result["error"]) == (
        False,
        "failed",
        "template/renderFailed",
    )
    assert "en.email.text" in result["message"] and named in result["message"]


@pytest.mark.parametrize(("template", "rendered"), RENDERS)
def test_macros_blocks_and_bounded_filters_render(client, template, rendered):
    preview = answer(client.post("/templates.preview", {"notification": sms_only(template)}))

    assert preview["sms"]["text"] == rendered


def test_a_message_with_a_macro_a_set_block_and_a_filter_block_is_sent(herald, client):
    subject = (
        "{% macro hi(name) %}Hi {{ name }}{% endmacro %}{% set tail %}, welcome{% endset %}"
        "{{ hi(firstName) }}{{ tail }}{% filter upper %}!{{ code }}{% endfilter %}"
    )
    upsert_notification(client, notification())
    address = f"m-{token()}@example.com"
    item = {"notificationId": "welcome", "userId": f"u-{token()}", "userEmail": address}

    [result] = send(
        client,
        {
            **item,
            "userFirstName": "Ann",
            "data": {"code": "ab"},
            "emailSettingsOverride": {"subject": subject},
        },
    )

    assert result["ok"] is True, result
    [sent] = [mail for mail in emails_sent(herald) if mail["to"] == address]
    assert sent["subject"] == "Hi Ann, welcome!AB"
