"""Receiving: the SMTP listener, durable group commit, parsing and extraction."""
