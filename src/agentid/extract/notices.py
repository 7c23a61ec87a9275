"""Notices that a second factor was turned on, off or changed: they hold no code to type.

"Two-factor authentication was enabled", "2段階認証が有効になりました", "Has activado la
verificación en dos pasos": such a message talks about codes (the ones to come, backup
codes, the phone they go to) but gives none to type now. A second-factor term with a
word of a change that happened (a past participle, "is now on"; not an imperative such
as "turn on 2FA") close before or after it makes the message such a notice.

Linear: one search for the terms, a bounded window around each of the first few.
"""

from __future__ import annotations

import re

from .accents import tolerant
from .alternations import any_of

MAX_TERMS = 8
_BEFORE = 40
_AFTER = 80

_TERM_RE = any_of(
    tolerant(
        r"two[- ]factor|two[- ]step|2[- ]step|multi[- ]factor|2fa|\bmfa\b|second factor"
        r"|authenticator app|security key|passkey|zwei-?faktor|2-faktor|zweistufig|zwei-schritt"
        r"|dos pasos|dos factores|2 pasos|double authentification|deux facteurs|deux étapes"
        r"|double facteur|duas etapas|dois fatores|2 etapas|due fattori|due passaggi"
        r"|doppia autenticazione|tweestaps|twee-?factor|dwuetapow|dwuskładnikow|iki adımlı"
        r"|iki faktörlü|двухфакторн|двухэтапн|двоетапн|двофакторн|两步验证|双重验证|双因素"
        r"|兩步驟|2段階認証|二段階認証|2단계 ?인증|المصادقة الثنائية|التحقق بخطوتين|दो-चरणीय"
        r"|दो चरण|verifikasi 2 langkah|verifikasi dua langkah|autentikasi dua faktor"
        r"|xác minh 2 bước|xác thực hai yếu tố|xác minh hai bước|xác thực 2 bước"
    )
)
_PARTICIPLES = r"enabled|turned (?:on|off)|activated|disabled|deactivated|removed|changed|added"
# "... enabled" right after the term: a headline ("Two-factor authentication enabled")
_HEADLINE_RE = re.compile(rf"[\s:]{{0,4}}?\b(?:{_PARTICIPLES}|(?:is|are) (?:now )?on)\b")
# "Two-factor authentication (2FA)": what follows the term before the headline's verb
_TERM_TAIL_RE = re.compile(r"(?: authentication| verification| auth| login)?(?: \((?:2fa|mfa)\))?")
# "since you have 2FA enabled": a state, not a headline
_STATE_BEFORE_RE = re.compile(r"\b(?:have|has|had|with|keep|got)\s++(?:(?:your|the)\s++)?$")
# English: an event, not a state ("since you have 2FA enabled, enter the code" is a state)
_CHANGED_RE = re.compile(
    tolerant(
        r"\b(?:was|were|has been|have been|you(?:'ve| have)?|successfully|just)\s+"
        rf"(?:{_PARTICIPLES}|set up)\b|\b(?:is|are) now (?:on|off|active|enabled|disabled)\b"
        r"|\b(?:aktiviert|eingeschaltet|deaktiviert|ausgeschaltet|geändert|eingerichtet"
        r"|activad[ao]s?|desactivad[ao]s?|cambiad[ao]s?|configurad[ao]s?|has activado"
        r"|activ[ée]e?s?|désactiv[ée]e?s?|modifi[ée]e?s?|ativad[ao]s?|desativad[ao]s?"
        r"|alterad[ao]s?|attivat[ao]|disattivat[ao]|modificat[ao]|ingeschakeld|uitgeschakeld"
        r"|geactiveerd|gewijzigd|włączon\w*|wyłączon\w*|zmienion\w*|etkinleştiril\w*"
        r"|devre dışı|değiştiril\w*|включен\w*|включён\w*|отключен\w*|изменен\w*"
        r"|подключен\w*|увімкнен\w*|вимкнен\w*|змінен\w*|diaktifkan|dinonaktifkan|diubah)\b"
        r"|已[^，。,.]{0,24}?(?:开启|启用|关闭)|已开启|已启用|已关闭|已停用|已更改|已设置|开启了|启用了|有効になりました|有効化されました"
        r"|無効になりました|変更されました|설정되었|활성화되었|해제되었|변경되었|تم تفعيل|تم تعطيل"
        r"|تم تغيير|चालू कर दिया|चालू किया|बंद कर दिया|सक्षम किया|đã được bật|đã bật|đã tắt"
        r"|đã thay đổi"
    )
)


def second_factor_notice(low: str) -> bool:
    """Does the lower-cased message ``low`` tell that a second factor was turned on, off
    or changed?"""
    for k, m in enumerate(_TERM_RE.finditer(low)):
        if k == MAX_TERMS:
            break
        tail = _TERM_TAIL_RE.match(low, m.end())
        end = tail.end() if tail else m.end()
        headline = _HEADLINE_RE.match(low, end) and not _STATE_BEFORE_RE.search(
            low, max(0, m.start() - 16), m.start()
        )
        if headline or _CHANGED_RE.search(low, max(0, m.start() - _BEFORE), m.end() + _AFTER):
            return True
    return False
