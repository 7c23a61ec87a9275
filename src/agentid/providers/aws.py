"""How the AWS adapters (``ses://``, ``route53://``) reach AWS: ``AwsAccess``.

Read from the URL by ``aws_access``: the key as ``KEYID:SECRET`` userinfo (both or
neither; neither: the standard AWS credential chain), with ``+http`` the local server
speaking the API (moto, LocalStack; None: AWS's own endpoint), and ``timeout=S`` bounding
the connection and each read (default 30). ``session`` and ``config`` import boto3 and
botocore where they are first called (a fifth of a second, paid only by a process using
an AWS adapter), so that a factory does no I/O and imports nothing; the adapter makes its
client from them on its first call, in a worker thread (finding credentials may read files
or ask the instance metadata service), and runs its calls in ``map_failures`` with
``secrets``.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

from agentid.errors import ValidationFailed
from agentid.providers.registry import ProviderUrl

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config

DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class AwsAccess:
    """Where an AWS adapter calls, as whom, and how long it waits."""

    endpoint: str | None = None  # None: AWS's own endpoint for the service and region
    access_key_id: str | None = field(default=None, repr=False)  # None: the credential chain
    secret_access_key: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """What messages about the adapter's calls must never show."""
        return (self.secret_access_key, self.access_key_id)

    def session(self, region: str) -> Session:
        import boto3

        return boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=region,
        )

    def config(self, attempts: int) -> Config:
        """The client's timeouts, and ``attempts`` calls at most for one request."""
        from botocore.config import Config

        return Config(
            connect_timeout=self.timeout,
            read_timeout=self.timeout,
            retries={"mode": "standard", "total_max_attempts": attempts},
        )


def aws_access(url: ProviderUrl) -> AwsAccess:
    """The access an AWS adapter's URL gives (its host, path and other parameters are the
    adapter's to check)."""
    if (url.username is None) != (url.password is None):
        raise ValidationFailed(f"{url.scheme}:// credentials are KEYID:SECRET, both or neither")
    return AwsAccess(
        endpoint=url.endpoint("") if url.http else None,
        access_key_id=url.username,
        secret_access_key=url.password,
        timeout=url.number("timeout", DEFAULT_TIMEOUT_SECONDS),
    )
