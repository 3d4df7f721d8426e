"""/health, /v1/models, /v1/languages and the error shape, over real HTTP."""

import pytest


@pytest.fixture
def sqlite_server(start_server):
    return start_server()


def test_health_reports_real_device(sqlite_server):
    body = sqlite_server.client().get("/health").json()
    assert body["status"] == "ok"
    assert body["gpu_available"] is False  # no GPU on the CI machines
    assert body["gpu_name"] is None and body["device"] == "cpu"


def test_models_lists_registry_with_installed_flag(sqlite_server):
    body = sqlite_server.client().get("/v1/models").json()
    models = {m["id"]: m for m in body["models"]}
    # The same answer in OpenAI's shape: the installed models its routes can use.
    assert body["object"] == "list"
    data = {m["id"]: m for m in body["data"]}
    assert {"base", "tiny.en"} <= set(data) and "large-v3" not in data
    assert set(data["base"]) >= {"id", "object", "owned_by", "created"}
    assert data["base"]["object"] == "model"
    assert {"large-v3-turbo", "large-v3", "medium", "small", "base", "tiny.en"} <= set(models)
    assert models["base"]["installed"] and models["tiny.en"]["installed"]
    assert not models["large-v3"]["installed"]
    assert models["large-v3-turbo"]["speed"] == "fast" and models["small"]["speed"] == "very_fast"
    assert models["base"]["default"]


def test_languages(sqlite_server):
    languages = sqlite_server.client().get("/v1/languages").json()["languages"]
    assert len(languages) >= 99
    assert {"code": "en", "name": "english"} in languages


def test_unknown_path_is_json_404(sqlite_server):
    response = sqlite_server.client().get("/v1/nope")
    assert response.status_code == 404 and response.json() == {"error": "Not found."}


def test_openapi_docs_served(sqlite_server):
    client = sqlite_server.client()
    assert client.get("/docs").status_code == 200
    assert "/v1/models" in client.get("/openapi.json").json()["paths"]
