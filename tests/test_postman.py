"""The Postman collection kept in docs/ lists every operation GET /openapi.json describes, and is
what scripts/postman.py generates from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from api.views.docs import demo_served

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = ROOT / "docs" / "herald.postman_collection.json"
REGENERATE = "regenerate it: python scripts/postman.py"


def operations(herald) -> set[tuple[str, str, str]]:
    """(method, path, operationId) of every operation the running app's /openapi.json lists,
    with `/demo`'s where the demo is off (it leaves them out; the collection has them)."""
    spec = herald.app.test_client().get("/openapi.json").get_json()
    if not demo_served(herald.settings):
        spec = json.loads((ROOT / "api" / "static" / "openapi.json").read_text(encoding="utf-8"))
    return {
        (method.upper(), path, operation["operationId"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


def requests(collection: dict) -> set[tuple[str, str, str]]:
    """(method, path, name) of every request of a Postman collection, folders flattened."""
    found = set()
    for entry in collection["item"]:
        for item in entry.get("item", [entry]):
            request = item["request"]
            path = request["url"]["raw"].removeprefix("{{baseUrl}}")
            found.add((request["method"], path, item["name"]))
    return found


def test_the_collection_lists_every_operation_of_openapi_json(herald):
    stored = json.loads(COLLECTION.read_text(encoding="utf-8"))
    assert stored["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert requests(stored) == operations(herald), REGENERATE


def test_the_collection_is_what_the_script_generates_from_openapi_json(herald, tmp_path):
    served = herald.app.test_client().get("/openapi.json").get_data(as_text=True)
    if not demo_served(herald.settings):  # it leaves /demo out; the collection has it
        served = (ROOT / "api" / "static" / "openapi.json").read_text(encoding="utf-8")
    source = tmp_path / "openapi.json"
    source.write_text(served, encoding="utf-8")
    script = [sys.executable, str(ROOT / "scripts" / "postman.py"), "--source", str(source)]
    generated = subprocess.run(
        [*script, "--out", "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert generated == COLLECTION.read_text(encoding="utf-8"), REGENERATE


def test_secured_operations_carry_the_api_key_and_operations_endpoints_none():
    stored = json.loads(COLLECTION.read_text(encoding="utf-8"))
    auth = {
        item["name"]: item["request"]["auth"]["type"]
        for folder in stored["item"]
        for item in folder["item"]
    }
    assert auth["messagesSend"] == "bearer" and auth["healthz"] == "noauth"
    send = next(i for f in stored["item"] for i in f["item"] if i["name"] == "messagesSend")
    assert json.loads(send["request"]["body"]["raw"])["messages"]
