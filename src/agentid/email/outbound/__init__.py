"""Sending: what happens to a message between the send route and the relay.

dkim_sign.py   DKIM-Signature (rsa-sha256, relaxed/relaxed) with the hosted domain's key
"""
