"""Classifying links (verify / login / reset / confirm) from their context; never fetched.

Linear in the length of the text: at most ``MAX_LINKS`` links per part are looked at,
each with at most ``CONTEXT_CHARS`` of text before it (its line, the lines above).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from .alternations import any_of
from .html_text import Rendered
from .models import Link
from .textnorm import find_urls

KIND_ORDER = ("reset", "login", "verify", "confirm")
MAX_LINKS = 100  # link occurrences per part: past that, a newsletter, not a verification
CONTEXT_CHARS = 500  # text before a link (or of an anchor) that can name its action

# (searched for only: compiled with any_of, alternatives grouped by first character)
_CTX_KIND_RE: dict[str, re.Pattern[str]] = {
    "reset": any_of(
        r"reset|forgot|new password|choose a (?:new )?password|(?:set|create|change) (?:a |your )?"
        r"(?:new )?password|passwor[dt] (?:zurücksetzen|vergessen)|neues passwort|restablecer"
        r"|nueva contraseña|réinitialis|nouveau mot de passe|redefinir|nova senha|reimposta"
        r"|nuova password|wachtwoord (?:opnieuw|herstellen|resetten|wijzigen)|nieuw wachtwoord"
        r"|zresetuj|resetuj|nowe hasło|şifre(?:ni|nizi)? (?:sıfırla|yenile)|сброс|сбросить"
        r"|восстановить пароль|новый пароль|скинути пароль|новий пароль|重置密码|重设密码|找回密码"
        r"|パスワード(?:の)?再設定|パスワードリセット|비밀번호 재설정|إعادة تعيين|كلمة مرور جديدة"
        r"|पासवर्ड रीसेट|atur ulang kata sandi|reset kata sandi|đặt lại mật khẩu|mot de passe"
    ),
    "login": any_of(
        r"sign[- ]?in(?!g)|log[- ]?in(?!g)|magic link|\bmagic\b|anmelden|einloggen"
        r"|iniciar sesi[oó]n|inicia sesi[oó]n|acceder|\bentrar\b|se connecter|vous connecter"
        r"|connexion|accedi"
        r"|\baccesso\b|inloggen|zaloguj|giriş yap|войти|вход\b|увійти|вхід|登录|登入|ログイン"
        r"|로그인|تسجيل الدخول|لتسجيل الدخول|लॉग इन|\bmasuk\b|đăng nhập"
    ),
    "verify": any_of(
        r"verif|validat|activat|aktivier|activar|activer|attiva|ativar|activeren|aktywuj|doğrula"
        r"|подтверд|активир|підтверд|验证|驗證|激活|認証|有効化|인증|تحقق|تفعيل|सत्यापि"
        r"|verifikasi|aktifkan|xác minh|xác thực|kích hoạt"
    ),
    "confirm": any_of(
        r"confirm|bestätig|conferm|bevestig|potwierd|onayla|確認|확인|تأكيد|पुष्टि|konfirmasi"
        r"|xác nhận"
    ),
}
_URL_KIND_RE: dict[str, re.Pattern[str]] = {
    "reset": any_of(r"reset|forgot|recover|passwor|mot-de-passe|senha|contrase"),
    "login": any_of(r"login|log-in|signin|sign-in|sign_in|magic|/auth\b|/sso\b"),
    "verify": any_of(r"verif|validat|activat"),
    "confirm": any_of(r"confirm|bestaetig|bestätig"),
}
_NEG_CTX_RE = any_of(
    r"unsubscri|opt[- ]?out|preferences|notification settings|privacy|terms|legal|\bhelp\b"
    r"|support|\bfaq\b|contact us|\bblog\b|community|facebook|twitter|instagram|linkedin"
    r"|youtube|tiktok|follow us|impressum|datenschutz|\bagb\b|abmelden|abbestellen|\bbaja\b"
    r"|cancelar (?:la )?suscripci|d[ée]sinscri|d[ée]sabonner|confidentialit|disiscriv|afmelden"
    r"|uitschrijven|wypisz|abonelik|отписат|отписк|конфиденциальн|відписат|退订|取消订阅|隐私"
    r"|帮助|配信停止|プライバシー|ヘルプ|수신 ?거부|개인정보|도움말|إلغاء الاشتراك|الخصوصية"
    r"|مساعدة|सदस्यता|berhenti berlangganan|hủy đăng ký|\block\b|sperren|bloquear|bloquer"
    r"|not you|wasn'?t you|wasn'?t me|not me|didn'?t (?:try|request|ask|make)|remove|report"
    r"|\btrack|sendung verfolgen|acompanh|seguimiento|\border|invoice|download|\bpdf\b"
    r"|view (?:in|on) (?:your )?browser|web version|app store|google play|\bshop\b|promo"
    r"|\boffer|ofertas|за покупками"
)
_NEG_URL_RE = any_of(
    r"unsub|optout|opt-out|preference|privacy|/terms|legal|/help|help\.|/support|support\."
    r"|/faq|/blog|community|social|facebook|twitter|instagram|linkedin|youtube|tiktok|/lock"
    r"|remove|/report|/track|tracking|tracknum|/orders?\b|invoice|\.pdf|/promo|/events?/"
    r"|download|apps\.apple|play\.google|/impressum|/datenschutz|/newsletter|/baja"
)
# possessive "\s*+": a long run of spaces cannot be split between the two (quadratic)
_GENERIC_RE = re.compile(
    r"^(?:click|tap|press|open|follow|visit)?\s*+(?:here|this link|the link|link|the button"
    r"|button|below|hier|aquí|aqui|ici|qui|здесь|тут|这里|此处|点击这里|こちら|여기|هنا|यहाँ"
    r"|di sini|tại đây)?\s*+[:.!»>→]*+$"
)
_BREAK_RE = re.compile(r"[.!?。！？](?:\s|$)")
_B64_RE = re.compile(r"^[A-Za-z0-9_\-]{16,}+={0,2}$")
_LETTERS_RE = re.compile(r"[A-Za-z_\-]+")
_SKIP_PARAMS = frozenset({"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"})


@dataclass(frozen=True, slots=True)
class _Occurrence:
    url: str
    primary: str
    paragraph: str
    after: str = ""


def _token_strength(s: str) -> float:
    s = s.strip()
    if len(s) < 4:
        return 0.0
    has_d = any(c.isdigit() for c in s)
    has_a = any(c.isalpha() for c in s)
    if has_d and has_a:
        return 1.0 if len(s) >= 8 else (0.7 if len(s) >= 6 else 0.0)
    if has_d and s.isdigit():
        return 0.5
    if len(s) >= 20 and _LETTERS_RE.fullmatch(s):
        return 0.6
    return 0.0


@dataclass(frozen=True, slots=True)
class _Url:
    """What a link's URL says by itself (worked out once per URL)."""

    host: str
    kinds: dict[str, float]  # actions named in the path and query
    payload: float  # how much it carries a token


