"""``/docs`` (Swagger UI) and ``/redoc``, served with their assets from this server.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN: every visit would be a request
leaving the machine, and a page that runs third-party script next to an API key. Here the assets
come from the ``fastapi-offline`` package (Swagger UI and ReDoc builds, no network at run time),
mounted at ``/docs/assets``, and each page has a Content-Security-Policy naming exactly that:
scripts from this origin (plus Swagger UI's one inline start-up script, by its hash), requests to
this origin only, no frames, no plugins.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = files("fastapi_offline") / "static"
ASSETS_URL = "/docs/assets"

# Inline styles are allowed (Swagger UI sets style attributes, ReDoc injects its styles); inline
# script is not, except the start-up script named by its hash. ReDoc's search runs in a worker
# made from a blob: URL. Fonts and images: this origin and data: URLs (the bundled icons).
_POLICY = (
    "default-src 'none'; script-src 'self'{script}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def csp(html: bytes) -> str:
    """The page's policy: ``_POLICY`` with the hash of each of its inline scripts."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return _POLICY.format(script=hashes)


def _page(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = csp(response.body)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def install_docs(app: FastAPI) -> None:
    """Needs ``FastAPI(docs_url=None, redoc_url=None)``: these pages replace the built-in ones."""

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _page(get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API documentation",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=None,
            # No validator badge: it would send the document's URL to a public validator.
            swagger_ui_parameters={"validatorUrl": None},
        ))

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _page(get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API reference",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        ))

    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")
