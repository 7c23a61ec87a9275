"""What issue 9 asked the extractor to generalize to, one behaviour at a time."""

from __future__ import annotations

import pickle

import pytest

from agentid.extract import Code
from agentid.extract import Extraction
from agentid.extract import extract_email
from agentid.extract import extract_sms
from agentid.extract.accents import fold
from agentid.extract.accents import tolerant
from agentid.extract.masked import masked_spans

from .test_formats import top

# --- keywords without their diacritics (GSM-7): cases in test_formats.test_code_formats


def test_short_words_keep_their_accents() -> None:
    # "mã" (code) stripped is "ma" (Polish "has"); "thẻ" (card) is "the"
    assert tolerant("\\bmã\\b") == "\\bmã\\b"
    assert extract_sms("Zamowienie ma numer 558812 i wysylke jutro.").codes == ()
    assert top(extract_sms("Enter the code 448120 on the next page")) == "448120"


def test_fold() -> None:
    assert fold("vérifiez votre adresse, straße, łódź, đăng nhập") == (
        "verifiez votre adresse, strasse, lodz, dang nhap"
    )


# --- the sentence between keyword and code ----------------------------------------------


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (
            "Le code de validation du paiement de 1 249,00 EUR chez MAISON DUPONT S.A.S. avec la "
            "carte se terminant par 0918 est le 66120473",
            "66120473",
        ),
        (
            "Your one-time passcode for the purchase of USD 89.99 at ACME CO. INC. with card "
            "ending 4242 on 12/03/2025 is 55102938.",
            "55102938",
        ),
        (
            "Ihre mobileTAN für die Zahlung von 49,00 EUR an Otto GmbH & Co. KG am 12.03.2025 "
            "lautet 330198.",
            "330198",
        ),
        ("Konto DE12 **** **** **** 7781, Ihre TAN lautet 40951362", "40951362"),
    ],
)
def test_bank_sentences(body: str, value: str) -> None:
    ex = extract_sms(body)
    assert [c.value for c in ex.codes] == [value]


def test_far_code_in_ordinary_prose_is_not_taken() -> None:
    body = (
        "We changed how verification works for your team last spring, and after many "
        "conversations with customers around the world about their needs we decided that "
        "the best plan for everyone in the company is number 558120."
    )
    assert extract_sms(body).codes == ()


def test_abbreviations_do_not_end_the_sentence() -> None:
    body = "Code for your order at SHOP S.A. and Co. KG is 771920"
    assert top(extract_sms(body)) == "771920"


# --- masked numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "masked",
    [
        "****1234", "*4471", "XX1234", "xx1234", "010-****-5678", "DE12 **** **** **** 7781",
        "1234 **** **** 5678", "+1 (***) ***-8812", "138****5521", "•••• 4242", "06 ** ** ** 18",
        "NL** **** **** **12 34",
    ],
)  # fmt: skip
def test_masked_numbers_are_never_codes(masked: str) -> None:
    body = f"Your verification code was sent to {masked}. Your code is 601552."
    ex = extract_sms(body)
    assert [c.value for c in ex.codes] == ["601552"], masked
    assert masked_spans(masked) and masked_spans(masked)[0][1] >= len(masked.rstrip(". ")) - 1
    notice = f"인증번호는 등록된 휴대전화({masked})로 전송됩니다."
    assert extract_sms(notice).codes == (), masked


def test_a_bullet_is_not_a_mask() -> None:
    assert top(extract_sms("Your verification code:\n* 482913")) == "482913"


# --- messages about codes that hold none ----------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Two-factor authentication is now on for your account. Backup code: 4471-2291.",
        "2-step verification was turned on. If you lose your phone, use code 7H3K-2M9P.",
        "Die Zwei-Faktor-Authentifizierung wurde aktiviert. Kundennummer 40021877.",
        "Has activado la verificación en dos pasos. Código de respaldo: 88120394",
        "二段階認証が有効になりました。バックアップコード：48213907",
    ],
)
def test_second_factor_notices_report_no_code(body: str) -> None:
    assert extract_sms(body).codes == ()


def test_a_code_is_still_a_code_when_2fa_is_mentioned() -> None:
    body = "Since you have two-factor authentication enabled, enter the code 551903 to sign in."
    assert top(extract_sms(body)) == "551903"
    assert top(extract_sms("Your 2FA verification code is 661204")) == "661204"


def test_recovery_code_lists_report_no_code() -> None:
    body = "Your recovery codes:\n\n  a1b2c-3d4e5\n  f6g7h-8i9j0\n  k1l2m-3n4o5\n  p6q7r-8s9t0\n"
    assert extract_sms(body).codes == ()
    numbered = "Backup codes\n1. 8204 1937\n2. 5520 8814\n3. 3391 0275\n"
    assert extract_email(subject="Backup codes", text=numbered).codes == ()


def test_account_recovery_code_to_type_is_a_code() -> None:
    assert top(extract_sms("123456 is your account recovery code")) == "123456"


# --- a message that is only a code ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "value"), [("2715", "2715"), ("G-830829", "830829"), (" 402 913 \n", "402913")]
)
def test_a_message_that_is_only_a_code(body: str, value: str) -> None:
    assert top(extract_sms(body)) == value
    assert top(extract_email(subject="Your code", text=body)) == value


