"""The web interface: static HTML, CSS and JS modules (no build step) from ``vocable/web/``.

``GET /`` answers the page; its assets are a StaticFiles mount at ``/web/``. Nothing is mounted at
``/`` itself: a catch-all mount would shadow every route included after it (a WebSocket route
would reach StaticFiles and fail), so unknown paths keep the API's JSON 404 and the page routes
on the URL fragment (``/#/transcripts``) instead.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute, Match

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

# Optional endpoints the page offers only when this server has them: a request each would make.
FEATURES = {
    "stream": ("websocket", "GET", "/v1/stream"),
    "summarize": ("http", "POST", "/v1/summarize"),
    "chat": ("http", "POST", "/api/v1/transcripts/any-id/chat/"),
    "analyze": ("http", "POST", "/api/v1/transcripts/any-id/analyze/"),
    "generate": ("http", "POST", "/api/v1/transcripts/any-id/generate/"),
    "translate": ("http", "POST", "/v1/translate"),
}


class _WebFiles(StaticFiles):
    """StaticFiles whose answers are revalidated each time, so an upgrade is seen at once."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _answers(routes: list[BaseRoute], kind: str, method: str, path: str) -> bool:
    # Asked of the routes themselves (Starlette's own matching), so included routers count too.
    scope = {"type": kind, "method": method, "path": path, "root_path": "", "headers": [],
             "query_string": b""}
    return any(route.matches(scope)[0] == Match.FULL for route in routes)


def features(routes: list[BaseRoute]) -> dict[str, bool]:
    return {name: _answers(routes, *probe) for name, probe in FEATURES.items()}


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
