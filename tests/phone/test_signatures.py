"""Webhook signatures against the providers' published vectors (twilio-python's
``test_request_validator.py``) and vectors computed with plivo-python's own
``validate_v3_signature`` (4.x), then forged, missing, re-ordered and replayed cases."""

from __future__ import annotations

import pytest

from agentid.providers.phone.signatures import plivo_v3_signature
from agentid.providers.phone.signatures import plivo_v3_valid
from agentid.providers.phone.signatures import twilio_signature
from agentid.providers.phone.signatures import twilio_valid

# twilio-python tests/unit/test_request_validator.py
TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
]


def test_twilio_published_vectors() -> None:
    assert twilio_signature(TOKEN, URI, PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_valid(TOKEN, URI, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert twilio_signature(TOKEN, URI, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


@pytest.mark.parametrize(
    ("uri", "signature"),
    [
        (URI.replace(".com", ".com:1234"), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),  # port removed
        (URI, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # :443 added
        (URI.replace("https", "http"), "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # :80 added
        (URI.replace(".com", ".com:1234").replace("https", "http"), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ],
)
def test_twilio_port_variants(uri: str, signature: str) -> None:
    assert twilio_valid(TOKEN, uri, PARAMS, signature)


def test_twilio_refusals() -> None:
    good = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_valid(TOKEN, URI, list(reversed(PARAMS)), good)  # order does not matter
    assert not twilio_valid(TOKEN, URI, [*PARAMS[:-1], ("Caller", "+1999")], good)  # changed
    assert not twilio_valid(TOKEN, URI, [*PARAMS, ("Body", "x")], good)  # added
    assert not twilio_valid(TOKEN, URI, PARAMS[:-1], good)  # removed
    assert not twilio_valid(TOKEN, URI.replace("myapp", "other"), PARAMS, good)  # other URL
    assert not twilio_valid("54321", URI, PARAMS, good)  # other token
    for missing in (None, "", " "):
        assert not twilio_valid(TOKEN, URI, PARAMS, missing)
    assert not twilio_valid("", URI, PARAMS, good)
    assert not twilio_valid(TOKEN, "http://[::1", PARAMS, good)  # a URL that does not parse
    assert not twilio_valid(TOKEN, URI, PARAMS, "\x00" * 5000)


# computed with plivo-python 4.x: get_signature_v3(token, construct_post_url(url, params), nonce)
PLIVO_TOKEN = "my_auth_token"
PLIVO_URL = "https://example.com/webhooks/plivo/sms"
PLIVO_PARAMS = [
    ("From", "14155550100"),
    ("To", "14155550199"),
    ("Text", "Your code is 123456"),
    ("MessageUUID", "abc-1"),
]
PLIVO_SIGNATURE = "CGjz3yPu2dbf/HgRGv4aJckkZuQDK/kqXI1zhXWC+0A="


def test_plivo_v3_vectors() -> None:
    assert plivo_v3_signature(PLIVO_TOKEN, PLIVO_URL, "12345", PLIVO_PARAMS) == PLIVO_SIGNATURE
    with_query = PLIVO_URL + "?x=2&a=1"
    signed = "YBb1eyMYV3nYKVNGK6tQTr3Ba8dcrGmrsG0eq0O7aXw="
    assert (
        plivo_v3_signature(PLIVO_TOKEN, with_query, "12345", [("From", "1"), ("To", "2")]) == signed
    )
    bare = "2tUVd+6dOTo/13hSmD0yrftTKb57pVvy0kxqkPKxcqk="
    assert plivo_v3_signature(PLIVO_TOKEN, "https://answer.url", "12345", []) == bare


def test_plivo_v3_any_of_several_signatures() -> None:
    both = f"bm90IGl0,{PLIVO_SIGNATURE}"
    assert plivo_v3_valid(PLIVO_TOKEN, PLIVO_URL, "12345", PLIVO_PARAMS, both)
    assert plivo_v3_valid(PLIVO_TOKEN, PLIVO_URL, "12345", PLIVO_PARAMS[::-1], PLIVO_SIGNATURE)


def test_plivo_v3_refusals() -> None:
    good = PLIVO_SIGNATURE
    assert not plivo_v3_valid(PLIVO_TOKEN, PLIVO_URL, "12346", PLIVO_PARAMS, good)  # nonce
    assert not plivo_v3_valid("other", PLIVO_URL, "12345", PLIVO_PARAMS, good)
    assert not plivo_v3_valid(PLIVO_TOKEN, PLIVO_URL + "?a=1", "12345", PLIVO_PARAMS, good)
    changed = [*PLIVO_PARAMS[:2], ("Text", "Your code is 999999"), PLIVO_PARAMS[3]]
    assert not plivo_v3_valid(PLIVO_TOKEN, PLIVO_URL, "12345", changed, good)
    for nonce, signature in ((None, good), ("12345", None), ("", good), ("12345", "")):
        assert not plivo_v3_valid(PLIVO_TOKEN, PLIVO_URL, nonce, PLIVO_PARAMS, signature)
    many = ",".join(["x"] * 100 + [good])  # past the few a header carries: not looked at
    assert not plivo_v3_valid(PLIVO_TOKEN, PLIVO_URL, "12345", PLIVO_PARAMS, many)
