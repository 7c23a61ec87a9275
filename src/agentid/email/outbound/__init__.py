"""dkim_sign.py   DKIM-Signature (rsa-sha256, relaxed/relaxed) with the hosted domain's key"""
