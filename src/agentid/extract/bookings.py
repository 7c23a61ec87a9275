"""Booking confirmations: their "confirmation code" is a reference, not a code to type.

A hotel, a flight or a table confirms a reservation with a "confirmation code",
"code de confirmation", "Bestätigungscode" or "確認番号": the same words a site uses for a
one-time code, but the value is a booking reference (like a PNR or an order number) that
never expires. A code label of confirmation counts as a reference when the message is
about a stay or a trip (a word of booking, reservation, check-in, nights, flight...) and
says nothing of how long the code stays valid: "Your confirmation code is 482913, it
expires in 10 minutes" stays a code wherever it is sent from.

Only the confirmation labels are affected: "verification code", "security code" and the
like are codes in any message.
"""

from __future__ import annotations

import re

from .accents import tolerant
from .alternations import any_of
from .validity import valid_for_seconds

# The word of confirmation inside a code label ("confirmation code", "Bestätigungscode",
# "código de confirmación", "確認コード"...).
CONFIRMATION_RE = re.compile(
    tolerant(
        r"confirm|bestätig|conferm|bevestig|potwierdz|onay|подтвержд|підтвердж|确认|確認|확인"
        r"|تأكيد|التأكيد|पुष्टि|konfirmasi|xác nhận"
    )
)

# Words of a stay or a trip that has been booked.
_BOOKING_RE = any_of(
    tolerant(
        r"\b(?:reservations?|booking|booked|your stay|check-?in|check-?out|nights?\b|guests?\b"
        r"|itinerary|flight|departure|arrival|hotel|room type|table for)"
        r"|r[ée]servation|s[ée]jour|\bnuits?\b|arriv[ée]e|d[ée]part|\bvol\b|h[ôo]tel"
        r"|buchung|gebucht|reservierung|anreise|abreise|nächte|übernachtung|\bflug\b"
        r"|reserva|estancia|estadia|noches|noites|llegada|chegada|salida|vuelo|\bvoo\b"
        r"|huéspedes|hóspedes|prenotazion|soggiorno|\bnotti\b|arrivo|partenza|\bvolo\b"
        r"|reservering|boeking|verblijf|nachten|aankomst|vertrek|vlucht"
        r"|rezerwacj|pobyt|przyjazd|wylot|rezervasyon|konaklama|giriş tarihi|uçuş"
        r"|бронировани|заезд|выезд|проживани|рейс|бронювання|заїзд"
        r"|预订|预定|入住|退房|酒店|航班|予約|宿泊|チェックイン|ご搭乗|예약|숙박|체크인|항공편"
        r"|حجز|الحجز|الإقامة|تسجيل الوصول|رحلة|बुकिंग|होटल|चेक-इन|उड़ान"
        r"|pemesanan|reservasi|menginap|penerbangan|đặt phòng|khách sạn|nhận phòng|chuyến bay"
    )
)


def is_booking(low: str) -> bool:
    """Is the lower-cased message ``low`` a booking's confirmation, whose confirmation
    code is a reference: about a stay or a trip, and silent on any code's validity?"""
    return _BOOKING_RE.search(low) is not None and valid_for_seconds(low) is None


def names_confirmation(label: str) -> bool:
    """Is the (lower-cased) code label ``label`` one of confirmation?"""
    return CONFIRMATION_RE.search(label) is not None
