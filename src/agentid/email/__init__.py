"""Email: hosted domains, aliases, receiving over SMTP, the inbox."""
