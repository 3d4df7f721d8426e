"""How the app is served: the uvicorn options of ``vocable serve`` (and of the tests' live server),
and the log filter that keeps credentials out of every log line.

* No forwarded headers at the transport: uvicorn would otherwise believe ``X-Forwarded-For`` from
  loopback by default and rewrite the peer before the app sees it, so any local client could pick
  its own IP. ``vocable.api.deps.client_ip`` alone decides, from ``VOCABLE_TRUSTED_PROXIES``.
* WebSocket messages up to ``ws_max_size`` reach the app, which refuses those over
  ``stream_max_frame_bytes`` with an ``{"error"}`` and 4413; bigger ones are cut by the transport
  (close 1009) before they are buffered whole.
* Log lines pass through ``RedactSecrets``: a browser stream's ``?token=<API key>`` (or
  ``?ticket=``) in the access log, or a raw key anywhere in a message, is masked.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from uvicorn.config import LOGGING_CONFIG

from vocable.accounts.keys import KEY_PREFIX
from vocable.accounts.media_tokens import TOKEN_PREFIX as MEDIA_TOKEN_PREFIX
from vocable.accounts.tickets import TICKET_PREFIX
from vocable.config import Settings

# The transport's own ceiling on a WebSocket message; at least this much reaches the app so it
# can refuse with a JSON error rather than a bare close.
WS_TRANSPORT_MAX_SIZE = 16 * 1024 * 1024

REDACTED = "[redacted]"
# Query parameters that carry a credential (``token`` and ``ticket`` are the ones the server reads).
SECRET_PARAMS = frozenset({"token", "ticket", "api_key", "key"})
_QUERY = re.compile(r"\?([^\s\"'#]*)")
_SECRET_PARAM = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_PARAMS)) + r")=[^&\s\"']*")
# A raw API key or ticket wherever it appears (pasted into a path, an error message...).
_RAW_SECRET = re.compile(
    f"({re.escape(KEY_PREFIX)}|{re.escape(TICKET_PREFIX)}|{re.escape(MEDIA_TOKEN_PREFIX)})"
    + r"[A-Za-z0-9_\-]{16,}"
)


def _redact_query(match: re.Match) -> str:
    """Each secret parameter of a query string, its name decoded as the server decodes it (so
    ``?tok%65n=`` is masked too)."""
    parts = []
    for part in match.group(1).split("&"):
        name, sep, _ = part.partition("=")
        if sep and unquote_plus(name).strip().lower() in SECRET_PARAMS:
            part = f"{name}={REDACTED}"
        parts.append(part)
    return "?" + "&".join(parts)


def redact(text: str) -> str:
    if "=" not in text and not any(p in text for p in (KEY_PREFIX, TICKET_PREFIX, MEDIA_TOKEN_PREFIX)):
        return text
    text = _QUERY.sub(_redact_query, text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _RAW_SECRET.sub(lambda m: m.group(1) + REDACTED, text)


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """Masks credentials in a record's message and arguments (keeping the arguments' shape:
    uvicorn's access formatter unpacks them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_value(v) for k, v in record.args.items()}
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup with ``RedactSecrets`` on every handler, and Vocable's own loggers
    on the same stderr handler (they still propagate, to whatever else the host set up)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_secrets": {"()": RedactSecrets}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_secrets"]
    config["loggers"]["vocable"] = {"handlers": ["default"], "level": "INFO"}
    return config


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` (besides the app)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "proxy_headers": False,  # see the module docstring: the app decides, from named proxies
        "ws": "websockets-sansio",
        "ws_max_size": max(WS_TRANSPORT_MAX_SIZE, 2 * settings.stream_max_frame_bytes),
        "log_config": log_config(),
        "log_level": "info",
    }
