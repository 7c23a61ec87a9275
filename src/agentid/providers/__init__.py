"""Providers: the outside services sending, phone and DNS features go through.

base.py          the Protocols features call (MailRelay, PhoneProvider, DnsProvider) and
                 their value types; ``Providers``, what the app was configured with
failures.py      the one table from httpx, aiosmtplib and vendor failures to Provider* errors
registry.py      provider URL → adapter: ``register(scheme, factory)``, ``ProviderUrl``
mail/            the mail relays (``smtp://``, ...)
dns/             the DNS providers (``zonefile://``, ``cloudflare://``, ``route53://``)
"""
