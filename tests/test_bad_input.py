"""No input makes Herald answer 500: generated bodies and query strings against every endpoint."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import Client

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