def _url(url: str, excluded: frozenset[str]) -> _Url | None:
    """None when the URL is never offered (excluded, not http(s), no host, help pages...)."""
    if url in excluded or ("://" in url and not url.lower().startswith(("http://", "https://"))):
        return None
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if not host or host.startswith(("help.", "support.", "community.")):
        return None
    query = parse_qsl(parts.query, keep_blank_values=False)
    # lower-cased path and query, plus any redirect target (percent- or base64-encoded)
    chunks = [unquote(parts.path), unquote(parts.query)]
    for _, value in query:
        if value.startswith(("http://", "https://")):
            continue  # already in the unquoted query
        if _B64_RE.match(value):
            try:
                raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            except (binascii.Error, ValueError):
                continue
            if raw.startswith((b"http://", b"https://")):
                chunks.append(raw.decode("utf-8", "replace"))
    targets = " ".join(chunks).lower()
    if _NEG_URL_RE.search(targets):
        return None
    payload = 0.0
    for seg in parts.path.split("/"):
        payload = max(payload, _token_strength(seg))
    for key, value in query:
        if key.lower() not in _SKIP_PARAMS:
            payload = max(payload, _token_strength(value))
    kinds = {kind: 1.5 for kind in KIND_ORDER if _URL_KIND_RE[kind].search(targets)}
    return _Url(host, kinds, payload)


def _kinds(text: str, weight: float, into: dict[str, float]) -> None:
    for kind in KIND_ORDER:
        if _CTX_KIND_RE[kind].search(text):
            into[kind] = max(into.get(kind, 0.0), weight)


def subject_kind(subject: str) -> bool:
    """Does the subject line name a verify/login/reset/confirm action?"""
    low = subject.lower()
    return any(_CTX_KIND_RE[kind].search(low) for kind in KIND_ORDER)


