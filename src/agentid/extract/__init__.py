"""Verification code and magic link extraction from e-mails and SMS.

>>> extract_sms("Your code is 123456").codes[0].value
'123456'
"""

from __future__ import annotations

from .extractor import extract_email
from .extractor import extract_sms
from .mime import extract_eml
from .mime import extract_message
from .models import Code
from .models import Extraction
from .models import Link

__all__ = [
    "Code",
    "Extraction",
    "Link",
    "extract_email",
    "extract_eml",
    "extract_message",
    "extract_sms",
]
