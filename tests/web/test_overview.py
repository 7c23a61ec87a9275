"""What the web page shows of a well-stocked project (tests/web/stock.py), read as a
browser without scripts would, on both stores with one agentid per module: the projects
page (domain, DNS per record, phone number and provider, counts, provider accounts with
scheme and fingerprint only), codes from email, SMS and human answers, SMS, the outbox's
statuses and a refused recipient retried through a real relay, webhook deliveries and
their replay, a message's envelope, verdicts, headers and links, and the inbox's paging."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from agentid.web import mail_routes
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.providers.sink import Sink
from tests.service import create_project
from tests.service import deliver
from tests.service import eventually
from tests.service import new_token
from tests.web.mail import verification
from tests.web.pages import post_form
from tests.web.pages import row_with
from tests.web.pages import rows
from tests.web.pages import signed_in
from tests.web.pages import text_of
from tests.web.stock import ANSWER
from tests.web.stock import EMAIL_CODE
from tests.web.stock import LINK
from tests.web.stock import REFUSAL
from tests.web.stock import REFUSED
from tests.web.stock import RELAY_PASSWORD
from tests.web.stock import RELAY_USER
from tests.web.stock import SETTINGS
from tests.web.stock import SMS_CODE
from tests.web.stock import USED_CODE
from tests.web.stock import Stocked
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="module")

OVERRIDES = SETTINGS  # the module's agentid is started with them (tests/web/conftest.py)


async def api(service: Service, path: str, **params: Any) -> Any:
    r = await service.http.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_projects_page_shows_domain_dns_phone_and_counts(
    shared: Service, stocked: Stocked
) -> None:
    messages = await api(shared, f"/projects/{stocked.id}/email/inbox", limit=500)
    unused = await api(shared, f"/projects/{stocked.id}/codes", unused="true", limit=500)
    await create_project(shared, "bare")  # no domain, no number, nothing received
    for token in (ADMIN, await new_token(shared, stocked.id, ["read"])):
        async with signed_in(shared, token) as client:
            page = (await client.get("/ui/projects")).text
        row = row_with(page, "Project", stocked.id)
        assert row["Domain"] == stocked.domain
        assert row["DNS"] == "unverified"  # SPF is someone else's, DMARC is missing
        assert row["Phone"] == f"{stocked.number} (sandbox, active)"
        assert row["Messages"] == str(len(messages["messages"]))
        assert row["Unused codes"] == str(len(unused["codes"]))
    async with signed_in(shared, ADMIN) as client:
        page = (await client.get("/ui/projects")).text
    bare = row_with(page, "Project", "bare")
    assert (bare["Domain"], bare["DNS"], bare["Phone"]) == ("shared domain", "—", "—")
    assert (bare["Messages"], bare["Unused codes"]) == ("0", "0")


async def test_the_project_page_shows_each_dns_record_with_its_state(
    shared: Service, stocked: Stocked
) -> None:
    plan = await api(shared, f"/projects/{stocked.id}/email/dns")
    checks = plan["verification"]["records"]
    async with signed_in(shared, ADMIN) as client:
        page = (await client.get(f"/ui/projects/{stocked.id}")).text
    assert "Status: unverified" in text_of(page)
    shown = [r for r in rows(page) if "In DNS" in r]
    assert [r["Record"] for r in shown] == ["mx MX", "spf TXT", "dkim TXT", "dmarc TXT"]
    for record, check, row in zip(plan["records"], checks, shown, strict=True):
        assert (row["Name"], check["name"]) == (record["name"], record["name"])
        value = record["value"] if record["priority"] is None else f"10 {record['value']}"
        assert row["Value"] == value == check["expected"]
        assert row["Applied"] == record["status"] == "created"  # into the zone file
        assert row["In DNS"].split()[0] == check["status"]
    states = {r["Record"]: r["In DNS"] for r in shown}
    assert states["mx MX"] == "ok" and states["dkim TXT"] == "ok"
    assert states["spf TXT"] == "wrong found: v=spf1 include:elsewhere.example -all"
    assert states["dmarc TXT"] == "missing"

    await create_project(shared, "shared-only")
    async with signed_in(shared, ADMIN) as client:
        page = (await client.get("/ui/projects/shared-only")).text
    assert "has no domain of its own" in text_of(page)


async def test_provider_accounts_show_scheme_and_fingerprint_never_the_secret(
    shared: Service, stocked: Stocked
) -> None:
    async with signed_in(shared, ADMIN) as client:
        page = (await client.get(f"/ui/projects/{stocked.id}")).text
        relay = row_with(page, "Kind", "relay")
        assert relay == {
            "Kind": "relay", "Whose": "project", "Scheme": "smtp",
            "Fingerprint": stocked.fingerprint,
        }  # fmt: skip
        assert row_with(page, "Kind", "phone")["Scheme"] == "sandbox"  # the service's
        assert row_with(page, "Kind", "dns")["Whose"] == "none"
        assert "127.0.0.1" not in page  # nor the relay's host: scheme and fingerprint only
        everything = [page]
        for path in ("", "/outbox", "/webhooks", "/codes", "/inbox", "/sms", "/escalations"):
            everything.append((await client.get(f"/ui/projects/{stocked.id}{path}")).text)
        everything.append((await client.get("/ui/projects")).text)
    secrets = (
        RELAY_PASSWORD,
        quote(RELAY_PASSWORD, safe=""),
        RELAY_USER,
        stocked.webhook["secret"],
    )
    for shown in everything:
        for secret in secrets:
            assert secret not in shown
    async with signed_in(shared, await new_token(shared, stocked.id)) as client:
        page = (await client.get(f"/ui/projects/{stocked.id}")).text
    assert "Provider accounts" not in page and stocked.fingerprint not in page  # as in the API


async def test_codes_from_email_sms_and_answers_with_their_state(
    shared: Service, stocked: Stocked
) -> None:
    codes = f"/ui/projects/{stocked.id}/codes"
    async with signed_in(shared, await new_token(shared, stocked.id, ["read"])) as client:
        page = (await client.get(codes)).text
        state = {r["Code"].removesuffix(" Copy"): (r["Channel"], r["State"]) for r in rows(page)}
        assert state == {
            ANSWER: ("escalation", "unused authenticated"),
            LINK: ("email · message", "unused not authenticated"),
            EMAIL_CODE: ("email · message", "unused not authenticated"),
            SMS_CODE: ("sms", "unused"),
            USED_CODE: ("sms", "used"),
        }
        for value in state:  # each with its copy button
            assert f'class="copy" data-copy="{value}"' in page
        for params, wanted in (
            ({"channel": "sms"}, {SMS_CODE, USED_CODE}),
            ({"channel": "escalation"}, {ANSWER}),
            ({"channel": "email"}, {LINK, EMAIL_CODE}),
            ({"unused": "1"}, {ANSWER, LINK, EMAIL_CODE, SMS_CODE}),
            ({"channel": "sms", "unused": "1"}, {SMS_CODE}),
        ):
            listed = (await client.get(codes, params=params)).text
            assert {r["Code"].removesuffix(" Copy") for r in rows(listed)} == wanted, params

        r = await shared.http.get(
            f"/projects/{stocked.id}/codes",
            params={"channel": "escalation", "consume": "true"},
        )
        assert [c["value"] for c in r.json()["codes"]] == [ANSWER]
        page = (await client.get(codes)).text
        assert row_with(page, "Code", ANSWER)["State"] == "used authenticated"
        projects = (await client.get("/ui/projects")).text
        left = await api(shared, f"/projects/{stocked.id}/codes", unused="true", limit=500)
        assert row_with(projects, "Project", stocked.id)["Unused codes"] == str(len(left["codes"]))
        assert ANSWER not in [c["value"] for c in left["codes"]]


async def test_the_sms_page_lists_what_arrived(shared: Service, stocked: Stocked) -> None:
    sms = f"/ui/projects/{stocked.id}/sms"
    async with signed_in(shared, await new_token(shared, stocked.id, ["read"])) as client:
        page = (await client.get(sms)).text
        listed = rows(page)
        assert [r["Text"] for r in listed] == [
            f"Your Acme code is {SMS_CODE}.", f"Your Acme code is {USED_CODE}."
        ]  # fmt: skip
        for row in listed:
            assert row["From"] == "+15005550006"
            assert row["To"] == f"{stocked.number} (sandbox)"
        assert listed[0]["Codes"] == f"{SMS_CODE} Copy"
        assert 'data-live-kinds="sms.received"' in page  # it says when more arrive
        r = await shared.http.post(
            "/sandbox/sms",
            json={"to": stocked.number, "from": "+15550009999", "body": "<b>Hi</b> & bye"},
        )
        assert r.status_code == 201, r.text
        page = (await client.get(sms)).text
    newest = rows(page)[0]
    assert (newest["From"], newest["Text"], newest["Codes"]) == (
        "+15550009999",
        "<b>Hi</b> & bye",
        "",
    )
    assert "&lt;b&gt;Hi&lt;/b&gt; &amp; bye" in page


async def test_the_outbox_shows_each_recipients_status_and_retries_the_refused_one(
    shared: Service, stocked: Stocked, sink: Sink
) -> None:
    outbox = f"/ui/projects/{stocked.id}/outbox"
    message = f"/projects/{stocked.id}/email/messages/{stocked.sent_id}"
    async with signed_in(shared, await new_token(shared, stocked.id)) as client:
        page = (await client.get(outbox)).text
        assert "Hello partial" in text_of(page)
        refused = row_with(page, "Recipient", REFUSED)
        assert (refused["Route"], refused["Status"], refused["Attempts"]) == (
            "relay",
            "failed",
            "1",
        )
        assert refused["Last error"] == REFUSAL
        kept = row_with(page, "Recipient", "kept@vendor.example")
        assert (kept["Status"], kept["Last error"]) == ("sent", "")
        retry = f"{outbox}/{stocked.sent_id}/retry"
        assert f'action="{retry}"' in page

        sink.rcpt_replies.pop(REFUSED)  # the mailbox exists now
        r = await post_form(client, outbox, retry, {})
        assert r.status_code == 303 and r.headers["location"] == outbox

        async def sent() -> bool:
            return bool((await api(shared, message))["status"] == "sent")

        await eventually(sent, "the retried recipient is sent")
        page = (await client.get(outbox)).text
    assert "Hello sent" in text_of(page) and f'action="{retry}"' not in page
    refused = row_with(page, "Recipient", REFUSED)
    assert (refused["Status"], refused["Last error"]) == ("sent", "")  # a fresh round of attempts
    assert row_with(page, "Recipient", "kept@vendor.example")["Attempts"] == "1"  # not again
    assert [m.recipients for m in sink.received][-1] == [REFUSED]


async def test_the_outbox_offers_no_retry_for_a_suppressed_mailbox(
    shared: Service, stocked: Stocked, sink: Sink
) -> None:
    gone = "gone@vendor.example"
    sink.rcpt_replies[gone] = "550 5.1.1 no such mailbox here"
    r = await shared.http.post(
        f"/projects/{stocked.id}/email/send", json={"to": [gone], "subject": "Bye", "text": "x"}
    )
    mid = r.json()["id"]

    async def failed() -> bool:
        got = await api(shared, f"/projects/{stocked.id}/email/messages/{mid}")
        return bool(got["status"] == "failed")

    await eventually(failed, "the relay refuses the mailbox")
    outbox = f"/ui/projects/{stocked.id}/outbox"
    async with signed_in(shared, await new_token(shared, stocked.id)) as client:
        page = (await client.get(outbox)).text
        row = row_with(page, "Recipient", gone)
        assert row["Status"] == "failed suppressed: 550 5.1.1 no such mailbox here"
        assert f"{outbox}/{mid}/retry" not in page and "a retry waits until" in page
        r = await post_form(client, outbox, f"{outbox}/{mid}/retry", {})  # all the same
        assert r.status_code == 409 and "suppression is lifted" in r.text


async def test_webhook_deliveries_are_listed_and_replayed(
    shared: Service, stocked: Stocked, receiver: Receiver
) -> None:
    hook = stocked.webhook
    page_path = f"/ui/projects/{stocked.id}/webhooks"
    api_path = f"/projects/{stocked.id}/webhooks/{hook['id']}/deliveries"
    sent = (await api(shared, api_path))["deliveries"]
    async with signed_in(shared, ADMIN) as client:
        page = (await client.get(page_path)).text
        assert receiver.url() in page and "message.received; since" in text_of(page)
        listed = rows(page)
        assert len(listed) == len(sent) == 2
        for row, delivery in zip(listed, sent, strict=True):
            assert row["Event"] == f"message.received #{delivery['event_seq']}"
            assert (row["Status"], row["Attempts"], row["Last answer"]) == ("delivered", "1", "200")
        before = len(receiver.requests)
        oldest = sent[-1]
        replay = f"{page_path}/{hook['id']}/deliveries/{oldest['id']}/replay"
        assert f'action="{replay}"' in page
        r = await post_form(client, page_path, replay, {})
        assert r.status_code == 303 and r.headers["location"] == page_path
        again = (await receiver.wait_for(before + 1))[-1]
        assert again.headers["webhook-id"] == oldest["message_id"]

        async def settled() -> bool:
            newest = (await api(shared, api_path))["deliveries"][0]
            return bool(newest["replay"] == 1 and newest["status"] == "delivered")

        await eventually(settled, "the replay is delivered")
        page = (await client.get(page_path)).text
    newest = rows(page)[0]
    assert newest["Event"] == f"message.received #{oldest['event_seq']}, replay 1"
    assert newest["Status"] == "delivered"


async def test_a_message_shows_envelope_verdicts_headers_and_links(
    shared: Service, stocked: Stocked
) -> None:
    detail = f"/projects/{stocked.id}/email/messages/{stocked.message_id}"
    verdict = (await api(shared, detail))["auth_results"]  # what agentid's own check said
    base = f"/ui/projects/{stocked.id}/messages"
    async with signed_in(shared, await new_token(shared, stocked.id, ["read"])) as client:
        page = text_of((await client.get(f"{base}/{stocked.message_id}")).text)
        linked = (await client.get(f"{base}/{stocked.link_message_id}")).text
    for shown in (
        f"To (envelope) {stocked.address}", "Envelope sender noreply@shop.example",
        "(HELO localhost)", "Authentication not authenticated", f"SPF {verdict['spf']}",
        "DKIM none", f"DMARC {verdict['dmarc']} for shop.example",
        f"{EMAIL_CODE} Copy confidence", "Subject Verify your account",
        "Authentication-Results agentid.local; spf=",  # among the headers
    ):  # fmt: skip
        assert shown in page, shown
    assert f"confirm {LINK} Copy" in text_of(linked)
    assert f'data-copy="{LINK}"' in linked and 'rel="noreferrer noopener"' in linked


async def test_the_inbox_pages_older_messages_keeping_its_filters(
    shared: Service, stocked: Stocked, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mail_routes, "PAGE", 2)  # the service runs in this process
    third = await deliver(shared, stocked.id, stocked.address, verification(stocked.address))
    inbox = f"/ui/projects/{stocked.id}/inbox"
    async with signed_in(shared, await new_token(shared, stocked.id, ["read"])) as client:
        first = (await client.get(inbox, params={"from": "shop.example"})).text
        subjects = [r["Subject"] for r in rows(first)]
        assert subjects == ["Verify your account attachment", "Confirm your email"]
        assert third["id"] in first and stocked.message_id not in first
        older = f"{inbox}?from=shop.example&amp;before={stocked.link_message_id}"
        assert f'href="{older}">Older messages' in first
        second = (await client.get(older.replace("&amp;", "&"))).text
    assert stocked.message_id in second and third["id"] not in second
    assert "Older messages" not in second
    assert "data-live=" not in second  # an older page does not update itself


async def test_every_form_that_posts_carries_the_sessions_csrf_token(
    shared: Service, stocked: Stocked, sink: Sink
) -> None:
    r = await shared.http.post(
        f"/projects/{stocked.id}/escalations",
        json={"kind": "link", "service": "shop.example", "reason": "The link went by post"},
    )
    assert r.status_code == 201, r.text  # open: its page has the form that answers it
    sink.rcpt_replies["later@vendor.example"] = REFUSAL
    r = await shared.http.post(
        f"/projects/{stocked.id}/email/send",
        json={"to": ["later@vendor.example"], "subject": "Later", "text": "x"},
    )
    mid = r.json()["id"]

    async def failed() -> bool:
        got = await api(shared, f"/projects/{stocked.id}/email/messages/{mid}")
        return bool(got["status"] == "failed")

    await eventually(failed, "a message to retry")  # its outbox entry has the retry form
    project = f"/ui/projects/{stocked.id}"
    paths = [f"{project}{p}" for p in ("", "/inbox", "/codes", "/aliases", "/sms", "/outbox")]
    paths += [f"{project}/escalations", f"{project}/webhooks", "/ui/escalations", "/ui/projects"]
    paths += [f"{project}/messages/{stocked.message_id}"]
    actions = set()
    async with signed_in(shared, ADMIN) as client:
        tokens = set()
        for path in paths:
            page = (await client.get(path)).text
            forms = re.findall(
                r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S
            )
            assert len(forms) == page.count("<form method=") - page.count('method="get"'), path
            for action, inside in forms:
                actions.add(re.sub(r"/01[0-9A-Z]{24}", "/ID", action))
                tokens.update(
                    re.findall(r'<input type="hidden" name="csrf" value="([^"]*)">', inside)
                )
                assert 'name="csrf"' in inside, (path, action)
    assert len(tokens) == 1 and len(tokens.pop()) >= 32  # one per session, never empty
    assert actions == {
        "/ui/logout", f"{project}/aliases", f"{project}/aliases/disable",
        f"{project}/outbox/ID/retry", f"{project}/escalations/ID/answer",
        f"{project}/webhooks/ID/deliveries/ID/replay",
    }  # fmt: skip
