"""The published OpenAPI document: current, valid, and describing exactly the app's routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from bot.api.openapi import build_document, render

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def test_checked_in_document_matches_a_fresh_generation() -> None:
    """docs/openapi.json is what `python -m bot.api.openapi docs/openapi.json` writes today."""
    assert DOCUMENT.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run `python -m bot.api.openapi docs/openapi.json`"
    )


def test_document_is_valid_openapi() -> None:
    """The document passes the OpenAPI 3.1 validator."""
    validate(json.loads(DOCUMENT.read_text(encoding="utf-8")))


def test_document_lists_exactly_the_apps_api_routes(client: TestClient[Any, Any]) -> None:
    """Every API v1 route the app serves is documented, and nothing else is."""
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.method != "HEAD"
    }
    documented = {
        (method, path) for path, item in build_document()["paths"].items() for method in item
    }
    assert documented == served


def test_request_bodies_are_the_servers_models() -> None:
    """The events body is the server's EventBatch schema, with its strict event fields."""
    schemas = build_document()["components"]["schemas"]
    assert schemas["EventIn"]["additionalProperties"] is False
    assert "tokens_in" in schemas["EventIn"]["properties"]
    assert schemas["EventBatch"]["properties"]["events"]["items"] == {
        "$ref": "#/components/schemas/EventIn"
    }
