"""Property tests (hypothesis) for issue 9: accents, bank sentences, masked numbers."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentid.extract import extract_sms

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# letters an SMS gateway writes without their mark that Unicode does not decompose
_GSM = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "đ": "d", "Đ": "D", "ø": "o", "ß": "ss"})


def strip_marks(text: str) -> str:
    """``text`` as a GSM-7 gateway sends it: diacritics dropped, ł → l, ı → i, ß → ss."""
    decomposed = unicodedata.normalize("NFD", text.translate(_GSM))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


ACCENTED = (
    "Twój kod weryfikacyjny to {c}. Nie udostępniaj go nikomu.",
    "Hasło jednorazowe: {c}",
    "Tek kullanımlık şifreniz: {c}",
    "Doğrulama kodunuz {c}. Kimseyle paylaşmayın.",
    "Güvenlik kodunuz: {c}",
    "Mã xác minh của bạn là {c}.",
    "Mã OTP của Quý khách là {c}, có hiệu lực trong 5 phút.",
    "Ihr Bestätigungscode lautet {c}.",
    "Dein Sicherheitscode: {c} – gültig für 10 Minuten.",
    "Tu código de verificación es {c}.",
    "Seu código de confirmação é {c}.",
    "Votre code de sécurité est {c}.",
    "Il tuo codice di verifica è {c}.",
)

digits = st.integers(4, 8).flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n))


@FAST
@given(template=st.sampled_from(ACCENTED), value=digits)
def test_stripped_diacritics_yield_the_same_code(template: str, value: str) -> None:
    body = template.format(c=value)
    plain = strip_marks(body)
    with_marks = [c.value for c in extract_sms(body).codes]
    without = [c.value for c in extract_sms(plain).codes]
    assert with_marks[:1] == [value], body
    assert without[:1] == with_marks[:1], plain


# --- what banks put between the keyword and the code --------------------------------------

amount = st.sampled_from(
    ["1 249,00 EUR", "USD 89.99", "$1,249.00", "R$ 1.299,90", "EUR 74,50", "2.450,00 TL",
     "129,99 PLN", "¥12,800", "£49.00", "INR 4,999.00"]
)  # fmt: skip
merchant = st.sampled_from(
    ["MAISON DUPONT S.A.S.", "BEST BUY CO. INC.", "Otto GmbH & Co. KG", "AMAZON EU S.A.R.L.",
     "BOL.COM B.V.", "EL CORTE INGLES S.A.", "ZALANDO SE", "MAGAZINE LUIZA S.A."]
)  # fmt: skip
masked = st.sampled_from(
    ["****1234", "*4471", "XX4417", "XXXX XXXX XXXX 0918", "DE12 **** **** **** 7781",
     "•••• 4242", "1234 **** **** 5678"]
)  # fmt: skip
date = st.sampled_from(["12/03/2025", "2025-03-12", "12.03.2025", "03/12"])
PHRASES = {
    "en": ("for the payment of {a}", "at {m}", "with card {k}", "on {d}"),
    "fr": ("du paiement de {a}", "chez {m}", "avec la carte {k}", "le {d}"),
    "de": ("für die Zahlung von {a}", "an {m}", "mit Karte {k}", "am {d}"),
}
FRAMES = {
    "en": ("Your one-time passcode", "is {c}."),
    "fr": ("Le code de validation", "est le {c}."),
    "de": ("Ihre TAN", "lautet {c}."),
}
bank_code = st.one_of(
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


@FAST
@given(
    lang=st.sampled_from(sorted(FRAMES)),
    picks=st.lists(st.integers(0, 3), min_size=1, max_size=4, unique=True),
    a=amount,
    m=merchant,
    k=masked,
    d=date,
    value=bank_code,
)
def test_bank_insertions_keep_the_code(
    lang: str, picks: list[int], a: str, m: str, k: str, d: str, value: str
) -> None:
    head, tail = FRAMES[lang]
    inserted = " ".join(PHRASES[lang][i].format(a=a, m=m, k=k, d=d) for i in sorted(picks))
    body = f"{head} {inserted} {tail.format(c=value)}"
    codes = [c.value for c in extract_sms(body).codes]
    assert codes[:1] == [value], body


# --- masked numbers -------------------------------------------------------------------------

mask_char = st.sampled_from(["*", "•", "X", "x"])
four = st.text(alphabet="0123456789", min_size=4, max_size=4)


@st.composite
def masked_number(draw: st.DrawFn) -> tuple[str, str]:
    """(the masked number, its digits shown)"""
    c = draw(mask_char)
    tail = draw(four)
    shape = draw(st.integers(0, 4))
    head = draw(st.text(alphabet="0123456789", min_size=3, max_size=4))
    if shape == 0:
        return c * draw(st.integers(2, 12)) + tail, tail
    if shape == 1:
        return f"{head}-{c * 4}-{tail}", head + tail
    if shape == 2:
        return f"DE{head[:2]} {c * 4} {c * 4} {c * 4} {tail}", tail
    if shape == 3:
        return f"{head} {c * 4} {c * 4} {tail}", head + tail
    return f"{head}{c * 4}{tail}", head + tail


context = st.sampled_from(
    ["Your verification code was sent to {n}.", "Card {n} was charged $12.00.",
     "Konto {n}, Ihre TAN folgt per SMS.", "A/c {n} debited INR 500.00 on 12-Mar.",
     "인증번호는 등록된 휴대전화({n})로 전송됩니다.", "您尾号{n}的卡消费100.00元。",
     "Code: {n}", "Security code {n}"]
)  # fmt: skip


@FAST
@given(number=masked_number(), frame=context, real=st.booleans())
def test_a_masked_number_is_never_reported(number: tuple[str, str], frame: str, real: bool) -> None:
    text, shown = number
    body = frame.format(n=text) + (" Your one-time code is 660193." if real else "")
    found = [c.value for c in extract_sms(body).codes]
    assert not [v for v in found if v in shown or v in text], body
    if real:
        assert found[:1] == ["660193"], body


BOOKINGS = (
    "Your reservation is confirmed. Confirmation code: {c}. Check-in {d}, 2 nights.",
    "Réservation confirmée. Code de confirmation {c}, arrivée le {d}, 3 nuits.",
    "Ihre Buchung ist bestätigt. Bestätigungscode: {c}. Anreise {d}.",
    "Reserva confirmada. Código de confirmación {c}, llegada {d}.",
    "Prenotazione confermata. Codice di conferma {c}, arrivo {d}, 2 notti.",
)
# booking references as airlines and hotels print them: six distinct letters and digits
references = st.tuples(
    st.lists(st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"), min_size=4, max_size=4, unique=True),
    st.lists(st.sampled_from("23456789"), min_size=2, max_size=2, unique=True),
).flatmap(lambda parts: st.permutations(parts[0] + parts[1]).map("".join))
dates = st.sampled_from(("14/03", "21 March", "02.05.2025", "10 juin"))


@FAST
@given(template=st.sampled_from(BOOKINGS), value=references | digits, day=dates)
def test_a_bookings_confirmation_code_is_a_reference(template: str, value: str, day: str) -> None:
    """A stay's or trip's "confirmation code" is a booking reference, not a code to type;
    the same sentence that says how long the code lasts makes it one."""
    body = template.format(c=value, d=day)
    assert [c.value for c in extract_sms(body).codes] == [], body
    timed = body + " It expires in 10 minutes."
    assert [c.value for c in extract_sms(timed).codes][:1] == [value], timed
