"""Mail relays: the ``MailRelay`` adapters sending goes through (one module per vendor).

smtp.py          ``smtp://``: an SMTP relay (a smarthost: Postfix, SES SMTP, SendGrid SMTP)
sendgrid.py      ``sendgrid://``: SendGrid's v3 Web API (the message rewritten as its JSON)
"""
