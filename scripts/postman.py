"""The Postman collection of Herald's API, generated from its OpenAPI description.

    python scripts/postman.py                       # from api/static/openapi.json (what
                                                    # GET /openapi.json serves)
    python scripts/postman.py --source http://127.0.0.1:8000/openapi.json
    python scripts/postman.py --out -               # print instead of writing the file

Writes docs/herald.postman_collection.json (Postman collection format v2.1): one folder per
OpenAPI tag, one request per operation with its query parameters and example body, the API key
as a bearer token from the `apiKey` variable and the server from `baseUrl`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "api" / "static" / "openapi.json"
COLLECTION = ROOT / "docs" / "herald.postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
METHODS = ("get", "post", "put", "patch", "delete")


def load_openapi(source: str) -> dict[str, Any]:
    """The OpenAPI document at a URL or in a file."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source) as response:  # noqa: S310 - an address the user gave
            return json.load(response)
    return json.loads(Path(source).read_text(encoding="utf-8"))


def collection(spec: dict[str, Any]) -> dict[str, Any]:
    """The Postman collection of every operation of `spec`, in folders by tag."""
    folders: dict[str, list[dict[str, Any]]] = {tag["name"]: [] for tag in spec.get("tags", [])}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["Other"])[0]
                folders.setdefault(tag, []).append(request(spec, path, method, operation))
    descriptions = {tag["name"]: tag.get("description", "") for tag in spec.get("tags", [])}
    return {
        "info": {
            "name": spec["info"]["title"],
            "description": spec["info"].get("summary", ""),
            "schema": SCHEMA,
        },
        "auth": bearer(),
        "variable": [
            {"key": "baseUrl", "value": "http://127.0.0.1:8000", "type": "string"},
            {"key": "apiKey", "value": "", "type": "string"},
        ],
        "item": [
            {"name": name, "description": descriptions.get(name, ""), "item": requests}
            for name, requests in folders.items()
            if requests
        ],
    }


def bearer() -> dict[str, Any]:
    """The project API key as a bearer token, from the `apiKey` variable."""
    return {"type": "bearer", "bearer": [{"key": "token", "value": "{{apiKey}}", "type": "string"}]}


def request(spec: dict[str, Any], path: str, method: str, operation: dict[str, Any]) -> dict:
    """One operation as a Postman request, named by its operationId."""
    query = [
        {"key": p["name"], "value": "", "description": p.get("description", ""), "disabled": True}
        for p in operation.get("parameters", [])
        if p.get("in") == "query"
    ]
    out: dict[str, Any] = {
        "name": operation["operationId"],
        "request": {
            "method": method.upper(),
            "description": operation.get("summary", ""),
            "header": [],
            "url": {
                "raw": "{{baseUrl}}" + path,
                "host": ["{{baseUrl}}"],
                "path": [path.lstrip("/")],
                "query": query,
            },
        },
    }
    secured = operation.get("security", spec.get("security"))
    out["request"]["auth"] = bearer() if secured else {"type": "noauth"}
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None:
        out["request"]["header"].append({"key": "Content-Type", "value": "application/json"})
        out["request"]["body"] = {
            "mode": "raw",
            "raw": json.dumps(content.get("example", {}), indent=2, ensure_ascii=False),
            "options": {"raw": {"language": "json"}},
        }
    return out


def main(argv: list[str] | None = None) -> None:
    """Generate the collection and write it (or print it with `--out -`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(OPENAPI), help="an OpenAPI file or URL")
    parser.add_argument("--out", default=str(COLLECTION), help="the file to write, - to print")
    args = parser.parse_args(argv)
    text = json.dumps(collection(load_openapi(args.source)), indent=2, ensure_ascii=False) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
