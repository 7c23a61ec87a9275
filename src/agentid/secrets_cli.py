"""``agentid secrets``: operator commands on the secrets kept encrypted in the store.

They work on the store directly (the database ``agentid serve`` uses, found the same way:
``AGENTID_DATABASE_URL``, else SQLite in ``--data-dir`` / ``AGENTID_DATA_DIR``), not over
HTTP. Rotating the service key: set the new ``AGENTID_SECRET_KEY``, list the old one in
``AGENTID_PREVIOUS_SECRET_KEYS``, run ``agentid secrets rotate``; once it succeeded the old
key opens nothing the store holds and can be dropped. Heavy modules load inside commands.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated

import typer

if TYPE_CHECKING:
    from agentid.config import Settings

secrets_app = typer.Typer(help="Secrets encrypted in the store.", no_args_is_help=True)


@dataclass(frozen=True, slots=True)
class Resealed:
    """How many sealed values ``rotate`` sealed again under the current key, per kind."""

    dkim_keys: int
    provider_accounts: int
    forwarder_secrets: int = 0
    subaccount_tokens: int = 0
    totp_secrets: int = 0
    webhook_secrets: int = 0

    @property
    def total(self) -> int:
        phone = self.forwarder_secrets + self.subaccount_tokens
        return (
            self.dkim_keys
            + self.provider_accounts
            + phone
            + self.totp_secrets
            + self.webhook_secrets
        )


@secrets_app.command("rotate")
def rotate(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where state lives.")] = None,
) -> None:
    """Re-encrypt every stored secret under AGENTID_SECRET_KEY (the old keys in
    AGENTID_PREVIOUS_SECRET_KEYS still open them); all or nothing."""
    from agentid.cli import _settings

    settings = _settings(**({"data_dir": data_dir} if data_dir is not None else {}))
    done = asyncio.run(reseal_store(settings))
    typer.echo(
        f"re-encrypted {done.total} secrets under the current key"
        f" ({done.dkim_keys} DKIM keys, {done.provider_accounts} provider accounts"
        + (f", {done.forwarder_secrets} forwarder secrets" if done.forwarder_secrets else "")
        + (f", {done.subaccount_tokens} subaccount tokens" if done.subaccount_tokens else "")
        + (f", {done.totp_secrets} authenticator secrets" if done.totp_secrets else "")
        + (f", {done.webhook_secrets} webhook secrets" if done.webhook_secrets else "")
        + ")"
    )


async def reseal_store(settings: Settings) -> Resealed:
    """Seal everything the store holds sealed again under the current service key, in one
    transaction: a secret no configured key opens changes nothing and is one error."""
    from agentid.codes.totp_service import reseal_secrets as reseal_totp
    from agentid.config import load_secret_key
    from agentid.crypto import SecretBox
    from agentid.email.hosting import reseal_dkim_keys
    from agentid.errors import BadRequest
    from agentid.phone.forwarder_service import reseal_secrets
    from agentid.phone.service import reseal_account_secrets
    from agentid.providers.accounts import reseal_accounts
    from agentid.store.db import create_engine
    from agentid.store.db import migrate
    from agentid.store.db import session_factory
    from agentid.webhooks.service import reseal_secrets as reseal_webhook_secrets

    database = settings.data_dir / "agentid.db"
    if settings.database_url is None and not database.is_file():
        raise BadRequest(f"no database at {database}: is the data dir right (--data-dir)?")
    box = SecretBox(load_secret_key(settings), *settings.previous_keys())
    engine = create_engine(settings)
    try:
        await migrate(engine)  # the same schema `agentid serve` would bring it to
        async with session_factory(engine).begin() as session:
            return Resealed(
                dkim_keys=await reseal_dkim_keys(session, box),
                provider_accounts=await reseal_accounts(session, box),
                forwarder_secrets=await reseal_secrets(session, box),
                subaccount_tokens=await reseal_account_secrets(session, box),
                totp_secrets=await reseal_totp(session, box),
                webhook_secrets=await reseal_webhook_secrets(session, box),
            )
    finally:
        await engine.dispose()
