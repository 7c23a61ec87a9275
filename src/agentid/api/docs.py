"""/docs (Swagger UI) and /redoc, with their scripts and styles served from this origin:
fastapi-offline's bundle, never a CDN's. The origin is the one /ui is served from, where
a script loaded by another party could read the operator's pages with the session cookie.

The pages are module-level routes that read the app from the request, not closures over
it (as fastapi-offline's own factory makes): FastAPI keeps every endpoint it has looked
at in a cache of 4,096, and a closure there keeps its whole app alive, one per app made.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter
from fastapi import FastAPI
from fastapi import Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

SWAGGER, REDOC = "/docs", "/redoc"
STATIC = "/docs-static"  # the bundle's files: STATIC + "/{path:path}"
BUNDLE = Path(fastapi_offline.__file__).parent / "static"
PUBLIC = (SWAGGER, REDOC, STATIC + "/{path:path}")  # no token asked

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    name: str,
    page: Callable[..., HTMLResponse],
    assets: dict[str, str],
    **options: Any,
) -> HTMLResponse:
    """``page`` (FastAPI's Swagger UI or ReDoc HTML) for the request's app: its schema,
    and ``assets`` (argument -> file) from the bundle, under the request's root path."""
    root, app = request.scope.get("root_path", ""), request.app
    urls = {argument: f"{root}{STATIC}/{file}" for argument, file in assets.items()}
    return page(
        openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - {name}", **urls, **options
    )


@router.get(SWAGGER)
async def swagger_ui(request: Request) -> HTMLResponse:
    assets = {
        "swagger_js_url": "swagger-ui-bundle.js",
        "swagger_css_url": "swagger-ui.css",
        "swagger_favicon_url": "favicon.png",
    }
    return _page(request, "Swagger UI", get_swagger_ui_html, assets)


@router.get(REDOC)
async def redoc(request: Request) -> HTMLResponse:
    assets = {"redoc_js_url": "redoc.standalone.js", "redoc_favicon_url": "favicon.png"}
    return _page(request, "ReDoc", get_redoc_html, assets, with_google_fonts=False)


def serve_docs(app: FastAPI) -> None:
    """The docs pages on ``app`` (made with ``docs_url=None, redoc_url=None``)."""
    app.mount(STATIC, StaticFiles(directory=BUNDLE), name="docs-static")
    app.include_router(router)
