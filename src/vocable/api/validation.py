"""What every request must be before a route sees it: a 400 with a clear ``{"error"}``, never a
500 from deep inside a model or a database, and never a parameter silently ignored.

* **Query parameters** are the ones the operation documents: an unknown one (a typo such as
  ``date_from``) is refused, not ignored. Integers are bounded (``MAX_QUERY_INT``), so a
  ``?page=99999999999999999999`` never reaches SQL as an offset no database can hold.
* **Text** is valid Unicode without NUL: JSON can spell a lone surrogate (``"\\ud800"``) that no
  UTF-8 encoder (tokenizers, SQLite, PostgreSQL, the JSON response itself) accepts, and NUL is
  refused by PostgreSQL. JSON bodies are checked everywhere, with the place of the bad string;
  the path and query strings for NUL (their decoding already replaces invalid UTF-8).

The rules are read from the app's own OpenAPI document, so what is refused is exactly what is
not documented. ``check_request`` runs first on every route (an app-wide dependency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection, Request

from vocable.api.errors import ApiError

# Bound of every integer query parameter that declares no tighter one (documented as its
# ``maximum``/``minimum``): a page number times a page size stays far inside 64 bits.
MAX_QUERY_INT = 2**31 - 1


@dataclass(frozen=True)
class Operation:
    query: dict[str, dict[str, Any]]  # documented query parameters: name -> JSON schema
    json_body: bool  # takes a JSON request body


def operations(openapi: dict[str, Any]) -> dict[tuple[str, str], Operation]:
    """(path template, method) -> its documented inputs, from an OpenAPI document."""
    out = {}
    for path, item in openapi.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            query = {p["name"]: p.get("schema", {}) for p in params if p.get("in") == "query"}
            content = (op.get("requestBody") or {}).get("content", {})
            out[(path, method.upper())] = Operation(query, "application/json" in content)
    return out


def is_integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(is_integer(s) for s in schema.get("anyOf", []))


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"is not valid Unicode (lone surrogate U+{ord(value[exc.start]):04X})"
    return None


def find_bad_text(document: Any) -> tuple[str, str] | None:
    """(where, why) of the first unacceptable string (key or value) in a JSON document."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:  # iterative: a deeply nested body must not exhaust the stack here
        where, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return where or "body", problem
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key)
                if problem:
                    return where or "body", f"has a key that {problem}"
                stack.append((f"{where}.{key}" if where else key, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return None


def check_query(op: Operation, params) -> None:
    unknown = [name for name in params if name not in op.query]
    if unknown:
        takes = f"takes: {', '.join(op.query)}" if op.query else "takes no query parameters"
        raise ApiError(400, f"Unknown query parameter '{unknown[0]}' (this endpoint {takes}).")
    for name, value in params.multi_items():
        if "\x00" in value:
            raise ApiError(400, f"Query parameter '{name}' contains a NUL character.")
        if is_integer(op.query[name]):
            try:
                number = int(value)
            except ValueError:
                continue  # not a number: the route's own validation says so
            if abs(number) > MAX_QUERY_INT:
                raise ApiError(400, f"Query parameter '{name}' is out of range (at most {MAX_QUERY_INT}).")


async def check_request(connection: HTTPConnection) -> None:
    """The app-wide dependency: refuse what no route should see (see the module doc)."""
    if not isinstance(connection, Request):
        return  # WS /v1/stream reads its own query (the browser's token)
    if "\x00" in connection.url.path:
        raise ApiError(400, "The path contains a NUL character.")
    route = connection.scope.get("route")
    app = connection.app
    rules = getattr(app.state, "request_rules", None)
    if rules is None:
        rules = app.state.request_rules = operations(app.openapi())
    op = rules.get((getattr(route, "path", ""), connection.scope.get("method", "")))
    if op is None:
        return  # not an API operation (the web page, the docs)
    check_query(op, connection.query_params)
    if op.json_body:
        try:
            body = await connection.json()  # already parsed by FastAPI: this reads its cache
        except ValueError:
            return  # not JSON: the route's own validation answers 400
        bad = find_bad_text(body)
        if bad:
            where, problem = bad
            raise ApiError(400, f"Invalid text in the request body: '{where}' {problem}.")
