"""The web interface is served beside the API without changing it: the page and its assets, the
features list, and the API's own answers (docs, health, JSON 404) as before. Plain HTTP."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI

from tests.conftest import LiveServer, make_settings
from vocable.api.web import WEB_DIR, features
from vocable.services import Services


@pytest.fixture(scope="module")
def client(tmp_path_factory, registry, whisper):
    services = Services.create(
        make_settings(tmp_path_factory.mktemp("web-routes")), registry=registry, whisper=whisper
    )
    with LiveServer(services) as server, server.client() as http:
        yield http


def test_index_is_the_page_with_a_strict_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="web/js/app.js">' in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


def test_every_asset_the_page_names_is_served(client):
    page = client.get("/").text
    assets = re.findall(r'(?:src|href)="(web/[^"]+)"', page)
    assert {"web/js/app.js", "web/style.css", "web/icon.svg"} <= set(assets)
    for module in sorted(p.relative_to(WEB_DIR).as_posix() for p in WEB_DIR.rglob("*.js")):
        assets.append(f"web/{module}")
    for asset in assets:
        response = client.get(f"/{asset}")
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == "no-cache"
        if asset.endswith(".js"):  # modules must be served as JavaScript or browsers refuse them
            assert "javascript" in response.headers["content-type"], asset


def test_features_reflect_the_routes_of_this_server(client):
    body = client.get("/web/features.json").json()
    assert set(body) == {"stream", "summarize", "chat", "analyze", "generate", "translate"}
    assert body["stream"] is True  # WS /v1/stream is part of this app
    paths = client.get("/openapi.json").json()["paths"]
    assert body["summarize"] == ("/v1/summarize" in paths)
    assert body["chat"] == ("/api/v1/transcripts/{transcript_id}/chat/" in paths)
    assert body["analyze"] == ("/api/v1/transcripts/{transcript_id}/analyze/" in paths)
    assert body["generate"] == ("/api/v1/transcripts/{transcript_id}/generate/" in paths)
    assert body["translate"] == ("/v1/translate" in paths)


def test_features_see_routes_inside_included_routers():
    router = APIRouter(prefix="/api/v1/transcripts")
    router.add_api_route("/{transcript_id}/chat/", lambda transcript_id: {}, methods=["POST"])
    app = FastAPI()
    none = {"stream": False, "summarize": False, "chat": False, "analyze": False,
            "generate": False, "translate": False}
    assert features(app.router.routes) == none
    app.include_router(router)
    assert features(app.router.routes) == none | {"chat": True}


@pytest.mark.parametrize("path", ["/v1/nope", "/api/v1/nope/", "/web/nope.js", "/nope", "/web/"])
def test_unknown_paths_keep_the_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


def test_api_is_untouched(client):
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    assert any(m["installed"] for m in client.get("/v1/models").json()["models"])
    assert client.get("/api/v1/account/").json() == {
        "error": "An API key is required: send 'Authorization: Bearer <API key>'."
    }
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/web") for p in paths)
