"""Templates at upsert and at render: syntax errors named by language, channel, field and
line, and the sandbox that keeps a template away from Python's internals (SPEC §1)."""

from __future__ import annotations

import pytest

from shared.templating.rendering import RenderFailed, render_channel
from tests.support.calls import refused, upsert_notification
from tests.support.data import order_shipped, token


@pytest.mark.parametrize(
    ("channel", "field", "source", "line"),
    [
        ("sms", "text", "Hello {{ user.name ", 1),
        ("email", "html", "<p>Hello</p>\n<p>{{ firstName }}</p>\n{% if %}yes{% endif %}\n", 3),
        ("widget", "content", "{% for x in items %}\n{{ x }}", 2),
        ("email", "subject", "Hi {{ firstName | }}", 1),
    ],
)
def test_template_syntax_error_names_language_channel_field_and_line(
    client, channel, field, source, line
):
    notification_id = f"n-{token()}"
    body = order_shipped(notification_id)
    body["templates"]["en"][channel][field] = source
    answer = refused(client, body)
    assert answer["error"] == "template/invalid"
    assert f"en.{channel}.{field}" in answer["message"]
    assert f"line {line}" in answer["message"]
    assert ".." not in answer["message"]
    assert client.get("/notifications.get", id=notification_id).status_code == 404


def test_syntax_error_in_a_second_language_names_that_language(client):
    body = order_shipped(f"n-{token()}")
    body["templates"]["pt-BR"] = {"email": {"subject": "Ol\u00e1", "html": "\n\n\n{% if %}"}}
    answer = refused(client, body)
    assert answer["error"] == "template/invalid"
    assert "pt-BR.email.html" in answer["message"] and "line 4" in answer["message"]


def test_a_replace_with_a_broken_template_keeps_the_old_notification(client):
    notification_id = f"n-{token()}"
    before = upsert_notification(client, order_shipped(notification_id))
    broken = order_shipped(notification_id, name="Broken")
    broken["templates"]["en"]["sms"]["text"] = "{{ oops "
    assert refused(client, broken)["error"] == "template/invalid"
    after = client.get("/notifications.get", id=notification_id).get_json()["notification"]
    assert after == before


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ foo._private }}",
        "{{ x['__globals__'] }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ ''.format.__self__ }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{% set g = lipsum.__globals__ %}{{ g }}",
    ],
)
def test_template_reaching_for_python_internals_is_refused_at_upsert(client, source):
    notification_id = f"n-{token()}"
    body = order_shipped(notification_id)
    body["templates"]["en"]["email"]["html"] = source
    answer = refused(client, body)
    assert answer["error"] == "template/invalid"
    assert "en.email.html" in answer["message"]
    assert "private" in answer["message"]
    assert client.get("/notifications.get", id=notification_id).status_code == 404


# Templates that slip past the compile-time check (the private name is built at run time or
# hidden in a string) must still be stopped by the Jinja2 sandbox when rendered.
@pytest.mark.parametrize(
    "source",
    [
        "{{ '{0.__class__.__mro__}'.format(user) }}",
        "{{ cycler['__in' ~ 'it__']['__glo' ~ 'bals__'] }}",
        "{{ (user|attr('__class__')).mro() }}",
        "{{ (lipsum|attr('__glob' ~ 'als__'))['os'] }}",
    ],
)
def test_sandbox_stops_internals_built_at_render_time(source):
    context = {"user": {"firstName": "Ann"}, "firstName": "Ann"}
    with pytest.raises(RenderFailed) as failure:
        render_channel("en", "sms", {"text": source}, context)
    assert failure.value.code == "template/renderFailed"
    assert "en.sms.text" in failure.value.message
    assert "unsafe" in failure.value.message


def test_sandbox_fails_an_unsafe_attribute_lookup_instead_of_rendering_nothing():
    with pytest.raises(RenderFailed) as failure:
        render_channel("en", "sms", {"text": "[{{ lipsum|attr('__globals__') }}]"}, {})
    assert failure.value.code == "template/renderFailed"
    assert "unsafe" in failure.value.message


def test_sandbox_still_renders_ordinary_templates():
    context = {"user": {"firstName": "Ann"}, "firstName": "Ann", "items": [1, 2]}
    rendered = render_channel(
        "en",
        "email",
        {
            "subject": "Hi {{ user.firstName }}\n",
            "html": "<b>{{ '<i>' }}</b>",
            "text": "{% for i in items %}{{ i }}{% endfor %} {{ '{0}'.format(firstName) }}",
        },
        context,
    )
    assert rendered == {"subject": "Hi Ann", "html": "<b>&lt;i&gt;</b>", "text": "12 Ann"}
