"""unwrap/verify accept exactly the webhooks Telnyx signed, and name every other cause."""

from __future__ import annotations

import base64
import json
import sys

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms import webhooks
from telnyx_group_mms.webhooks import WebhookVerificationError, _signing, unwrap, verify

from .webhook_support import NOW, Signer, body_of, envelope


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def body() -> bytes:
    return body_of(envelope())


def test_a_signed_webhook_is_accepted_from_bytes(signer: Signer, body: bytes) -> None:
    event = unwrap(body, signer.headers(body), public_key=signer.public_key, now=NOW)
    assert event.event_type == "message.sent"
    assert isinstance(event.payload, tgm.Message)


def test_a_str_body_is_verified_as_its_utf8_bytes(signer: Signer) -> None:
    document = envelope()
    document["data"]["payload"]["text"] = "Héllo ✓ 👋"
    text = json.dumps(document, ensure_ascii=False)
    headers = signer.headers(text.encode("utf-8"))
    event = unwrap(text, headers, public_key=signer.public_key, now=NOW)
    assert isinstance(event.payload, tgm.Message)
    assert event.payload.text == "Héllo ✓ 👋"


def test_bytearray_and_memoryview_bodies_are_accepted(signer: Signer, body: bytes) -> None:
    headers = signer.headers(body)
    for raw in (bytearray(body), memoryview(body)):
        assert unwrap(raw, headers, public_key=signer.public_key, now=NOW).id  # type: ignore[arg-type]


def test_the_exact_bytes_are_verified_not_a_reserialisation(signer: Signer) -> None:
    # Whitespace and key order a JSON round trip would change are part of what was signed.
    body = b'{ "meta": null,\n  "data": ' + json.dumps(envelope()["data"]).encode() + b"}"
    event = unwrap(body, signer.headers(body), public_key=signer.public_key, now=NOW)
    assert event.meta is None
    reserialised = json.dumps(json.loads(body)).encode()
    with pytest.raises(WebhookVerificationError, match="does not match"):
        unwrap(reserialised, signer.headers(body), public_key=signer.public_key, now=NOW)


@pytest.mark.parametrize(
    "case", [str.lower, str.title, str.upper], ids=["lowercase", "Title-Case", "UPPER"]
)
def test_header_names_match_in_any_case(signer: Signer, body: bytes, case: object) -> None:
    headers = {case(k): v for k, v in signer.headers(body).items()}  # type: ignore[operator]
    assert unwrap(body, headers, public_key=signer.public_key, now=NOW).id


def test_multidict_headers_work(signer: Signer, body: bytes) -> None:
    from multidict import CIMultiDict

    headers = CIMultiDict({"Telnyx-Signature-Ed25519": "x", "Content-Type": "application/json"})
    headers.update({k.title(): v for k, v in signer.headers(body).items()})
    assert unwrap(body, headers, public_key=signer.public_key, now=NOW).id


