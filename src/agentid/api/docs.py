"""/docs (Swagger UI) and /redoc, with their scripts and styles served from this origin:
fastapi-offline's bundle, never a CDN's. The origin is the one /ui is served from, where
a script loaded by another party could read the operator's pages with the session cookie.

The pages are module-level routes that read the app from the request, not closures over
it (as fastapi-offline's own factory makes): FastAPI keeps every endpoint it has looked
at in a cache of 4,096, and a closure there keeps its whole app alive, one per app made.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi import FastAPI
from fastapi import Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

SWAGGER, REDOC = "/docs", "/redoc"
OAUTH2_REDIRECT = SWAGGER + "/oauth2-redirect"
STATIC = "/docs-static"  # the bundle's files: STATIC + "/{path:path}"
BUNDLE = Path(fastapi_offline.__file__).parent / "static"
PUBLIC = (SWAGGER, OAUTH2_REDIRECT, REDOC, STATIC + "/{path:path}")  # no token asked

router = APIRouter(include_in_schema=False)


@router.get(SWAGGER)
async def swagger_ui(request: Request) -> HTMLResponse:
    root, app = request.scope.get("root_path", ""), request.app
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
        swagger_js_url=f"{root}{STATIC}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{STATIC}/swagger-ui.css",
        swagger_favicon_url=f"{root}{STATIC}/favicon.png",
    )


@router.get(OAUTH2_REDIRECT)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get(REDOC)
async def redoc(request: Request) -> HTMLResponse:
    root, app = request.scope.get("root_path", ""), request.app
    return get_redoc_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{root}{STATIC}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{STATIC}/favicon.png",
        with_google_fonts=False,
    )


def serve_docs(app: FastAPI) -> None:
    """The docs pages on ``app`` (made with ``docs_url=None, redoc_url=None``)."""
    app.mount(STATIC, StaticFiles(directory=BUNDLE), name="docs-static")
    app.include_router(router)
