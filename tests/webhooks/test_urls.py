"""Which webhook URLs are accepted (SSRF), and the signature a receiver checks."""

from __future__ import annotations

import time

import pytest

from vocable.webhooks import WebhookUrlRejected, resolve, sign, verify


@pytest.mark.parametrize("url", [
    "ftp://example.com/hook", "file:///etc/passwd", "gopher://x", "javascript:alert(1)", "",
    "http://", "http://user:pw@93.184.216.34/", "http://[::1]:80/x", "http://localhost:8000/",
    "http://127.0.0.1/", "http://127.1/", "http://0.0.0.0/", "http://10.1.2.3/", "http://192.168.0.1/",
    "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
    "http://[::ffff:127.0.0.1]/", "http://[fd00::1]/", "http://[fe80::1]/", "http://224.0.0.1/",
    "http://2130706433/", "http://0x7f000001/", "http://no-such-host.invalid/",
])
def test_refused(url):
    with pytest.raises(WebhookUrlRejected):
        resolve(url, allow_private=False)


def test_public_literal_accepted_and_private_only_when_allowed():
    assert resolve("https://93.184.216.34/hook", allow_private=False).addresses == ("93.184.216.34",)
    target = resolve("http://127.0.0.1:9/hook", allow_private=True)
    assert target.addresses == ("127.0.0.1",) and target.port == 9
    with pytest.raises(WebhookUrlRejected):  # the scheme is checked whatever the operator allows
        resolve("ftp://127.0.0.1/", allow_private=True)


def test_signature_round_trip_and_replay():
    body, now = b'{"event":"transcript.completed"}', int(time.time())
    signature = sign("whsec_x", now, body)
    assert signature.startswith("v1=")
    assert verify("whsec_x", body, str(now), signature)
    assert not verify("whsec_y", body, str(now), signature)  # another secret
    assert not verify("whsec_x", body + b" ", str(now), signature)  # another body
    assert not verify("whsec_x", body, str(now + 1), signature)  # another timestamp
    old = now - 3600
    assert not verify("whsec_x", body, str(old), sign("whsec_x", old, body))  # a replay
    assert not verify("whsec_x", body, None, signature)
