"""Verification code and magic link extraction from e-mails and SMS.

>>> extract_sms("Your code is 123456").codes[0].value
'123456'
"""

from __future__ import annotations

from .extractor import extract_email, extract_sms
from .mime import extract_eml, extract_message
from .models import Code, Extraction, Link

__all__ = [
    "Code",
    "Extraction",
    "Link",
    "extract_email",
    "extract_eml",
    "extract_message",
    "extract_sms",
]
