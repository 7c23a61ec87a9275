"""The Postfix configuration that puts Postfix in front of agentid: what ``agentid
postfix-config`` prints, what ``deploy/postfix/`` ships and what the tests run.

Postfix receives on port 25 (TLS, queueing, retries, filters) and:

- refuses at RCPT what agentid would refuse, from a lookup table it reads natively:
  ``relay_domains`` (the domains agentid receives for) and ``relay_recipient_maps`` (the
  addresses it accepts now), either ``socketmap:`` tables agentid serves itself
  (``socketmap.py``; any store) or ``pgsql:`` tables over the ``postfix_*`` views of
  agentid's PostgreSQL, read by a role that may read those views and nothing else;
- hands what it accepted to agentid over LMTP (``relay_transport``); with several agentid
  processes, a list of destinations (tried in order: the next one when one is down) or a
  host name with one address per process (Postfix picks among them at random);
- sends no bounce for a recipient agentid refuses at RCPT (it never accepts one) and keeps
  its message size limit below agentid's, by room for the headers it adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

HEADER_ROOM = 64 * 1024  # bytes Postfix (and filters before agentid) may add to a message
VIEWS = ("postfix_domains", "postfix_recipients")
ROLE = "agentid_postfix"
# Postfix's pgsql queries ($ON. is the schema). %u: Postfix skips the query for a key with
# no local part (its "@domain" lookup), so a catch-all never lets in an address agentid
# knows and refuses (disabled, expired).
DOMAIN_QUERY = "SELECT 'OK' FROM $ON.postfix_domains WHERE domain = lower('%s')"
RECIPIENT_QUERY = (
    "SELECT 'OK' WHERE EXISTS (SELECT 1 FROM $ON.postfix_recipients"
    " WHERE address = lower('%u@%d') AND accepted)"
    " OR (NOT EXISTS (SELECT 1 FROM $ON.postfix_recipients WHERE address = lower('%u@%d'))"
    " AND EXISTS (SELECT 1 FROM $ON.postfix_domains WHERE domain = lower('%d') AND catch_all))"
)


@dataclass(frozen=True, slots=True)
class Setup:
    """Where Postfix finds agentid."""

    lmtp: list[str]  # LMTP destinations: "inet:127.0.0.1:2424", "unix:/run/agentid/lmtp"
    max_message_bytes: int
    max_recipients: int
    lookup: str = "socketmap"  # or "pgsql"
    socketmap: str = "inet:127.0.0.1:2426"  # where agentid answers lookups
    map_dir: str = "/etc/postfix"  # where the pgsql map files go
    pgsql: dict[str, str] = field(default_factory=dict)  # hosts, dbname, user, password, schema

    def table(self, name: str) -> str:
        """The lookup table ``name`` (``domain`` or ``recipient``) as main.cf names it."""
        if self.lookup == "pgsql":
            return f"pgsql:{self.map_dir}/agentid-{name}s.cf"
        return f"socketmap:{self.socketmap}:{name}"


def nexthop(destination: str) -> str:
    """An LMTP destination as Postfix takes it in a list: ``inet:HOST:PORT`` becomes
    ``[HOST]:PORT`` (inet is the default; Postfix reads the ``inet:`` prefix only on the
    first destination of a list), ``unix:PATH`` stays."""
    if not destination.startswith("inet:"):
        return destination
    host, _, port = destination.removeprefix("inet:").rpartition(":")
    if not host or not port.isdigit():
        return destination.removeprefix("inet:")
    host = host.strip("[]")
    return f"[{host}]:{port}"


def main_cf(setup: Setup) -> str:
    """The lines to add to (or override in) main.cf."""
    destinations = ", ".join(nexthop(d) for d in setup.lmtp)
    return f"""\
# agentid: receive for agentid's domains, refuse unknown recipients at RCPT, hand the
# mail to agentid over LMTP.
relay_domains = {setup.table("domain")}
relay_recipient_maps = {setup.table("recipient")}
smtpd_reject_unlisted_recipient = yes
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
relay_transport = lmtp:{destinations}
# One LMTP transaction per message and up to agentid's recipient limit; agentid answers
# each recipient on its own.
lmtp_destination_recipient_limit = {setup.max_recipients}
# Room below agentid's AGENTID_MAX_MESSAGE_BYTES for the headers Postfix adds: a message
# Postfix accepts is never refused (and bounced) by agentid for its size.
message_size_limit = {max(setup.max_message_bytes - HEADER_ROOM, 1024)}
# Queue ids unique over time: agentid recognises a delivery made again by its queue id.
enable_long_queue_ids = yes
# Addresses are looked up whole (agentid's aliases have no extensions).
recipient_delimiter =
"""


def master_cf(setup: Setup) -> str:
    """The lines master.cf needs (Debian's stock master.cf has them already)."""
    return """\
# agentid: the LMTP client Postfix hands mail to agentid with
lmtp      unix  -       -       n       -       -       lmtp
"""


def map_files(setup: Setup) -> dict[str, str]:
    """The pgsql map files (name -> content); none with the socketmap lookup."""
    if setup.lookup != "pgsql":
        return {}
    pg = setup.pgsql
    head = (
        "# agentid's pgsql lookup table for Postfix (pgsql_table(5)), read by a role that may\n"
        "# read agentid's postfix_* views and nothing else.\n"
        f"hosts = {pg.get('hosts', '127.0.0.1')}\n"
        f"dbname = {pg.get('dbname', 'agentid')}\n"
        f"user = {pg.get('user', ROLE)}\n"
        f"password = {pg.get('password', 'CHANGE-ME')}\n"
    )
    on = f'"{pg["schema"]}".' if pg.get("schema") else ""
    return {
        name: head + "query = " + query.replace("$ON.", on) + "\n"
        for name, query in (
            ("agentid-domains.cf", DOMAIN_QUERY),
            ("agentid-recipients.cf", RECIPIENT_QUERY),
        )
    }


def role_sql(schema: str, password: str, role: str = ROLE) -> str:
    """SQL that makes the read-only role the pgsql maps use (run once, as a superuser or
    the store's owner)."""
    on = f'"{schema}"' if schema else "public"
    views = ", ".join(f"{on}.{view}" for view in VIEWS)
    escaped = password.replace("'", "''")
    return f"""\
CREATE ROLE {role} LOGIN PASSWORD '{escaped}';
REVOKE ALL ON SCHEMA {on} FROM {role};
GRANT USAGE ON SCHEMA {on} TO {role};
GRANT SELECT ON {views} TO {role};
"""
