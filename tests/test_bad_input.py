"""No input makes Herald answer 500: generated bodies and query strings against every endpoint."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.calls import Client

FIELDS = [
    "id",
    "userId",
    "notificationId",
    "data",
    "email",
    "telephone",
    "language",
    "timezone",
    "country",
    "preferences",
    "incrementId",
    "sendAt",
    "userEmail",
    "userTelephone",
    "widgetSettingsOverride",
    "emailSettingsOverride",
    "templates",
    "withEmail",
    "name",
    "stackTimeout",
    "muteEmail",
    "en",
    "email",
    "subject",
    "html",
    "users",
    "messages",
    "ids",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "+447911123456",
            "a@example.com",
            "en",
            "pt-BR",
            "GB",
            "{{ x",
            "{{ x.__class__ }}",
            "2026-12-01T09:00:00",
            "Europe/London",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=25,
)
# Bodies shaped like each endpoint's, with anything inside, and arbitrary JSON besides.
bodies = st.one_of(
    values,
    st.fixed_dictionaries({"users": st.lists(values, max_size=5)}),
    st.fixed_dictionaries({"messages": st.lists(values, max_size=5)}),
    st.fixed_dictionaries({"ids": st.lists(values, max_size=5)}),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=8),
)
POSTS = [
    "/users.upsert",
    "/users.delete",
    "/messages.send",
    "/notifications.upsert",
    "/notifications.delete",
]
GETS = ["/users.get", "/notifications.get", "/messages.get", "/messages.list"]
FUZZ = settings(
    derandomize=True,
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(path=st.sampled_from(POSTS), body=bodies)
def test_no_json_body_gets_a_500(herald, project, path, body):
    response = Client(herald.app, project["apiKey"]).post(path, data=json.dumps(body))
    assert response.status_code < 500, (path, body, response.get_json())
    if response.status_code >= 400:
        assert set(response.get_json()) == {"error", "message"}


@FUZZ
@given(path=st.sampled_from(POSTS), raw=st.binary(max_size=200))
def test_no_raw_bytes_get_a_500(herald, project, path, raw):
    response = Client(herald.app, project["apiKey"]).post(path, data=raw)
    assert response.status_code < 500, (path, raw, response.get_json())


@FUZZ
@example(path="/users.get", query={"id": "\x00"})
@example(path="/messages.list", query={"userId": "a\x00"})
@given(
    path=st.sampled_from(GETS),
    query=st.dictionaries(
        st.sampled_from(["id", "userId", "notificationId", "status", "limit", "cursor"]),
        st.text(max_size=20),
    ),
)
def test_no_query_string_gets_a_500(herald, project, path, query):
    response = Client(herald.app, project["apiKey"]).get(path, **query)
    assert response.status_code < 500, (path, query, response.get_json())


@pytest.mark.parametrize("path", POSTS)
def test_a_lone_surrogate_escape_is_refused(herald, project, path):
    body = '{"users": [{"id": "u", "firstName": "\\ud800"}], "messages": [], "id": "\\udfff"}'
    response = Client(herald.app, project["apiKey"]).post(path, data=body.encode())
    assert response.status_code < 500, response.get_json()


def test_an_escaped_surrogate_pair_is_one_character(herald, project):
    client = Client(herald.app, project["apiKey"])
    body = b'{"users": [{"id": "emoji", "firstName": "Ann \\ud83d\\ude00"}]}'
    assert client.post("/users.upsert", data=body).status_code == 200
    assert client.get("/users.get", id="emoji").get_json()["user"]["firstName"] == "Ann \U0001f600"


PIECES = [
    "{{ ",
    " }}",
    "{% for i in range(9) %}",
    "{% endfor %}",
    "{% if x %}",
    "{% endif %}",
    "firstName",
    "user.data",
    "'a'",
    "9" * 12,
    " * ",
    " ** ",
    " ~ ",
    "(",
    ")",
    "[",
    "]",
    "|upper",
    "|center(99999)",
    "|join",
    ".__class__",
    "x",
    "\x00",
    "\r\n",
    "\ud800",
    "é",
    "lipsum(9)",
    "range(10**6)",
    "{#",
    "#}",
    "{{ increment }}",
]
templates = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
TEMPLATE_FIELDS = [
    ("email", "subject"),
    ("email", "html"),
    ("sms", "text"),
    ("widget", "content"),
    ("widget", "icon"),
    ("email", "fromName"),
]
PROPERTY = settings(FUZZ, max_examples=60)


def strict(response) -> object:
    """The body as a strict client parses it: UTF-8 only, no NaN or Infinity, no lone surrogate."""

    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    parsed = json.loads(response.data.decode("utf-8"), parse_constant=refuse)
    json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    return parsed


def assert_reads_back(client: Client, user_id: str) -> None:
    """What is stored reads back as valid JSON, whatever was sent."""
    for response in (client.get("/users.get", id=user_id), client.get("/messages.list")):
        assert response.status_code < 500, response.data
        strict(response)


@PROPERTY
@given(where=st.sampled_from(TEMPLATE_FIELDS), source=templates, data=values)
def test_generated_templates_never_get_a_500_and_stored_messages_read_back(
    herald, project, where, source, data
):
    client = Client(herald.app, project["apiKey"])
    channel, field = where
    body = {
        "id": "gen",
        "name": "Generated",
        "withWidget": True,
        "templates": {"en": {"widget": {"content": "w"}, channel: {field: source}}},
    }
    response = client.post("/notifications.upsert", data=json.dumps(body))
    assert response.status_code < 500, (source, response.data)
    if response.status_code == 200:
        item = {"notificationId": "gen", "userId": "gen-user", "data": {"x": data}}
        sent = client.post("/messages.send", data=json.dumps({"messages": [item]}))
        assert sent.status_code < 500, (source, sent.data)
    override = {
        "notificationId": "gen",
        "userId": "gen-user",
        "widgetSettingsOverride": {"content": source},
    }
    sent = client.post("/messages.send", data=json.dumps({"messages": [override]}))
    assert sent.status_code < 500, (source, sent.data)
    assert_reads_back(client, "gen-user")


USER_FIELDS = [
    "id",
    "email",
    "telephone",
    "firstName",
    "lastName",
    "photoURL",
    "language",
    "timezone",
    "country",
]


@PROPERTY
@given(field=st.sampled_from(USER_FIELDS + ["data"]), raw=st.binary(max_size=24))
def test_raw_bytes_in_any_field_never_get_a_500_and_read_back(herald, project, field, raw):
    client = Client(herald.app, project["apiKey"])
    value = b'{"k": "' + raw + b'"}' if field == "data" else b'"' + raw + b'"'
    user = b'"id": "raw-user", ' if field != "id" else b""
    body = b'{"users": [{' + user + b'"' + field.encode() + b'": ' + value + b"}]}"
    response = client.post("/users.upsert", data=body)
    assert response.status_code < 500, (body, response.data)
    strict(response)
    item = b'{"messages": [{"notificationId": "n", "userId": "raw-user", "data": ' + (
        b'{"k": "' + raw + b'"}}]}'
    )
    sent = client.post("/messages.send", data=item)
    assert sent.status_code < 500, (item, sent.data)
    assert_reads_back(client, "raw-user")
