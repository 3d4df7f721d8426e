"""Nothing in analysis or translation reaches the network: every connection to a non-loopback
address (and every DNS lookup of a non-local name) is recorded while fresh tools are built and
every analysis type and a translation run."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from vocable.analysis import ANALYSIS_TYPES, Analyzer
from vocable.analysis.document import Document
from vocable.translation.translator import Translator

TEXT = """Alice: Hi, I'm Alice Morgan from Acme Corp in Boston. Can you send the contract to alice@acme.com by Friday?
Bob: Sure, I will send it tonight. My number is (617) 555-0123 and the site is https://acme.example.com.
Alice: Great, thanks! The card is 4111 1111 1111 1111."""


def _is_local(host) -> bool:
    if isinstance(host, (bytes, bytearray)):
        host = host.decode()
    if host in (None, "", "localhost") or str(host).endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a name that would need DNS
    return ip.is_loopback or ip.is_unspecified


@pytest.fixture
def network_attempts(monkeypatch):
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def guard(address):
        if isinstance(address, tuple) and not _is_local(address[0]):
            attempts.append(f"connect {address}")
            raise OSError("network access blocked by test")

    def connect(self, address):
        guard(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        guard(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            attempts.append(f"getaddrinfo {host}")
            raise socket.gaierror("name resolution blocked by test")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def test_the_guard_sees_network_access(network_attempts):
    with pytest.raises(OSError):
        socket.create_connection(("203.0.113.7", 80), timeout=1)
    with pytest.raises(OSError):
        socket.getaddrinfo("example.com", 443)
    assert len(network_attempts) == 2


def test_every_analysis_type_and_translation_stay_offline(network_attempts, embedder, llm, tmp_path):
    # Fresh tools, built under the guard (spaCy, Presidio with tldextract, py3langid); the
    # embedder and the LLM load from local files (the LLM serves on a loopback port).
    analyzer = Analyzer(embedder, llm)
    doc = Document.from_text(TEXT)
    results = {kind: analyzer.analyze(kind, doc) for kind in ANALYSIS_TYPES}
    assert "[EMAIL]" in results["pii_redact"].redacted_text
    assert results["action_items"].action_items  # the LLM did run
    translator = Translator(llm, tmp_path / "models")
    translated = translator.translate(["The meeting is at 10:30 on Friday."], "en", "es")
    assert "10:30" in translated.texts[0]
    assert network_attempts == []
