"""Classifying links (verify / login / reset / confirm) from their context; never fetched."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from .html_text import Rendered
from .models import Link
from .textnorm import find_urls

KIND_ORDER = ("reset", "login", "verify", "confirm")

_CTX_KIND_RE: dict[str, re.Pattern[str]] = {
    "reset": re.compile(
        r"reset|forgot|new password|choose a (?:new )?password|(?:set|create|change) (?:a |your )?"
        r"(?:new )?password|passwor[dt] (?:zurücksetzen|vergessen)|neues passwort|restablecer"
        r"|nueva contraseña|réinitialis|nouveau mot de passe|redefinir|nova senha|reimposta"
        r"|nuova password|wachtwoord (?:opnieuw|herstellen|resetten|wijzigen)|nieuw wachtwoord"
        r"|zresetuj|resetuj|nowe hasło|şifre(?:ni|nizi)? (?:sıfırla|yenile)|сброс|сбросить"
        r"|восстановить пароль|новый пароль|скинути пароль|новий пароль|重置密码|重设密码|找回密码"
        r"|パスワード(?:の)?再設定|パスワードリセット|비밀번호 재설정|إعادة تعيين|كلمة مرور جديدة"
        r"|पासवर्ड रीसेट|atur ulang kata sandi|reset kata sandi|đặt lại mật khẩu|mot de passe"
    ),
    "login": re.compile(
        r"sign[- ]?in(?!g)|log[- ]?in(?!g)|magic link|\bmagic\b|anmelden|einloggen"
        r"|iniciar sesi[oó]n|inicia sesi[oó]n|acceder|\bentrar\b|se connecter|vous connecter"
        r"|connexion|accedi"
        r"|\baccesso\b|inloggen|zaloguj|giriş yap|войти|вход\b|увійти|вхід|登录|登入|ログイン"
        r"|로그인|تسجيل الدخول|لتسجيل الدخول|लॉग इन|\bmasuk\b|đăng nhập"
    ),
    "verify": re.compile(
        r"verif|validat|activat|aktivier|activar|activer|attiva|ativar|activeren|aktywuj|doğrula"
        r"|подтверд|активир|підтверд|验证|驗證|激活|認証|有効化|인증|تحقق|تفعيل|सत्यापि"
        r"|verifikasi|aktifkan|xác minh|xác thực|kích hoạt"
    ),
    "confirm": re.compile(
        r"confirm|bestätig|conferm|bevestig|potwierd|onayla|確認|확인|تأكيد|पुष्टि|konfirmasi"
        r"|xác nhận"
    ),
}
_URL_KIND_RE: dict[str, re.Pattern[str]] = {
    "reset": re.compile(r"reset|forgot|recover|passwor|mot-de-passe|senha|contrase"),
    "login": re.compile(r"login|log-in|signin|sign-in|sign_in|magic|/auth\b|/sso\b"),
    "verify": re.compile(r"verif|validat|activat"),
    "confirm": re.compile(r"confirm|bestaetig|bestätig"),
}
_NEG_CTX_RE = re.compile(
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
_NEG_URL_RE = re.compile(
    r"unsub|optout|opt-out|preference|privacy|/terms|legal|/help|help\.|/support|support\."
    r"|/faq|/blog|community|social|facebook|twitter|instagram|linkedin|youtube|tiktok|/lock"
    r"|remove|/report|/track|tracking|tracknum|/orders?\b|invoice|\.pdf|/promo|/events?/"
    r"|download|apps\.apple|play\.google|/impressum|/datenschutz|/newsletter|/baja"
)
_GENERIC_RE = re.compile(
    r"^(?:click|tap|press|open|follow|visit)?\s*(?:here|this link|the link|link|the button|button"
    r"|below|hier|aquí|aqui|ici|qui|здесь|тут|这里|此处|点击这里|こちら|여기|هنا|यहाँ|di sini"
    r"|tại đây)?\s*[:.!»>→]*$"
)
_BREAK_RE = re.compile(r"[.!?。！？](?:\s|$)")
_B64_RE = re.compile(r"^[A-Za-z0-9_\-]{16,}={0,2}$")
_SKIP_PARAMS = frozenset({"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"})


@dataclass(frozen=True, slots=True)
class _Occurrence:
    url: str
    primary: str
    paragraph: str
    after: str = ""


def _decoded_targets(url: str) -> str:
    """Lower-cased path+query plus any redirect target (percent- or base64-encoded)."""
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
    except ValueError:
        return ""
    chunks = [unquote(parts.path), unquote(parts.query)]
    for _, value in parse_qsl(parts.query, keep_blank_values=False):
        if value.startswith(("http://", "https://")):
            continue  # already in the unquoted query
        if _B64_RE.match(value):
            try:
                raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            except (binascii.Error, ValueError):
                continue
            if raw.startswith((b"http://", b"https://")):
                chunks.append(raw.decode("utf-8", "replace"))
    return " ".join(chunks).lower()


def _host(url: str) -> str:
    try:
        return (urlsplit(url if "://" in url else "http://" + url).hostname or "").lower()
    except ValueError:
        return ""


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
    if len(s) >= 20 and re.fullmatch(r"[A-Za-z_\-]+", s):
        return 0.6
    return 0.0


def _payload(url: str) -> float:
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
    except ValueError:
        return 0.0
    best = 0.0
    for seg in parts.path.split("/"):
        best = max(best, _token_strength(seg))
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if key.lower() in _SKIP_PARAMS:
            continue
        best = max(best, _token_strength(value))
    return best


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


def _score(occ: _Occurrence, excluded: frozenset[str]) -> tuple[float, str] | None:
    url = occ.url
    if url in excluded or ("://" in url and not url.lower().startswith(("http://", "https://"))):
        return None
    primary = occ.primary.strip().lower()
    paragraph = occ.paragraph.lower()
    host = _host(url)
    if not host:
        return None
    if _NEG_CTX_RE.search(primary):
        return None
    targets = _decoded_targets(url)
    if _NEG_URL_RE.search(targets) or host.startswith(("help.", "support.", "community.")):
        return None
    ctx: dict[str, float] = {}
    _kinds(primary, 3.0, ctx)
    generic = not ctx and (
        not primary
        or primary.startswith(("http", "www."))
        or host in primary.lower()
        or bool(_GENERIC_RE.match(primary))
    )
    if generic and paragraph:
        last = _last_sentence(paragraph) + " " + occ.after.lower()
        if _NEG_CTX_RE.search(last):
            return None
        _kinds(paragraph + " " + occ.after.lower(), 1.5, ctx)
        _kinds(last, 2.0, ctx)
    if not ctx:
        return None
    payload = _payload(url)
    if payload <= 0:
        return None
    url_kinds: dict[str, float] = {}
    for kind in KIND_ORDER:
        if _URL_KIND_RE[kind].search(targets):
            url_kinds[kind] = 1.5
    combined = {k: ctx.get(k, 0.0) + url_kinds.get(k, 0.0) for k in KIND_ORDER}
    kind = max(KIND_ORDER, key=lambda k: (combined[k], -KIND_ORDER.index(k)))
    score = max(ctx.values()) + max(url_kinds.values(), default=0.0) + payload
    return score, kind


def _paragraph_before(text: str, pos: int, max_lines: int = 3) -> str:
    """Up to ``max_lines`` lines before ``pos`` (stopping at a blank line) plus the line prefix."""
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
    le = text.find("\n", end)
    rest = text[end : (len(text) if le < 0 else le)][:80]
    m = _BREAK_RE.search(rest)
    return rest[: m.start()] if m else rest


def text_occurrences(text: str) -> list[_Occurrence]:
    out: list[_Occurrence] = []
    for start, end, url in find_urls(text):
        ls = text.rfind("\n", 0, start) + 1
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
        primary = text[a.start : a.end]
        out.append(
            _Occurrence(href, primary, _paragraph_before(text, a.start, 2), _rest(text, a.end))
        )
    return out


def classify(occurrences: list[_Occurrence], excluded: frozenset[str]) -> list[Link]:
    best: dict[str, tuple[float, str]] = {}
    for occ in occurrences:
        res = _score(occ, excluded)
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
