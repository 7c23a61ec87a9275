"""Unit tests: code formats, links, HTML handling and the classes that must not be reported."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage

import pytest

from agentid.extract import Code
from agentid.extract import Extraction
from agentid.extract import Link
from agentid.extract import extract_email
from agentid.extract import extract_eml
from agentid.extract import extract_message
from agentid.extract import extract_sms


def top(ex: Extraction) -> str | None:
    return ex.codes[0].value if ex.codes else None


# --- positive formats, several languages -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ("Your verification code is 123456.", "123456"),
        ("Use 0042 to log in. Your code expires in 10 minutes.", "0042"),
        ("Tu código de seguridad: 731-209", "731209"),
        ("Votre code d'accès : 48 19 27", "481927"),
        ("Dein Anmeldecode lautet 5512 9034", "55129034"),
        ("Il tuo codice di verifica è 66120", "66120"),
        ("O seu código de verificação é 481920", "481920"),
        ("Seu código de acesso: 55 21 90", "552190"),
        ("Uw verificatiecode is 907312", "907312"),
        ("Twój kod weryfikacyjny to 445102", "445102"),
        ("Doğrulama kodunuz: 318804", "318804"),
        ("Ваш код подтверждения 5510", "5510"),
        ("Ваш код для входу: 771 204", "771204"),
        ("您的验证码是660213，10分钟内有效。", "660213"),
        ("認証コード：771920（5分間有効）", "771920"),
        ("[테스트] 인증번호 [402981]를 입력해 주세요.", "402981"),
        ("رمز التحقق الخاص بك هو 902211", "902211"),
        ("आपका सत्यापन कोड 781204 है।", "781204"),
        ("Kode verifikasi Anda adalah 120394.", "120394"),
        ("Mã xác minh của bạn là 550917.", "550917"),
        ("839201 is your Acme login code.", "839201"),
        ("FB-24681 is your confirmation code", "24681"),
        ("G-902134 is your Google verification code.", "902134"),
        ("Your sign-in code: X7K-9QP", "X7K9QP"),
        ("A7Q2Z is your one-time code.", "A7Q2Z"),
        ("Security code 2 9 4 7 1 0 (do not share).", "294710"),
        ("Bestätigungscode: 0815 2201", "08152201"),
        ("Enter 482913 to verify your email address.", "482913"),
        ("123-456 is your Instagram code. Don't share it.", "123456"),
        ("Your code is 12345678. Reference code: 87654321", "12345678"),
        ("Doğrulama kodunuz 123456'dır.", "123456"),
        ("आपका OTP 551902 है। इसे किसी के साथ साझा न करें।", "551902"),
        ("JANGAN BERIKAN kode ini kepada siapa pun. Kode OTP: 773104", "773104"),
        ("Acme: 5521 is your one-time PIN. Valid 5 min.", "5521"),
        ("Ваш пароль для входа: 4471", "4471"),
        ("Su código de acceso es: 4G7K9P", "4G7K9P"),
        ("Someone is trying to reset your password. If it's you, enter 83 42 17.", "834217"),
        ("Kestrel: Use 7731 to approve your $49.99 payment. Code expires at 14:30.", "7731"),
        # keywords without their diacritics, as SMS gateways send them (issue 9)
        ("Twoje haslo jednorazowe: 5521 0937", "55210937"),
        ("Twój kod weryfikacyjny: 390214", "390214"),
        ("tek kullanimlik sifreniz 582071", "582071"),
        ("Dogrulama kodunuz 771204'tur.", "771204"),
        ("ma xac minh cua ban la 3307", "3307"),
        ("Ma xac thuc OTP: 918273", "918273"),
        ("Ihr Bestaetigungscode: 604113", "604113"),
        ("Ihr Bestatigungscode lautet 604113", "604113"),
        ("Su codigo de verificacion es 228140", "228140"),
        ("Seu codigo de confirmacao: 661093", "661093"),
        ("Votre code de securite : 408812", "408812"),
        ("Il tuo codice di verifica e' 7713", "7713"),
    ],
)
def test_code_formats(body: str, value: str) -> None:
    assert top(extract_sms(body)) == value


def test_leading_zeros_and_raw_kept() -> None:
    code = extract_sms("Your code is 004 512").codes[0]
    assert code.value == "004512"
    assert code.raw == "004 512"
    assert code.source == "sms"


def test_prefix_removed_from_value_but_kept_in_raw() -> None:
    code = extract_sms("G-730158 – use this code to verify").codes[0]
    assert (code.value, code.raw) == ("730158", "G-730158")


def test_case_is_kept() -> None:
    assert top(extract_sms("Your login code is ab3k9z")) == "ab3k9z"


def test_webotp_origin_bound_line() -> None:
    ex = extract_sms("Your Example code is 551203.\n\n@login.example.com #551203")
    code = ex.codes[0]
    assert code.value == "551203"
    assert code.origin == "https://login.example.com"
    assert code.confidence == 1.0
    assert code.as_dict()["origin"] == "https://login.example.com"
    assert ex.links == ()


def test_webotp_wins_over_other_numbers() -> None:
    ex = extract_sms("Code: 111111 (old)\n@a.example #ABC123")
    assert ex.codes[0].value == "ABC123"


def test_sms_retriever_hash_is_not_the_code() -> None:
    ex = extract_sms("<#> Your ExampleApp code is 7410\n\nAb3Cd4Ef5Gh")
    assert [c.value for c in ex.codes] == ["7410"]
    ex = extract_sms("<#> Dein Code: 601 552 FA+9qCX9VSu")
    assert [c.value for c in ex.codes] == ["601552"]


def test_sms_retriever_hash_without_marker() -> None:
    ex = extract_sms("Your ExampleApp code is: 123ABC78\n\nFA+9qCX9VSu")
    assert [c.value for c in ex.codes] == ["123ABC78"]


def test_en_dash_separated_code() -> None:
    assert top(extract_sms("Your code is 123–456")) == "123456"


def test_code_after_keyword_in_next_line() -> None:
    assert top(extract_sms("Enter this code on the next screen:\n\n  Q4T-8ZK\n")) == "Q4T8ZK"


def test_code_only_in_subject() -> None:
    ex = extract_email(
        subject="552901 is your Example login code",
        html="<p>Your code is in the subject line.</p><p>Sent from 198.51.100.7</p>",
    )
    assert top(ex) == "552901"
    assert ex.codes[0].source == "subject"


def test_as_dict_shapes() -> None:
    ex = extract_sms("Your code is 123456")
    d = ex.as_dict()
    assert d["codes"][0] == {
        "value": "123456",
        "raw": "123456",
        "confidence": d["codes"][0]["confidence"],
        "source": "sms",
    }
    assert "origin" not in d["codes"][0]
    assert Code("1", "1", 0.5, "sms").as_dict()["value"] == "1"
    assert Link("https://x.example/a", "login", 0.5).as_dict() == {
        "url": "https://x.example/a",
        "kind": "login",
        "confidence": 0.5,
    }


# --- HTML ---------------------------------------------------------------------------------


def test_html_per_digit_cells() -> None:
    cells = "".join(f"<td>{d}</td>" for d in "038261")
    html = f"<p>Enter this code to continue:</p><table><tr>{cells}</tr></table><p>Team 2026</p>"
    ex = extract_email(subject="Your code", html=html)
    assert top(ex) == "038261"
    assert ex.codes[0].source == "html"


def test_html_per_digit_cells_with_spacers() -> None:
    cells = '<td width="6"></td>'.join(f"<td>{d}</td>" for d in "5820")
    html = f"<h2>Your login code</h2><table><tr>{cells}</tr></table>"
    assert top(extract_email(html=html)) == "5820"


def test_html_letter_spaced_spans() -> None:
    spans = " ".join(f"<span>{c}</span>" for c in "K7Q2M9")
    ex = extract_email(html=f"<div>Your verification code:</div><div>{spans}</div>")
    assert top(ex) == "K7Q2M9"


def test_html_spans_joined_and_cells_not_run_together() -> None:
    html = (
        "<p>Your security code</p><div><span>481</span><span></span><span>092</span></div>"
        "<table><tr><td>Order</td><td>77881234</td></tr></table>"
    )
    assert [c.value for c in extract_email(html=html).codes] == ["481092"]


def test_html_hidden_preheader_ignored() -> None:
    html = (
        '<div style="display:none;max-height:0">Your code is 999999</div>'
        '<span style="font-size:0px">Code 888888</span>'
        '<div style="mso-hide:all">Code 777777</div>'
        '<div style="opacity:0">Code 666666</div>'
        "<p>Your verification code is <b>314159</b></p>"
    )
    assert [c.value for c in extract_email(html=html).codes] == ["314159"]


def test_html_entities_in_href_are_decoded() -> None:
    html = (
        "<p>Please confirm your email address.</p>"
        '<a href="https://app.example/verify?token=Zx81kQ2mP0aa&amp;uid=7">Verify email</a>'
        '<a href="https://app.example/unsubscribe?u=Zx81kQ2mP0aa">Unsubscribe</a>'
    )
    ex = extract_email(subject="Verify your email", html=html)
    assert [link.url for link in ex.links] == [
        "https://app.example/verify?token=Zx81kQ2mP0aa&uid=7"
    ]
    assert ex.links[0].kind == "verify"


def test_tracking_redirect_returned_as_is() -> None:
    href = "https://click.mail.example/ls/click?upn=A1b2C3d4E5f6G7h8"
    html = f'<p>Hi,</p><a href="{href}">Sign in to Example</a>'
    ex = extract_email(subject="Your sign-in link", html=html)
    assert ex.links[0].url == href
    assert ex.links[0].kind == "login"


def test_reset_link_in_text_part() -> None:
    text = "We got a request to reset your password.\n\nhttps://ex.example/reset/Ab12Cd34Ef56\n"
    ex = extract_email(subject="Reset your password", text=text)
    assert ex.links[0].kind == "reset"
    assert ex.links[0].url == "https://ex.example/reset/Ab12Cd34Ef56"


def test_schemeless_sms_link() -> None:
    ex = extract_sms("Tap ex.example/c/8HfK2q to confirm your number.")
    assert ex.links[0].url == "ex.example/c/8HfK2q"


def test_link_named_after_the_anchor() -> None:
    html = (
        '<p>Thanks for signing up! Click <a href="https://ex.example/v?t=Ab12Cd34Ef">here</a>'
        " to verify your email address. The link expires in 24 hours.</p>"
    )
    ex = extract_email(subject="Welcome", html=html)
    assert [(x.url, x.kind) for x in ex.links] == [("https://ex.example/v?t=Ab12Cd34Ef", "verify")]


def test_marketing_and_security_links_not_reported() -> None:
    marketing = (
        "<p>Big savings this week!</p>"
        '<a href="https://click.ex.example/c/Ab12Cd34Ef56">Log in to see your deals</a>'
    )
    assert extract_email(subject="Weekly deals", html=marketing).links == ()
    alert = (
        "<p>New sign-in detected. If this wasn't you, "
        '<a href="https://ex.example/secure?t=Ab12Cd34Ef">click here</a>'
        " to secure your account.</p>"
    )
    assert extract_email(subject="Security alert", html=alert).links == ()
    lock = "Didn't try to log in? Lock your account:\nhttps://ex.example/lock?rid=e41b9c07d2a8\n"
    assert extract_email(subject="Your login code", text="Code: 7306\n\n" + lock).links == ()


def test_generic_login_page_is_not_a_magic_link() -> None:
    ex = extract_email(text="New features!\nSign in to try them: https://app.example/login\n")
    assert ex.links == ()


# --- negatives ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Your order #778812 has shipped. Total $49.99. Track: https://shop.example/t/778812",
        "Bestellung 30219874 versandt. Sendungsnummer 00340434161234567890.",
        "Call us at 1-800-555-0199 or +44 20 7946 0958 for help.",
        "Your payment of €1,250.00 on 23.11.2026 at 14:30 was successful.",
        "Meeting ID: 934 0127 6650\nPasscode: 604218\nDial in: +1 646 555 0147",
        "Get 20% off with promo code SAVE20 until 12/31/2026!",
        "Usa el código AHORRA30 y obtén un 30% de descuento.",
        "Card ending in 4242 was charged ¥12,000.",
        "Booking reference FW7K2Q, flight FW 1182 departs 07:40.",
        "Your Apple ID password was changed on Nov 23, 2026.",
        "Office: 500 Harbor Way, San Francisco, CA 94107",
        "Ihre Rechnung RE-2026-00412, Kundennummer: 4410027",
        "订单号 20261123 已发货，客服电话 400-555-0182",
        "ご注文番号：249-8812003-5510 合計 ¥4,980",
        "Заказ №778812 оплачен. Сумма 1 290,00 ₽",
        "Newsletter issue #142 — Dec 3, 2026 at 17:00 UTC",
        "Your Zoom meeting passcode is 123456",
        "Your ticket code is 882211 for seat 14A",
        "Votre code promo BIENVENUE10 : -10% sur votre commande",
        "Your confirmation number is 556677. Check-in opens 24h before departure.",
        "Flight BA 2491 departs 14:30 from gate 22",
        "Reminder: your appointment #45821 is on 12/03/2026 at 10:00",
        "Your balance is 1 204,17 EUR. Last transaction 2026-11-23",
        "Happy birthday! Here is 20% off: BDAY2026",
        "Mercadito: 30% de descuento con el código AHORRA30. Envía BAJA al 21455.",
        "Ladya Bank: Покупка 1 290,00 ₽, карта *4242. Баланс: 18 402,55 ₽. 23.11 14:30",
    ],
)
def test_negatives_report_nothing(body: str) -> None:
    ex = extract_sms(body)
    assert ex.codes == (), ex
    assert ex.links == (), ex


def test_promo_code_next_to_real_code() -> None:
    body = "Your verification code is 271954.\n\nTake 15% off with code RIDE15."
    assert [c.value for c in extract_sms(body).codes] == ["271954"]


def test_unsubscribe_privacy_social_links_not_reported() -> None:
    html = (
        "<p>Confirm your email to finish signing up.</p>"
        '<a href="https://x.example/unsubscribe?id=Ab12Cd34">Unsubscribe</a>'
        '<a href="https://x.example/privacy?id=Ab12Cd34">Privacy</a>'
        '<a href="https://twitter.com/example?ref=Ab12Cd34">Twitter</a>'
    )
    ex = extract_email(
        subject="Confirm your email",
        html=html,
        headers={"List-Unsubscribe": "<https://x.example/unsubscribe?id=Ab12Cd34>"},
    )
    assert ex.links == ()


# --- MIME -----------------------------------------------------------------------------------


def test_extract_message_and_eml() -> None:
    msg = EmailMessage(policy=email.policy.default)
    msg["Subject"] = "Ihr Bestätigungscode"
    msg["From"] = "Example <no-reply@example.com>"
    msg.set_content("Ihr Bestätigungscode lautet 284 915.\n")
    msg.add_alternative("<p>Ihr Bestätigungscode lautet <b>284 915</b>.</p>", subtype="html")
    assert top(extract_message(msg)) == "284915"
    assert top(extract_eml(msg.as_bytes())) == "284915"


def test_broken_mime_never_raises() -> None:
    raw = (
        b"Subject: =?bogus-charset?B?!!!?=\r\nContent-Type: multipart/alternative; boundary=\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n--\r\n"
        b"Content-Type: text/plain; charset=x-nope\r\n"
        b"\r\n\xff\xfe code 123456\r\n"
    )
    assert isinstance(extract_eml(raw), Extraction)
    assert isinstance(extract_eml(b""), Extraction)
    assert isinstance(extract_eml(b"\x00" * 100), Extraction)


def test_public_interface() -> None:
    import inspect

    import agentid.extract as mod

    expected = {"Code", "Extraction", "Link", "extract_email", "extract_eml", "extract_message"}
    assert set(mod.__all__) == expected | {"extract_sms"}
    params = inspect.signature(extract_email).parameters
    assert list(params) == ["subject", "from_", "headers", "text", "html"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert Extraction().as_dict() == {"codes": [], "links": []}


def test_tracking_pixel_ignored() -> None:
    html = (
        "<p>Your verification code is <b>314159</b></p>"
        '<img src="https://t.example/open/8812009341?u=Zx81kQ2mP0aa" width="1" height="1" alt="">'
        '<a href="https://t.example/px/7731?id=Zx81kQ2mP0aa"><img src="x.gif" width="1"></a>'
    )
    ex = extract_email(subject="Your code", html=html)
    assert [c.value for c in ex.codes] == ["314159"]
    assert ex.links == ()


def test_never_opens_a_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pre-click can burn a single-use link: extraction must never fetch one."""
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the extractor tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    html = (
        "<p>Confirm your email address (expires in 30 minutes):</p>"
        '<a href="https://click.example/ls/click?upn=Zx81kQ2mP0aa">Confirm email</a>'
    )
    ex = extract_email(subject="Confirm your email", html=html)
    assert [link.url for link in ex.links] == ["https://click.example/ls/click?upn=Zx81kQ2mP0aa"]
