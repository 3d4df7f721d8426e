"""Hostile input over real HTTP (issue 12, items 5 and 8): text that is not valid Unicode, NUL,
integers no database holds, unknown or invalid filters; and what the server says of itself: the
OpenAPI document's statuses and error body, datetimes with their zone, the docs pages' CSP.

Every refusal is a 400 with ``{"error": "..."}`` naming the problem, and the server stays up.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.conftest import MODEL_DIR, LiveServer, make_settings
from vocable.accounts.keys import create_account, create_key
from vocable.services import Services
from vocable.storage.models import Transcript

SURROGATE = rb'"\ud800"'  # JSON's escape for a lone surrogate: valid JSON, not valid Unicode
NUL = rb'"a\u0000b"'
HUGE = "99999999999999999999"

# Every JSON endpoint, with a body whose one text field is replaced by the hostile string.
JSON_ENDPOINTS = [
    ("POST", "/v1/embed", b'{"texts": ["ok", %s]}', "texts[1]"),
    ("POST", "/v1/analyze", b'{"text": %s, "type": "sentiment"}', "text"),
    ("POST", "/v1/translate", b'{"text": %s, "target": "es"}', "text"),
    ("POST", "/v1/translate", b'{"texts": ["ok", %s], "target": "es"}', "texts[1]"),
    ("POST", "/v1/summarize", b'{"text": %s}', "text"),
    ("POST", "/v1/generate", b'{"text": %s, "type": "blog_post"}', "text"),
    ("POST", "/api/v1/transcripts/{id}/chat/", b'{"question": %s}', "question"),
    ("POST", "/api/v1/transcripts/{id}/analyze/", b'{"type": %s}', "type"),
    ("POST", "/api/v1/transcripts/{id}/generate/", b'{"type": %s}', "type"),
    ("PUT", "/api/v1/account/", b'{"name": %s}', "name"),
    ("PUT", "/api/v1/account/", b'{"email_preferences": {"newsletter": true, "x": [%s]}}',
     "email_preferences.x[0]"),
    ("POST", "/api/v1/keys/", b'{"name": %s}', "name"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, registry, pool, whisper, llm, embedder, analyzer, diarization):
    """One live server on SQLite for the module, a key and one completed transcript."""
    services = Services.create(
        make_settings(tmp_path_factory.mktemp("hostile")), registry=registry, pool=pool,
        whisper=whisper, llm=llm, embedder=embedder, analysis=analyzer, diarization=diarization,
    )
    with LiveServer(services) as server:
        account = create_account(services.db, "hostile@example.com", plan="paid", credits=5)
        key = create_key(services.db, account.id, name="k")[1]
        with services.db.session() as s:
            row = Transcript(account_id=account.id, status="completed", text="Hello there.",
                             segments=[{"start": 0.0, "end": 1.0, "text": "Hello there."}],
                             completed_at=datetime.now(UTC))
            s.add(row)
            s.flush()
            transcript_id = row.id
        yield server, key, transcript_id


def _send(server, key, method, path, body: bytes):
    with server.client(key) as client:
        return client.request(method, path, content=body, headers={"Content-Type": "application/json"})


def _assert_error(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str)
    for word in words:
        assert word in body["error"], body["error"]
    return body["error"]


@pytest.mark.parametrize(("method", "path", "template", "where"), JSON_ENDPOINTS)
def test_lone_surrogate_in_json_is_a_400_naming_the_field(stack, method, path, template, where):
    server, key, tid = stack
    response = _send(server, key, method, path.format(id=tid), template % SURROGATE)
    _assert_error(response, 400, f"'{where}'", "not valid Unicode")


@pytest.mark.parametrize(("method", "path", "template", "where"), JSON_ENDPOINTS[:2] + JSON_ENDPOINTS[9:10])
def test_nul_in_json_text_is_a_400(stack, method, path, template, where):
    server, key, tid = stack
    _assert_error(_send(server, key, method, path.format(id=tid), template % NUL), 400, "NUL")


def test_surrogate_in_a_key_and_anonymous_callers_too(stack):
    server, key, _ = stack
    body = b'{"email_preferences": {"\\udfff": true}}'
    _assert_error(_send(server, key, "PUT", "/api/v1/account/", body), 400, "key", "not valid Unicode")
    anonymous = _send(server, None, "POST", "/v1/embed", b'{"texts": [%s]}' % SURROGATE)
    _assert_error(anonymous, 400, "texts[0]")


def test_deeply_nested_json_is_a_400_not_a_crash(stack):
    server, key, _ = stack
    body = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = _send(server, key, "PUT", "/api/v1/account/", body)
    _assert_error(response, 400)
    assert server.client().get("/health").status_code == 200


def test_malformed_json_says_so(stack):
    server, key, _ = stack
    response = _send(server, key, "POST", "/v1/embed", b'{"texts": ["a",]}')
    _assert_error(response, 400, "not valid JSON", "at character 15")


def test_valid_text_still_works_after_hostile_requests(stack):
    server, key, _ = stack
    for _ in range(3):
        _send(server, key, "POST", "/v1/embed", b'{"texts": [%s]}' % SURROGATE)
    response = _send(server, key, "POST", "/v1/embed", b'{"texts": ["caf\\u00e9 \\ud83d\\ude00"]}')
    assert response.status_code == 200, response.text  # a surrogate *pair* is one valid emoji
    assert response.json()["dimensions"] == 384


@pytest.mark.parametrize("query", [
    f"page={HUGE}", f"page_size={HUGE}", f"page=-{HUGE}", "page=2147483648",
])
def test_integers_no_database_holds_are_a_400(stack, query):
    server, key, _ = stack
    response = server.client(key).get(f"/api/v1/transcripts/?{query}")
    _assert_error(response, 400)


def test_huge_days_on_usage_is_a_400(stack):
    server, key, _ = stack
    _assert_error(server.client(key).get(f"/api/v1/usage/?days={HUGE}"), 400, "days")


@pytest.mark.parametrize(("query", "words"), [
    ("date_from=2026-13-45", ("Unknown query parameter 'date_from'", "created_after")),
    ("created_after=2026-13-45", ("created_after", "2026-13-45")),
    ("created_before=yesterday", ("created_before",)),
    ("date=2026-02-30", ("date",)),
    ("status=archived", ("status", "archived")),
    ("status=completed,bogus", ("bogus",)),
    ("language=klingon", ("language",)),
    ("page=1&sort=asc", ("Unknown query parameter 'sort'",)),
    ("page=two", ("page",)),
])
def test_unknown_or_invalid_filters_are_a_400(stack, query, words):
    server, key, _ = stack
    _assert_error(server.client(key).get(f"/api/v1/transcripts/?{query}"), 400, *words)


def test_unknown_query_parameters_everywhere(stack):
    server, key, tid = stack
    client = server.client(key)
    for path in ("/health", "/v1/models", f"/api/v1/transcripts/{tid}/", "/api/v1/account/"):
        _assert_error(client.get(f"{path}?verbose=1"), 400, "'verbose'")


def test_nul_in_path_and_query_is_a_400(stack):
    server, key, _ = stack
    client = server.client(key)
    _assert_error(client.get("/api/v1/transcripts/%00/"), 400, "NUL")
    _assert_error(client.get("/api/v1/transcripts/?language=e%00n"), 400, "NUL")


def test_documented_filters_still_work(stack):
    server, key, _ = stack
    client = server.client(key)
    response = client.get("/api/v1/transcripts/?page=1&page_size=1&status=completed&language=en"
                          "&created_after=2020-01-01&created_before=2100-01-01T00:00:00Z")
    assert response.status_code == 200, response.text
    assert client.get("/api/v1/transcripts/?page=2147483647").json()["results"] == []
    assert client.get("/api/v1/usage/?days=7").status_code == 200


@pytest.mark.parametrize("model", ["x" * 5000, f"../{MODEL_DIR.name}/base", "base/../base", "/etc"])
def test_model_ids_are_names_not_paths(stack, data_dir, model):
    """A model id longer than a file name was a 500; one with a path walked the file system."""
    server, key, _ = stack
    with server.client(key) as client:
        response = client.post(
            "/v1/transcribe", data={"model": model},
            files={"file": ("jfk.wav", (data_dir / "jfk.wav").read_bytes(), "audio/wav")},
        )
    _assert_error(response, 400, "Unknown model", "Installed models: base")


# -- item 8: what the server says of itself ------------------------------------------------------
@pytest.fixture(scope="module")
def document(stack) -> dict:
    return stack[0].client().get("/openapi.json").json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            yield method.upper(), path, op


def test_openapi_has_no_422_and_one_error_body(document):
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorBody"]["required"] == ["error"]
    assert schemas["ErrorBody"]["properties"]["error"]["type"] == "string"
    for method, path, op in _operations(document):
        statuses = set(op["responses"])
        assert "422" not in statuses, (method, path)
        assert "400" in statuses, (method, path)  # every operation refuses unknown parameters
        for status in (s for s in statuses if not s.startswith("2")):  # errors only (206 is audio)
            ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            # the OpenAI-compatible routes answer errors in OpenAI's shape
            body = "OpenAIErrorBody" if op.get("tags") == ["openai"] or path.startswith(
                ("/v1/audio/", "/v1/chat/", "/v1/embeddings", "/v1/models/")) else "ErrorBody"
            assert ref == f"#/components/schemas/{body}", (method, path, status)


def test_openapi_lists_the_real_statuses_per_route(document):
    def statuses(method, path):
        return set(document["paths"][path][method.lower()]["responses"])

    assert {"400", "401", "402", "413", "429", "503"} <= statuses("POST", "/v1/transcribe")
    assert {"200", "202"} <= statuses("POST", "/v1/transcribe")
    assert {"401", "404", "429"} <= statuses("GET", "/api/v1/transcripts/{transcript_id}/")
    assert {"409"} <= statuses("DELETE", "/api/v1/transcripts/{transcript_id}/")
    assert {"401", "429", "503"} <= statuses("POST", "/v1/summarize")
    assert statuses("GET", "/health") == {"200", "400"}  # no key, no limit
    assert "Retry-After" in document["paths"]["/v1/embed"]["post"]["responses"]["429"]["headers"]
    exports = document["paths"]["/api/v1/transcripts/{transcript_id}/export/{fmt}/"]["get"]
    assert {"text/vtt", "application/pdf", "text/csv"} <= set(exports["responses"]["200"]["content"])
    form = document["paths"]["/v1/transcribe"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]["required"] == ["file"]


def test_integer_query_parameters_carry_their_bound(document):
    page = next(p for p in document["paths"]["/api/v1/transcripts/"]["get"]["parameters"]
                if p["name"] == "page")
    assert page["schema"]["maximum"] == 2**31 - 1


ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _datetimes(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _datetimes(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _datetimes(v, key)
    elif key.endswith("_at") and value is not None:
        yield key, value


def test_every_datetime_has_its_zone(server):
    """On SQLite (naive datetimes) and PostgreSQL alike: ISO 8601, UTC, with the zone."""
    db = server.services.db
    account = create_account(db, "zones@example.com")
    key = create_key(db, account.id, name="zones")[1]
    with db.session() as s:
        row = Transcript(account_id=account.id, status="completed", text="hi",
                         completed_at=datetime.now(UTC))
        s.add(row)
        s.flush()
        tid = row.id
    client = server.client(key)
    seen = []
    for path in ("/api/v1/account/", "/api/v1/keys/", "/api/v1/transcripts/", f"/api/v1/transcripts/{tid}/"):
        response = client.get(path)
        assert response.status_code == 200, response.text
        seen += list(_datetimes(response.json()))
    created = client.post("/api/v1/keys/", json={"name": "second"})
    seen += list(_datetimes(created.json()))
    names = {name for name, _ in seen}
    assert {"created_at", "completed_at", "last_used_at"} <= names
    for name, value in seen:
        assert ISO_WITH_ZONE.match(value), (name, value)
        moment = datetime.fromisoformat(value)
        assert moment.utcoffset().total_seconds() == 0, (name, value)
        assert abs((datetime.now(UTC) - moment).total_seconds()) < 600, (name, value)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_have_a_csp_and_load_nothing_from_elsewhere(stack, page):
    server = stack[0]
    client = server.client()
    response = client.get(page)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-eval'" not in policy and "script-src 'self'" in policy
    assert "script-src 'self' 'unsafe-inline'" not in policy
    html = response.text
    assert "cdn" not in html.lower() and "googleapis" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 1000, asset
