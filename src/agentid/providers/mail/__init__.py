"""Mail relays: the ``MailRelay`` adapters sending goes through (one module per vendor).

smtp.py          ``smtp://``: an SMTP relay (a smarthost: Postfix, SES SMTP, SendGrid SMTP)
sendgrid.py      ``sendgrid://``: SendGrid's v3 Web API (the message rewritten as its JSON)
ses.py           ``ses://``: Amazon SES's v2 API (SendEmail with raw content), through boto3
"""
