"""Drift: every route the app serves is in /openapi.json, and JSON routes declare a model."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from tests.api.actions import app_routes
from tests.conftest import Service


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
