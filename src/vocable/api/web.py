"""The web interface: static HTML, CSS and JS modules (no build step) from ``vocable/web/``.

``GET /`` answers the page; its assets are a StaticFiles mount at ``/web/``. Nothing is mounted at
``/`` itself: a catch-all mount would shadow every route included after it (a WebSocket route
would reach StaticFiles and fail), so unknown paths keep the API's JSON 404 and the page routes
on the URL fragment (``/#/transcripts``) instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

# The API key lives in localStorage, so the page allows scripts from itself only: no inline
# script, no third-party origin, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# Optional endpoints the page offers only when this server has them (route path patterns).
FEATURES = {
    "stream": re.compile(r"^/v1/stream$"),
    "summarize": re.compile(r"^/v1/summarize$"),
    "chat": re.compile(r"^/api/v1/transcripts/\{[^}/]+\}/chat/$"),
}


class _WebFiles(StaticFiles):
    """StaticFiles whose answers are revalidated each time, so an upgrade is seen at once."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def features(routes: list[BaseRoute]) -> dict[str, bool]:
    paths = [getattr(route, "path", "") for route in routes]
    return {name: any(pattern.match(p) for p in paths) for name, pattern in FEATURES.items()}


def install_web(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(
            WEB_DIR / "index.html", media_type="text/html",
            headers={**PAGE_HEADERS, "Cache-Control": "no-cache"},
        )

    # Declared before the mount, so it wins over a (missing) file of the same name.
    @app.get("/web/features.json", include_in_schema=False)
    def web_features(request: Request) -> dict[str, bool]:
        return features(request.app.router.routes)

    app.mount("/web", _WebFiles(directory=WEB_DIR), name="web")
