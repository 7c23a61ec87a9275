"""The words that say what a link does (verify, log in, reset, confirm) and where it does
not lead to an action (help, docs, support, privacy, terms, unsubscribe...).

Context patterns are written as people write them and matched on text folded like them
(``accents.fold``: "Vérifier" and "Verifier" read alike). Button texts inflect and take
particles: "パスワードを再設定する", "비밀번호를 재설정", "zweryfikuj", "подтверждения".
"""

from __future__ import annotations

import re

from .accents import fold
from .alternations import any_of


def _folded(pattern: str) -> re.Pattern[str]:
    """``pattern`` searched for in folded text (compiled with ``any_of``)."""
    return any_of(fold(pattern))


KIND_ORDER = ("reset", "login", "verify", "confirm")

CTX_KIND_RE: dict[str, re.Pattern[str]] = {
    "reset": _folded(
        r"reset|forgot|new password|choose a (?:new )?password|(?:set|create|change) (?:a |your )?"
        r"(?:new )?password|passwor[dt] (?:zurücksetzen|vergessen|ändern|neu setzen)"
        r"|neues passwort|restablecer|nueva contraseña|réinitialis|nouveau mot de passe"
        r"|redefinir|nova senha|reimposta|nuova password"
        r"|wachtwoord (?:opnieuw|herstellen|resetten|wijzigen)|nieuw wachtwoord"
        r"|zresetuj|resetuj|nowe hasło|ustaw hasło|zmień hasło|şifre\w* (?:sıfırla|yenile)|sıfırla"
        r"|сброс|сбросить|восстановить пароль|восстановлени\w* пароля|новый пароль"
        r"|сменить пароль|изменить пароль|скинути пароль|скидання пароля|змінити пароль"
        r"|відновити пароль|новий пароль|重置密码|重设密码|找回密码|重新设置密码|修改密码"
        r"|パスワード[のをが]?(?:再設定|リセット|再発行|変更)|비밀번호 ?[을를]? ?(?:재설정|변경)"
        r"|إعادة تعيين|كلمة مرور جديدة|पासवर्ड रीसेट|atur ulang kata sandi|reset kata sandi"
        r"|đặt lại mật khẩu|mot de passe"
    ),
    "login": _folded(
        r"sign[- ]?in(?!g)|log[- ]?in(?!g)|magic link|\bmagic\b|anmelden|einloggen"
        r"|iniciar sesi[oó]n|inicia sesi[oó]n|acceder|\bentrar\b|se connecter|vous connecter"
        r"|connexion|accedi|\baccesso\b|inloggen|zaloguj|giriş yap|войти|вход\b|увійти|вхід"
        r"|登录|登入|ログイン|로그인|تسجيل الدخول|لتسجيل الدخول|लॉग इन|\bmasuk\b|đăng nhập"
    ),
    "verify": _folded(
        r"verif|validat|activat|aktivier|activar|activer|attiva|ativar|activeren|aktywuj"
        r"|weryfik|doğrula|подтверд|подтвержд|активир|активац|підтверд|активув|验证|驗證|激活"
        r"|認証|有効化|인증|تحقق|تفعيل|सत्यापि|सत्यापन|verifikasi|aktifkan|xác minh|xác thực"
        r"|kích hoạt"
    ),
    "confirm": _folded(
        r"confirm|bestätig|conferm|bevestig|potwierd|onayla|確認|确认|확인|تأكيد|पुष्टि|konfirmasi"
        r"|xác nhận"
    ),
}
# a word of any kind (what matches one of the above matches this, at the same place)
ANY_KIND_RE = any_of("|".join(rx.pattern for rx in CTX_KIND_RE.values()))
URL_KIND_RE: dict[str, re.Pattern[str]] = {
    "reset": any_of(r"reset|forgot|recover|passwor|mot-de-passe|senha|contrase|restablecer"),
    "login": any_of(r"login|log-in|signin|sign-in|sign_in|magic|/auth\b|/sso\b"),
    "verify": any_of(r"verif|validat|activat|aktivier|ativa|attiva|weryfik|dogrula"),
    "confirm": any_of(r"confirm|bestaetig|bestätig|conferm|bevestig|potwierdz|onayla|xacnhan"),
}
# links that lead to no action: help, docs, support, legal, unsubscribe, social, shopping
NEG_CTX_RE = _folded(
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
    # help and documentation, in every language
    r"|learn (?:more|about|how)|read (?:more|how|about)|more info|find out|how to"
    r"|documentation|\bdocs\b|\barticle|help cent|hilfe|mehr erfahren|en savoir plus"
    r"|centre d'aide|\baide\b|más información|centro de ayuda|\bayuda\b|saiba mais"
    r"|central de ajuda|\bajuda\b|scopri di più|\baiuto\b|meer informatie|\bhulp\b"
    r"|dowiedz się|\bpomoc\b|daha fazla|yardım|подробнее|помощь|справк|допомог|докладніше"
    r"|了解更多|详情|詳細|자세히|도움|اعرف المزيد|सहायता|और जानें|pelajari|bantuan|tìm hiểu"
    r"|trợ giúp|regulamin|condiciones|conditions|termini|voorwaarden|warunki|koşullar"
    r"|условия|умови|条款|利用規約|약관|الشروط|शर्तें|syarat|điều khoản|privacidad"
    r"|privacidade|prywatno|gizlilik|политик|політик"
)
NEG_URL_RE = any_of(
    r"unsub|optout|opt-out|preference|privacy|/terms|legal|/help|help\.|/support|support\."
    r"|/faq|/blog|community|social|facebook|twitter|instagram|linkedin|youtube|tiktok|/lock"
    r"|remove|/report|/track|tracking|tracknum|/orders?\b|invoice|\.pdf|/promo|/events?/"
    r"|download|apps\.apple|play\.google|/impressum|/datenschutz|/newsletter|/baja"
    r"|/docs?/|/articles?/|/hc/|/kb/|/knowledge|/guides?/|/hilfe|/ayuda|/aide\b|/ajuda"
    r"|/aiuto|/hulp|/pomoc|/yardim|/bantuan|/tro-giup|/tos\b|/polic|/cookie|/regulamin"
    r"|/privacidad|/privacidade|/confidentialite|/agb\b|/learn-more"
)
# hosts that serve help, docs and status pages
NEG_HOSTS = (
    "help.", "support.", "community.", "docs.", "doc.", "developer.", "developers.", "learn.",
    "kb.", "faq.", "status.", "blog.", "hilfe.", "ayuda.", "aide.", "ajuda.", "aiuto.",
    "hulp.", "pomoc.", "yardim.", "bantuan.",
)  # fmt: skip
# possessive "\s*+": a long run of spaces cannot be split between the two (quadratic)
GENERIC_RE = re.compile(
    fold(
        r"^(?:click|tap|press|open|follow|visit)?\s*+(?:here|this link|the link|link|the button"
        r"|button|below|hier|aquí|aqui|ici|qui|здесь|тут|这里|此处|点击这里|こちら|여기|هنا|यहाँ"
        r"|di sini|tại đây)?\s*+[:.!»>→]*+$"
    )
)