def test_the_public_key_defaults_to_the_environment(
    signer: Signer, body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", signer.public_key)
    assert unwrap(body, signer.headers(body), now=NOW).id


def test_no_public_key_at_all_is_refused(signer: Signer, body: bytes) -> None:
    with pytest.raises(WebhookVerificationError, match=r"no public key.*TELNYX_PUBLIC_KEY"):
        unwrap(body, signer.headers(body), now=NOW)


def test_a_signature_by_a_different_key_is_rejected(signer: Signer, body: bytes) -> None:
    impostor = Signer()
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        unwrap(body, impostor.headers(body), public_key=signer.public_key, now=NOW)


def test_an_altered_body_is_rejected(signer: Signer, body: bytes) -> None:
    headers = signer.headers(body)
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        unwrap(body.replace(b"Hello", b"Hallo"), headers, public_key=signer.public_key, now=NOW)


def test_an_altered_timestamp_is_rejected(signer: Signer, body: bytes) -> None:
    headers = signer.headers(body) | {"telnyx-timestamp": str(NOW + 1)}
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        unwrap(body, headers, public_key=signer.public_key, now=NOW)


@pytest.mark.parametrize("missing", ["telnyx-signature-ed25519", "telnyx-timestamp"])
def test_a_missing_header_is_named(signer: Signer, body: bytes, missing: str) -> None:
    headers = signer.headers(body)
    del headers[missing]
    with pytest.raises(WebhookVerificationError, match=f"missing header {missing}"):
        unwrap(body, headers, public_key=signer.public_key, now=NOW)


def test_an_empty_header_counts_as_missing(signer: Signer, body: bytes) -> None:
    headers = signer.headers(body) | {"telnyx-signature-ed25519": "  "}
    with pytest.raises(WebhookVerificationError, match="missing header telnyx-signature"):
        unwrap(body, headers, public_key=signer.public_key, now=NOW)


def test_a_header_given_twice_with_different_values_is_rejected(
    signer: Signer, body: bytes
) -> None:
    headers = signer.headers(body) | {"Telnyx-Timestamp": str(NOW - 1)}
    with pytest.raises(WebhookVerificationError, match="telnyx-timestamp header appears twice"):
        unwrap(body, headers, public_key=signer.public_key, now=NOW)


@pytest.mark.parametrize(
    ("signature", "cause"),
    [
        ("not base64!", "not valid base64"),
        ("é", "not valid base64"),
        (base64.b64encode(b"x" * 63).decode(), "63 bytes, not a 64-byte"),
    ],
)
def test_a_malformed_signature_is_named(
    signer: Signer, body: bytes, signature: str, cause: str
) -> None:
    headers = signer.headers(body) | {"telnyx-signature-ed25519": signature}
    with pytest.raises(WebhookVerificationError, match=cause):
        unwrap(body, headers, public_key=signer.public_key, now=NOW)


@pytest.mark.parametrize(
    ("key", "cause"),
    [
        ("%%%", "public key is not valid base64"),
        (base64.b64encode(b"k" * 31).decode(), "31 bytes, not a 32-byte"),
    ],
)
def test_a_malformed_public_key_is_named(signer: Signer, body: bytes, key: str, cause: str) -> None:
    with pytest.raises(WebhookVerificationError, match=cause):
        unwrap(body, signer.headers(body), public_key=key, now=NOW)


@pytest.mark.parametrize("stamp", ["soon", "1.5", "-5", "+5", "1_000", "١٢٣", "9" * 13])
def test_a_timestamp_that_is_not_whole_seconds_is_named(
    signer: Signer, body: bytes, stamp: str
) -> None:
    headers = signer.headers(body) | {"telnyx-timestamp": stamp}
    with pytest.raises(WebhookVerificationError, match="not a whole number of Unix seconds"):
        unwrap(body, headers, public_key=signer.public_key, now=NOW)


def test_a_stale_webhook_is_rejected_even_when_signed(signer: Signer, body: bytes) -> None:
    headers = signer.headers(body, timestamp=NOW - 301)
    with pytest.raises(WebhookVerificationError, match="301 s old, beyond the tolerance of 300 s"):
        unwrap(body, headers, public_key=signer.public_key, now=NOW)


def test_a_webhook_from_the_future_is_rejected(signer: Signer, body: bytes) -> None:
    headers = signer.headers(body, timestamp=NOW + 301)
    with pytest.raises(WebhookVerificationError, match="301 s in the future"):
        unwrap(body, headers, public_key=signer.public_key, now=NOW)


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_the_tolerance_edge_is_inclusive(signer: Signer, body: bytes, offset: int) -> None:
    headers = signer.headers(body, timestamp=NOW + offset)
    assert unwrap(body, headers, public_key=signer.public_key, now=NOW).id


@pytest.mark.parametrize("offset", [-30, 30])
def test_the_tolerance_is_configurable_both_ways(signer: Signer, body: bytes, offset: int) -> None:
    headers = signer.headers(body, timestamp=NOW + offset)
    assert unwrap(body, headers, public_key=signer.public_key, tolerance=30, now=NOW).id
    with pytest.raises(WebhookVerificationError, match="beyond the tolerance of 29 s"):
        unwrap(body, headers, public_key=signer.public_key, tolerance=29, now=NOW)


def test_the_default_clock_is_the_real_one(signer: Signer, body: bytes) -> None:
    headers = signer.headers(body, timestamp=NOW)
    with pytest.raises(WebhookVerificationError, match=r"s old|in the future"):
        unwrap(body, headers, public_key=signer.public_key, tolerance=0)


def test_a_negative_tolerance_is_a_programming_error(signer: Signer, body: bytes) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        unwrap(body, signer.headers(body), public_key=signer.public_key, tolerance=-1)


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        (b"not json", "body is not JSON"),
        (b"\xff\xfe\x00garbage", "body is not JSON"),
        (b"[1, 2]", "not a Telnyx event: the body is not a JSON object"),
        (b'{"data": 1}', "no 'data' object"),
        (b'{"data": {"event_type": "message.sent", "payload": {}}}', "data.id"),
        (b'{"data": {"id": "e1", "payload": {}}}', "data.event_type"),
        (b'{"data": {"id": "e1", "event_type": "message.sent"}}', "data.payload"),
        (b"[" * 100_000 + b"]" * 100_000, "body is not JSON"),
    ],
    ids=["text", "binary", "array", "no-data", "no-id", "no-type", "no-payload", "deep"],
)
def test_a_signed_body_that_is_not_a_telnyx_event_is_named(
    signer: Signer, raw: bytes, cause: str
) -> None:
    with pytest.raises(WebhookVerificationError, match=cause):
        unwrap(raw, signer.headers(raw), public_key=signer.public_key, now=NOW)


def test_verify_returns_the_verified_bytes_without_parsing(signer: Signer) -> None:
    raw = b"anything at all"
    assert verify(raw, signer.headers(raw), public_key=signer.public_key, now=NOW) == raw


def test_the_error_is_a_telnyx_error_exported_everywhere() -> None:
    assert WebhookVerificationError is tgm.WebhookVerificationError
    assert issubclass(WebhookVerificationError, tgm.TelnyxError)


def test_without_cryptography_every_webhook_is_refused_with_the_install_hint(
    signer: Signer, body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    _signing._load_public_key.cache_clear()
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.ed25519", None)
    try:
        with pytest.raises(
            WebhookVerificationError, match=r"pip install 'telnyx-group-mms\[webhooks\]'"
        ):
            unwrap(body, signer.headers(body), public_key=signer.public_key, now=NOW)
    finally:
        _signing._load_public_key.cache_clear()


def test_importing_the_package_does_not_import_cryptography() -> None:
    import subprocess

    code = "import sys, telnyx_group_mms.webhooks; print('cryptography' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_package_signer_produces_what_telnyx_would(signer: Signer, body: bytes) -> None:
    headers = webhooks.sign(body, private_key=signer.private_key, timestamp=NOW)
    assert headers == signer.headers(body)  # ed25519 signatures are deterministic


def test_a_generated_key_pair_signs_and_verifies(body: bytes) -> None:
    private, public = webhooks.generate_key_pair()
    headers = webhooks.sign(body, private_key=private)
    assert unwrap(body, headers, public_key=public).id
