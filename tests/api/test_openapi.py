"""Drift: every route the app serves is in /openapi.json, JSON routes declare a model, and
every route declares the error statuses it answers, with the error body it sends."""

from __future__ import annotations

import gc
import re
import weakref
from pathlib import Path
from typing import Any

import httpx
from fastapi.responses import JSONResponse

from agentid.app import create_app
from tests.conftest import Service
from tests.conftest import make_settings
from tests.service import JSON
from tests.service import app_routes
from tests.service import create_project
from tests.service import new_token


async def test_every_route_is_documented_with_a_response_model(service: Service) -> None:
    r = await service.http.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    routes = app_routes(service.running.settings)
    served = {(method.lower(), path) for method, path, _ in routes}
    documented = {(method, path) for path, ops in paths.items() for method in ops}
    assert served - documented == set(), "routes missing from the OpenAPI schema"
    assert documented - served == set(), "documented routes the app does not serve"

    for method, path, route in routes:
        op = paths[path][method.lower()]
        status = str(route.status_code or 200)
        response_class = getattr(route.response_class, "value", route.response_class)
        if status == "204":
            assert "content" not in op["responses"].get("204", {}), (method, path)
            continue
        assert status in op["responses"], (method, path, op["responses"])
        content = op["responses"][status].get("content", {})
        if isinstance(response_class, type) and issubclass(response_class, JSONResponse):
            assert route.response_model is not None, f"{method} {path} has no response model"
            schema = content.get("application/json", {}).get("schema")
            assert schema and schema != {}, f"{method} {path} documents no response schema"
        else:
            assert content, f"{method} {path} documents no media type"
        assert op.get("operationId"), (method, path)


PUBLIC = {"/healthz"}


def resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def problems(value: Any, schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    """Where ``value`` departs from ``schema`` (the JSON Schema subset the error body uses)."""
    schema = resolve(schema, components)
    if "anyOf" in schema:
        if any(not problems(value, option, components) for option in schema["anyOf"]):
            return []
        return [f"{value!r} is none of {schema['anyOf']}"]
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{value!r} is not an object"]
        props = schema.get("properties", {})
        found = [f"missing {key}" for key in schema.get("required", []) if key not in value]
        if schema.get("additionalProperties") is False:
            found += [f"undeclared {key}" for key in value if key not in props]
        for key, item in value.items():
            if key in props:
                found += problems(item, props[key], components)
        return found
    types = {"string": str, "null": type(None), "integer": int, "boolean": bool}
    if kind in types and not isinstance(value, types[kind]):
        return [f"{value!r} is not {kind}"]
    return []


async def test_every_route_declares_its_error_statuses(service: Service) -> None:
    schema = (await service.http.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components  # a 422 is the error envelope too
    for method, path, _ in app_routes(service.running.settings):
        if path in PUBLIC:
            continue
        op = schema["paths"][path][method.lower()]
        declared = set(op["responses"])
        wanted = {"401", "422", "503"}
        if path.startswith("/projects/{project_id}"):
            wanted.add("404")
        if "requestBody" in op:
            wanted |= {"400", "413"}
        assert wanted <= declared, (method, path, sorted(wanted - declared))
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            ref = response["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorBody", (method, path, status, ref)
            assert response["description"], (method, path, status)


async def test_errors_answered_are_declared_with_their_schema(service: Service) -> None:
    """Each kind of error the API answers: declared by the route, and shaped as declared."""
    schema = (await service.http.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    await create_project(service, "acme")
    token = await new_token(service, "acme", ["read"])
    too_large = service.running.settings.max_json_body_bytes + 1
    async with (
        httpx.AsyncClient(base_url=service.running.url) as anonymous,
        service.client(token) as reader,
    ):
        answers = [
            ("GET", "/projects", await anonymous.get("/projects")),
            ("POST", "/projects", await reader.post("/projects", json={"id": "x"})),
            ("GET", "/projects/{project_id}", await service.http.get("/projects/ghost")),
            ("POST", "/projects", await service.http.post("/projects", json={"id": "acme"})),
            ("POST", "/projects", await service.http.post("/projects", json={"id": "A"})),
            (
                "POST",
                "/projects",
                await service.http.post("/projects", content=b" " * too_large, headers=JSON),
            ),
            (
                "POST",
                "/projects",
                await service.http.post(
                    "/projects", content=b"[" * 50_000 + b"]" * 50_000, headers=JSON
                ),
            ),
            (
                "GET",
                "/projects/{project_id}/email/aliases",
                await reader.get("/projects/acme/email/aliases"),
            ),
            ("GET", "/projects", await service.http.get("/projects", params={"limit": 0})),
        ]
    statuses = set()
    for method, path, r in answers:
        statuses.add(r.status_code)
        responses = schema["paths"][path][method.lower()]["responses"]
        assert str(r.status_code) in responses, (method, path, r.status_code)
        declared = responses[str(r.status_code)]["content"]["application/json"]["schema"]
        assert problems(r.json(), declared, components) == [], (method, path, r.text)
    assert statuses >= {401, 403, 404, 409, 413, 422}, statuses
    # The schema is strict: what the API does not send is not accepted either.
    body = resolve({"$ref": "#/components/schemas/ErrorBody"}, components)
    assert problems({"error": {"code": "x"}}, body, components)
    assert problems({"error": {"code": "x", "message": "y", "extra": 1}}, body, components)
    assert problems({"detail": []}, body, components)


async def test_the_docs_pages_load_nothing_from_another_origin(service: Service) -> None:
    """/docs and /redoc share their origin with the operator's page (/ui): a script they
    load could read its pages with the session cookie, so every script and style they load
    is our own, served without a token (the schema they read too)."""
    async with httpx.AsyncClient(base_url=service.running.url) as anonymous:
        for page in ("/docs", "/redoc"):
            r = await anonymous.get(page)
            assert r.status_code == 200, page
            loaded = re.findall(r'(?:src|href)="([^"]+)"', r.text)
            assert loaded and all(url.startswith("/") for url in loaded), (page, loaded)
            assert "cdn." not in r.text and "fonts.googleapis" not in r.text
            for url in loaded:
                asset = await anonymous.get(url)
                assert asset.status_code == 200 and asset.content, url
        assert (await anonymous.get("/docs-static/nothing.js")).status_code == 404


def test_an_app_made_and_dropped_is_collected(tmp_path: Path) -> None:
    """FastAPI keeps every endpoint it looks at in a cache (4,096 of them): an endpoint
    closing over its app (the docs pages fastapi-offline's factory makes) kept every app
    made alive, and a test run's process grew to 1.9 GB, its collections to seconds."""
    made = weakref.ref(create_app(make_settings(tmp_path / "data")))
    gc.collect()
    assert made() is None