# --- links ------------------------------------------------------------------------------


def _link(html: str, subject: str = "Account") -> tuple[str, str] | None:
    ex = extract_email(subject=subject, html=html)
    return (ex.links[0].url, ex.links[0].kind) if ex.links else None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("パスワードを再設定する", "reset"),
        ("メールアドレスを確認する", "confirm"),
        ("비밀번호를 재설정하기", "reset"),
        ("Vérifier mon adresse", "verify"),
        ("Zweryfikuj adres e-mail", "verify"),
        ("Подтверждение почты", "verify"),
        ("Змінити пароль", "reset"),
        ("E-posta adresimi doğrula", "verify"),
        ("Xác nhận email", "confirm"),
        ("Entrar na conta", "login"),
        # one button of each kind in every language the extractor knows
        ("Verify email address", "verify"),
        ("E-Mail-Adresse bestätigen", "confirm"),
        ("Verificar correo", "verify"),
        ("Réinitialiser le mot de passe", "reset"),
        ("Redefinir senha", "reset"),
        ("Reimposta la password", "reset"),
        ("Wachtwoord opnieuw instellen", "reset"),
        ("Zaloguj się", "login"),
        ("Şifremi sıfırla", "reset"),
        ("Войти в аккаунт", "login"),
        ("Підтвердити пошту", "verify"),
        ("确认邮箱", "confirm"),
        ("验证邮箱", "verify"),
        ("ログインする", "login"),
        ("이메일 인증하기", "verify"),
        ("تأكيد البريد", "confirm"),
        ("ईमेल सत्यापित करें", "verify"),
        ("Atur ulang kata sandi", "reset"),
        ("Đăng nhập", "login"),
        ("Iniciar sesión", "login"),
        ("Se connecter", "login"),
    ],
)
def test_link_kind_from_button_text(text: str, kind: str) -> None:
    url = "https://acct.example/a/Xk29dLq7PzR4vN8s"
    html = f"<p>Hello,</p><p><a href='{url}'>{text}</a></p><p>This link expires in 1 hour.</p>"
    assert _link(html) == (url, kind)


@pytest.mark.parametrize(
    "href",
    [
        "https://docs.acct.example/articles/verify-your-email",
        "https://acct.example/help/verify-email",
        "https://support.acct.example/hc/en-us/articles/1234-verify",
        "https://acct.example/legal/privacy?v=Xk29dLq7",
        "https://acct.example/unsubscribe?u=Xk29dLq7PzR4",
    ],
)
def test_help_and_legal_links_are_never_actions(href: str) -> None:
    html = (
        "<p>Verify your email address. This link expires in 24 hours.</p>"
        f"<p><a href='{href}'>Learn more about verifying your email</a></p>"
    )
    assert _link(html, "Verify your email") is None


# --- how long it is valid ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "seconds"),
    [
        ("Your code is 482913. It expires in 10 minutes.", 600),
        ("Ihr Code lautet 482913 und ist 15 Minuten gültig.", 900),
        ("認証コード：482913（有効期限は30分です）", 1800),
        ("验证码482913，5分钟内有效。", 300),
        ("인증번호 [482913] 3분 이내에 입력해 주세요. 3분 후 만료됩니다.", 180),
        ("Tu código es 482913. Caduca en 1 hora.", 3600),
        ("Votre code : 482913. Il est valable 24 heures.", 86400),
        ("Ваш код 482913. Код действителен 5 минут.", 300),
        ("Kod weryfikacyjny: 482913. Kod wazny przez 2 godziny.", 7200),
        ("Your code is 482913. It is valid for an hour.", 3600),
        ("رمز التحقق 482913 صالح لمدة 10 دقائق", 600),
        ("Kode OTP 482913 berlaku 5 menit.", 300),
        ("Your code is 482913, enter it within 2 minutes.", 120),
        ("Your code is 482913.", None),
        ("Your TAN 482913 is valid until 14:32.", None),
    ],
)
def test_validity(body: str, seconds: int | None) -> None:
    ex = extract_sms(body)
    assert top(ex) == "482913"
    assert ex.valid_for_seconds == seconds
    for d in ex.as_dict()["codes"]:
        assert d.get("valid_for_seconds") == seconds


def test_validity_of_a_link() -> None:
    html = (
        "<p>Click below to sign in.</p><p><a href='https://app.example/magic/Xk29dLq7PzR4'>"
        "Sign in</a></p><p>The link is valid for 15 minutes and works once.</p>"
    )
    ex = extract_email(subject="Your sign-in link", html=html)
    assert ex.links and ex.valid_for_seconds == 900
    assert ex.as_dict()["links"][0]["valid_for_seconds"] == 900


# --- the result's shape -----------------------------------------------------------------


def test_extraction_pickles_with_its_new_fields() -> None:
    ex = Extraction((Code("1", "1", 0.4, "sms"), Code("2", "2", 0.4, "sms")), (), 2, 300)
    assert pickle.loads(pickle.dumps(ex)) == ex
    assert (ex.status, ex.candidates) == ("ambiguous", ex.codes)
    assert Extraction().status == "none"
