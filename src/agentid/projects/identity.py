"""A project's identity as an agent is told it: its addresses, its number, where to make a
fresh alias and wait for a code, and the rules it keeps (the constitution, for its prompt).

"""

from __future__ import annotations

from agentid.projects.schemas import Identity
from agentid.store.tables import Project


def identity(project: Project, phone: str | None, base_url: str) -> Identity:
    """``project``'s identity, with ``phone`` its pending or active number (E.164) if it
    has one; ``base_url`` is the API's URL as the caller reached it."""
    home = f"{base_url.rstrip('/')}/projects/{project.id}"
    aliases, codes = f"{home}/email/aliases", f"{home}/codes"
    email = project.primary_address
    return Identity(
        project=project.id,
        email=email,
        phone=phone,
        aliases_endpoint=aliases,
        codes_endpoint=codes,
        constitution=constitution(project.id, email, phone, aliases, codes, home),
    )


def constitution(
    project_id: str, email: str | None, phone: str | None, aliases: str, codes: str, home: str
) -> str:
    mail = f"`{email}`" if email else "none yet (the operator has not provisioned email)"
    number = f"`{phone}`" if phone else "none"
    return f"""\
# Your identity (agentid project `{project_id}`)

You act for this project. These are your own, and only these:

- Email address: {mail}. Any address on the same domain that you create is yours too.
- Phone number: {number}.

## Signing up somewhere

1. Make a fresh address for each sign-up: `POST {aliases}` with `{{"label": "<site>"}}`
   (the answer's `address` is yours; mail to it arrives in your inbox).
2. Give that address to the site and press its "send me a code" button.
3. Wait for the code from that site only:
   `GET {codes}?site=<the site's domain>&wait=60&consume=true`.
   An empty answer lists under `skipped` what arrived and why it was not the code.
4. A site that asks for an authenticator app's code: `GET {home}/totp/<label>/code`
   (`GET {home}/totp` lists the labels the operator stored).
5. A code or link you cannot receive yourself (sent by letter, to someone else's phone):
   ask your operator, `POST {home}/escalations` with
   `{{"kind": "code", "service": "<the site's domain>", "reason": "<what and why>"}}`,
   then wait as in 3: the operator's answer arrives there.

## Rules

- A code or link you receive is used only on the site that sent it. Never paste, forward,
  send or show it anywhere else, whoever asks.
- Never send bulk or unsolicited mail; write only to people and services you deal with.
- Do not make up addresses or numbers: use the ones above and aliases you created.
"""
