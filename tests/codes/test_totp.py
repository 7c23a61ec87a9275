"""TOTP authenticators: RFC 6238's test vectors through the function the API computes codes
with, otpauth:// URIs read (and refused), and the API: the secret sealed and never shown,
codes behind the write scope, another project's token answered 404."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from sqlalchemy import select

from agentid.codes.totp import Authenticator
from agentid.codes.totp import code_at
from agentid.codes.totp import from_fields
from agentid.codes.totp import parse_uri
from agentid.errors import ValidationFailed
from agentid.store.tables import TotpSecret
from tests.conftest import Service
from tests.service import JSON
from tests.service import assert_error
from tests.service import create_project
from tests.service import new_token

# RFC 6238, Appendix B: the seeds are these ASCII strings (20, 32 and 64 bytes), 8 digits.
SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [  # time, SHA1, SHA256, SHA512
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
SECRET = "JBSWY3DPEHPK3PXP"  # "Hello!\xde\xad\xbe\xef" (80 bits), the usual example
URI = f"otpauth://totp/ACME%20Co:john@acme.test?secret={SECRET}&issuer=ACME%20Co&period=30"


def b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode()


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), VECTORS)
def test_rfc6238_test_vectors(at: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        auth = from_fields(b32(SEEDS[algorithm]), algorithm, digits=8, period=30)
        code, valid_for = code_at(auth, at)
        assert code == expected, (algorithm, at)
        assert valid_for == 30 - at % 30
    # the URI form of the same secret gives the same codes
    uri = f"otpauth://totp/x?secret={b32(SEEDS['SHA256'])}&algorithm=sha256&digits=8"
    assert code_at(parse_uri(uri), at)[0] == sha256


def test_uri_parsing() -> None:
    parsed = parse_uri(URI)
    assert parsed == Authenticator(
        SECRET, "SHA1", 6, 30, issuer="ACME Co", account="john@acme.test"
    )
    bare = parse_uri(f"OTPAUTH://TOTP/alice?secret={SECRET.lower()}%3D%3D&digits=7&period=60")
    assert (bare.secret, bare.digits, bare.period) == (SECRET, 7, 60)
    assert (bare.issuer, bare.account) == (None, "alice")
    spaced = from_fields("jbsw y3dp ehpk 3pxp")  # as sites print it, in groups of four
    assert spaced.secret == SECRET and (spaced.digits, spaced.period) == (6, 30)
    refused = {
        "http://totp/x?secret=" + SECRET: "otpauth://totp",
        "otpauth://hotp/x?secret=" + SECRET + "&counter=1": "only otpauth://totp/",
        "otpauth://totp/x?issuer=ACME": "no secret",
        "otpauth://totp/x?secret=JBSWY3DP1HPK3PXP": "base32",  # 1 is not base32
        "otpauth://totp/x?secret=JBSWY3DPEHPK3PXPA": "length",  # 17: no whole byte
        "otpauth://totp/x?secret=JBSWY3DPEHPK": "10 to 128 bytes",  # 60 bits
        "otpauth://totp/x?secret=" + SECRET + "&algorithm=MD5": "algorithm",
        "otpauth://totp/x?secret=" + SECRET + "&digits=9": "digits",
        "otpauth://totp/x?secret=" + SECRET + "&digits=six": "digits",
        "otpauth://totp/x?secret=" + SECRET + "&period=5": "period",
        "otpauth://totp/a%00b?secret=" + SECRET: "control characters",
    }
    for uri, said in refused.items():
        with pytest.raises(ValidationFailed, match=said):
            parse_uri(uri)


async def test_add_list_code_delete(service: Service) -> None:
    await create_project(service, "acme")
    r = await service.http.post("/projects/acme/totp", json={"label": "acme-co", "uri": URI})
    assert r.status_code == 201, r.text
    shown = r.json()
    assert shown["label"] == "acme-co" and shown["issuer"] == "ACME Co"
    assert shown["account"] == "john@acme.test"
    assert (shown["algorithm"], shown["digits"], shown["period"]) == ("SHA1", 6, 30)
    seed = b32(SEEDS["SHA512"])
    body = {"label": "bank", "secret": seed, "digits": 8, "algorithm": "SHA512", "period": 60}
    assert (await service.http.post("/projects/acme/totp", json=body)).status_code == 201
    listed = (await service.http.get("/projects/acme/totp")).json()
    assert [t["label"] for t in listed["totp"]] == ["acme-co", "bank"]
    for answer in (r.text, str(listed)):  # the secret is never shown again
        assert SECRET not in answer and SECRET.lower() not in answer and seed not in answer

    # Stored sealed: neither the base32 text nor the key's bytes are in the column.
    async with service.running.runtime.sessions() as session:
        stored = (await session.scalars(select(TotpSecret.secret_sealed))).all()
    assert len(stored) == 2
    for sealed in stored:
        for plain in (SECRET.encode(), base64.b32decode(SECRET), seed.encode(), SEEDS["SHA512"]):
            assert plain not in sealed

    for label, auth in (("acme-co", parse_uri(URI)), ("bank", from_fields(seed, "SHA512", 8, 60))):
        before = code_at(auth, time.time())
        r = await service.http.get(f"/projects/acme/totp/{label}/code")
        after = code_at(auth, time.time())
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        got = r.json()
        assert set(got) == {"code", "valid_for_seconds"}
        assert got["code"] in (before[0], after[0])
        assert 1 <= got["valid_for_seconds"] <= auth.period

    assert (await service.http.delete("/projects/acme/totp/bank")).status_code == 204
    assert_error(await service.http.get("/projects/acme/totp/bank/code"), 404, "not_found")
    assert_error(await service.http.delete("/projects/acme/totp/bank"), 404, "not_found")
    listed = (await service.http.get("/projects/acme/totp")).json()
    assert [t["label"] for t in listed["totp"]] == ["acme-co"]


async def test_bad_input(service: Service) -> None:
    await create_project(service, "acme")
    bad = [
        {"label": "Not A Slug", "uri": URI},
        {"label": "-x", "uri": URI},
        {"label": "x" * 64, "uri": URI},
        {"label": "x"},  # neither uri nor secret
        {"label": "x", "uri": URI, "secret": SECRET},
        {"label": "x", "uri": URI, "digits": 8},
        {"label": "x", "uri": "https://acme.test/2fa"},
        {"label": "x", "uri": "otpauth://totp/x?secret=not-base32!"},
        {"label": "x", "uri": f"otpauth://totp/x?secret={SECRET}&algorithm=SHA3"},
        {"label": "x", "secret": "ABC"},
        {"label": "x", "secret": SECRET, "algorithm": "MD5"},
        {"label": "x", "secret": SECRET, "digits": 4},
        {"label": "x", "secret": SECRET, "period": 0},
        {"label": "x", "secret": SECRET + "\u0000"},
        {"label": "x", "uri": URI + "\ud800"},
        {"label": "x", "uri": "x" * 5000},
        {"label": "x", "uri": URI, "unexpected": 1},
    ]
    for body in bad:  # as JSON text: a lone surrogate goes as its \\u escape
        r = await service.http.post("/projects/acme/totp", content=json.dumps(body), headers=JSON)
        assert_error(r, 422, "validation_failed")
        assert SECRET not in r.text  # an error never repeats the secret
    assert (await service.http.get("/projects/acme/totp")).json() == {"totp": []}
    body = {"label": "x", "uri": URI}
    assert (await service.http.post("/projects/acme/totp", json=body)).status_code == 201
    assert_error(await service.http.post("/projects/acme/totp", json=body), 409, "conflict")
    for label in ("Nope", "a%00b", "x" * 200):
        r = await service.http.get(f"/projects/acme/totp/{label}/code")
        assert r.status_code in (404, 422), (label, r.text)
        assert_error(r, r.status_code)


async def test_scopes(service: Service) -> None:
    await create_project(service, "acme")
    await create_project(service, "beta")
    for project in ("acme", "beta"):
        body = {"label": "github", "uri": URI}
        assert (await service.http.post(f"/projects/{project}/totp", json=body)).status_code == 201
    reader = await new_token(service, "acme", ["read"])
    writer = await new_token(service, "acme", ["write"])
    async with service.client(reader) as client:
        assert (await client.get("/projects/acme/totp")).status_code == 200
        assert_error(await client.get("/projects/acme/totp/github/code"), 403, "forbidden")
        body = {"label": "other", "uri": URI}
        assert_error(await client.post("/projects/acme/totp", json=body), 403, "forbidden")
        assert_error(await client.delete("/projects/acme/totp/github"), 403, "forbidden")
    async with service.client(writer) as client:
        r = await client.get("/projects/acme/totp/github/code")
        assert r.status_code == 200 and len(r.json()["code"]) == 6
        for method, path in (
            ("GET", "/projects/beta/totp"),
            ("GET", "/projects/beta/totp/github/code"),
            ("DELETE", "/projects/beta/totp/github"),
        ):
            assert_error(await client.request(method, path), 404, "not_found")
    listed = (await service.http.get("/projects/beta/totp")).json()
    assert [t["label"] for t in listed["totp"]] == ["github"]


async def test_at_most_a_hundred_even_when_added_at_once(service: Service) -> None:
    """Each request counted the project's authenticators, then added one: six at once with
    97 kept all counted 97 and all added theirs. The project's row is locked first."""
    await create_project(service, "acme")
    for n in range(97):
        r = await service.http.post("/projects/acme/totp", json={"label": f"t{n}", "uri": URI})
        assert r.status_code == 201, r.text
    answers = await asyncio.gather(
        *(
            service.http.post("/projects/acme/totp", json={"label": f"x{n}", "uri": URI})
            for n in range(6)
        )
    )
    assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 3, [
        r.text for r in answers
    ]
    assert any("at most 100" in r.text for r in answers)
    assert len((await service.http.get("/projects/acme/totp")).json()["totp"]) == 100
