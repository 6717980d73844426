"""The Nunjucks filters template authors rely on, rendered through `templates.preview` as a
send renders them: text fields (SMS) and autoescaped HTML (the widget's content)."""

from __future__ import annotations

import pytest

from tests.support.calls import answer
from tests.support.data import token

DATA = {
    "name": "ann lee",
    "html": "<b>bold</b>",
    "lines": "one\n<two>\r\nthree",
    "price": 2.5,
    "ratio": 2.567,
    "tags": ["red", "green", "blue"],
    "query": {"q": "a b", "page": 2},
    "path": "a/b c&d",
    "order": {"id": 7, "items": [1, None], "ok": True},
    "at": "2026-03-29T00:30:00Z",
    "local": "2026-07-04T18:05:09",
    "story": "The quick brown fox jumps over the lazy dog",
    "empty": "",
}


def rendered(client, channel: str, source: str, data: dict | None = None) -> dict:
    """The preview of an unsaved notification whose only template is this one."""
    field = "content" if channel == "widget" else "text"
    body = {
        "id": f"f-{token()}",
        "name": "Filters",
        "withWidget": channel == "widget",
        "withSMS": channel == "sms",
        "templates": {"en": {channel: {field: source}}},
    }
    preview = answer(
        client.post("/templates.preview", {"notification": body, "data": DATA | (data or {})})
    )
    return {"text": preview[channel][field], "undefined": preview["undefined"]}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{{ nickname | default("friend") }}', "friend"),
        ('{{ empty | default("none") }}|{{ empty | default("none", true) }}', "|none"),
        ("{{ name | capitalize }}", "Ann lee"),
        ('{{ name | replace("n", "N") }}', "aNN lee"),
        ("{{ price | round }} {{ ratio | round(1) }} {{ ratio | round(0, 'floor') }}", "3 2.6 2"),
        ("{{ 2.4 | round(0, 'ceil') }} {{ 1234 | round(-2) }}", "3 1200"),
        ("{{ story | truncate(14) }}", "The quick..."),
        ("{{ story | truncate(15) }}", "The quick brown..."),
        ("{{ story | truncate(15, true) }}", "The quick brown..."),
        ('{{ story | truncate(9, false, " »") }}', "The quick »"),
        ("{{ story | truncate(100) }}", DATA["story"]),
        ('{{ tags | join(", ") }}', "red, green, blue"),
        ("{{ tags | length }} {{ story | length }} {{ order | length }}", "3 43 3"),
        ("{{ tags | first }} {{ tags | last }} {{ name | first }}", "red blue a"),
        ("{{ path | urlencode }}", "a%2Fb%20c%26d"),
        ("{{ query | urlencode }}", "q=a%20b&page=2"),
        ("{{ order | dump }}", '{"id":7,"items":[1,null],"ok":true}'),
        ("{{ tags | dump(2) }}", '[\n  "red",\n  "green",\n  "blue"\n]'),
        ("{{ lines | nl2br }}", "one<br />\n<two><br />\nthree"),
        ("{{ html | escape }}", "&lt;b&gt;bold&lt;/b&gt;"),
        ('{{ at | date("dddd Do MMMM YYYY, HH:mm [UTC]") }}', "Sunday 29th March 2026, 00:30 UTC"),
        ('{{ at | date("D MMM YY h:mm A Z", "Europe/Paris") }}', "29 Mar 26 1:30 AM +01:00"),
        ('{{ local | date("%d/%m/%Y %H:%M:%S", "Asia/Tokyo") }}', "05/07/2026 03:05:09"),
        ("{{ local | date }}", "2026-07-04"),
        ('{{ order.shippedAt | date("YYYY") }}|{{ order.total | round }}', "|"),
    ],
)
def test_filter_renders_as_in_nunjucks(client, source, expected):
    assert rendered(client, "sms", source)["text"] == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ lines | nl2br }}", "one<br />\n&lt;two&gt;<br />\nthree"),
        ("{{ html | safe }}", "<b>bold</b>"),
        ("{{ html | escape }}", "&lt;b&gt;bold&lt;/b&gt;"),
        ("{{ html }}", "&lt;b&gt;bold&lt;/b&gt;"),
        ("{{ html | safe | nl2br }}", "<b>bold</b>"),
        ('{{ html | truncate(5, true, "…") }}', "&lt;b&gt;bo…"),
        ("{{ order | dump }}", "{&#34;id&#34;:7,&#34;items&#34;:[1,null],&#34;ok&#34;:true}"),
    ],
)
def test_filter_in_autoescaped_html_escapes_data_but_not_its_own_markup(client, source, expected):
    assert rendered(client, "widget", source)["text"] == expected


def test_filters_on_an_undefined_name_render_nothing_and_list_it(client):
    source = (
        "[{{ coupon.code | upper }}][{{ coupon.expires | date }}][{{ coupon | dump }}]"
        "[{{ coupon.note | nl2br }}][{{ coupon.url | urlencode }}][{{ coupon.text | truncate }}]"
    )
    result = rendered(client, "widget", source)
    assert result["text"] == "[][][][][][]"
    assert result["undefined"] == [
        "coupon",
        "coupon.code",
        "coupon.expires",
        "coupon.note",
        "coupon.text",
        "coupon.url",
    ]


def test_undefined_values_compare_and_iterate_like_empty_ones(client):
    source = (
        "{% if invoice.paid %}paid{% else %}unpaid{% endif %}|"
        "{% for x in cart.items %}{{ x }}{% else %}empty{% endfor %}|"
        "{{ cart.total > 10 }}|{{ cart.total + 1 }}|{{ cart.total is defined }}|"
        "{{ cart['lines'][0].sku }}"
    )
    result = rendered(client, "sms", source)
    assert result["text"] == "unpaid|empty|False||False|"
    assert result["undefined"] == [
        "cart.items",
        "cart.lines[0].sku",
        "cart.total",
        "invoice.paid",
    ]


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ('{{ story | date("YYYY") }}', "is not an ISO 8601 date"),
        ('{{ at | date("HH:mm", "Mars/Olympus") }}', "is not a time zone"),
        ('{{ at | date("%999999999Y") }}', "strftime widths are not supported"),
        ("{{ ratio | round(400) }}", "round keeps at most 20 digits"),
        (
            "{% set a = [1] * 1000 %}{% set b = [a] * 1000 %}{% set c = [b] * 1000 %}"
            "{{ c | dump }}",
            "the items a list or dict holds at every depth",
        ),
    ],
)
def test_a_filter_given_what_it_cannot_take_fails_the_render_clearly(client, source, named):
    body = {
        "id": f"f-{token()}",
        "name": "Filters",
        "withSMS": True,
        "templates": {"en": {"sms": {"text": source}}},
    }
    refused = answer(client.post("/templates.preview", {"notification": body, "data": DATA}), 400)
    assert refused["error"] == "template/renderFailed"
    assert "en.sms.text" in refused["message"] and named in refused["message"]