def _last_sentence(text: str) -> str:
    text = text.strip()
    ends = [m.end() for m in _BREAK_RE.finditer(text)]
    return text[ends[-1] :] if ends else text


def _score(occ: _Occurrence, url: _Url) -> tuple[float, str] | None:
    primary = occ.primary.strip().lower()
    if _NEG_CTX_RE.search(primary):
        return None
    ctx: dict[str, float] = {}
    _kinds(primary, 3.0, ctx)
    generic = not ctx and (
        not primary
        or primary.startswith(("http", "www."))
        or url.host in primary
        or bool(_GENERIC_RE.match(primary))
    )
    if generic and occ.paragraph:
        paragraph = occ.paragraph.lower()
        after = occ.after.lower()
        last = _last_sentence(paragraph) + " " + after
        if _NEG_CTX_RE.search(last):
            return None
        _kinds(paragraph + " " + after, 1.5, ctx)
        _kinds(last, 2.0, ctx)
    if not ctx or url.payload <= 0:
        return None
    url_kinds = url.kinds
    combined = {k: ctx.get(k, 0.0) + url_kinds.get(k, 0.0) for k in KIND_ORDER}
    kind = max(KIND_ORDER, key=lambda k: (combined[k], -KIND_ORDER.index(k)))
    score = max(ctx.values()) + max(url_kinds.values(), default=0.0) + url.payload
    return score, kind


def _paragraph_before(text: str, pos: int, max_lines: int = 3) -> str:
    """Up to ``max_lines`` lines before ``pos`` (stopping at a blank line) plus the line prefix,
    within ``CONTEXT_CHARS`` before ``pos``."""
    floor = max(0, pos - CONTEXT_CHARS)
    if floor:
        text, pos = text[floor:pos], pos - floor
    ls = text.rfind("\n", 0, pos) + 1
    lines: list[str] = []
    cur = ls - 1
    while cur > 0 and len(lines) < max_lines:
        pls = text.rfind("\n", 0, cur) + 1
        line = text[pls:cur].strip()
        if not line:
            if lines:
                break
        else:
            lines.append(line)
        cur = pls - 1
    lines.reverse()
    prefix = text[ls:pos].strip()
    return " ".join([*lines, prefix]).strip()


def _rest(text: str, end: int) -> str:
    """The rest of the sentence after ``end`` on the same line (at most 80 characters)."""
    le = text.find("\n", end, end + 80)
    rest = text[end : (min(len(text), end + 80) if le < 0 else le)]
    m = _BREAK_RE.search(rest)
    return rest[: m.start()] if m else rest


def text_occurrences(text: str) -> list[_Occurrence]:
    out: list[_Occurrence] = []
    for start, end, url in find_urls(text)[:MAX_LINKS]:
        floor = max(0, start - CONTEXT_CHARS)
        ls = max(floor, text.rfind("\n", floor, start) + 1)
        rest = _rest(text, end)
        # text after the URL on its line can name the action too ("tap URL to verify")
        primary = (text[ls:start] + " " + rest).strip() if rest.strip() else text[ls:start]
        out.append(_Occurrence(url, primary, _paragraph_before(text, start)))
    return out


def html_occurrences(rendered: Rendered) -> list[_Occurrence]:
    out: list[_Occurrence] = []
    text = rendered.text
    for a in rendered.anchors:
        href = a.href
        if not href.lower().startswith(("http://", "https://")):
            continue
        if len(out) == MAX_LINKS:
            break
        primary = text[a.start : min(a.end, a.start + CONTEXT_CHARS)]
        out.append(
            _Occurrence(href, primary, _paragraph_before(text, a.start, 2), _rest(text, a.end))
        )
    return out


def classify(occurrences: list[_Occurrence], excluded: frozenset[str]) -> list[Link]:
    best: dict[str, tuple[float, str]] = {}
    urls: dict[str, _Url | None] = {}
    for occ in occurrences:
        if occ.url not in urls:
            urls[occ.url] = _url(occ.url, excluded)
        url = urls[occ.url]
        res = _score(occ, url) if url is not None else None
        if res is None:
            continue
        prev = best.get(occ.url)
        if prev is None or res[0] > prev[0]:
            best[occ.url] = res
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
    return [
        Link(url, kind, round(min(0.99, max(0.05, score / 6.5)), 3))
        for url, (score, kind) in ranked
    ]
