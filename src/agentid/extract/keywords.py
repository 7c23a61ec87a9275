"""Multilingual keyword knowledge for codes (labels, cues, contexts).

Languages covered: en, de, es, fr, pt, it, nl, pl, tr, ru, uk, zh, ja, ko, ar, hi, id, vi.
All patterns are lower-case and are matched on lower-cased normalised text
(``textnorm.lower``), which is much faster than ``re.IGNORECASE``. Those only searched for
are compiled with ``any_of`` (alternatives grouped by first character: much faster).
"""

from __future__ import annotations

import re

from .accents import tolerant
from .alternations import any_of

# Label tiers (the name of the regex group that matched):
#   void  - words containing "code" that are not about verification (promo, postal, bar...)
#   otp   - unambiguous verification-code labels ("verification code", "验证码", "TAN")
#   pw    - password/passcode/PIN (ignored inside meeting invitations)
#   code  - generic "code" words ("code", "código", "код", "コード")
#   neg   - labels of numbers that are not codes (order, phone, ID, booking, postcode...)

_VOID = [
    r"promo[- ]?codes?",
    r"(?:discount|coupon|voucher|referral|gift|invite|invitation|reward|offer)[- ]codes?",
    r"codes? promo(?:tionnel)?",
    r"c[oó]digos? (?:promocional|de descuento|de cup[oó]n|postal|de promoci[oó]n)",
    r"c[oó]digo(?:s)? de desconto",
    r"codice (?:sconto|promozionale|fiscale|postale|coupon)",
    r"(?:gutschein|rabatt|aktions|promo)[- ]?codes?",
    r"kortingscode|actiecode|kod(?:u)? rabatowy|kod promocyjny|kod pocztowy",
    r"indirim kodu|promosyon kodu|posta kodu|kupon kodu",
    r"промо[- ]?код\w*|код\w* (?:скидки|купона)|почтов\w+ индекс|промокод\w*",
    r"kode (?:promo|voucher|pos|diskon|kupon)",
    r"mã (?:giảm giá|khuyến mãi|bưu chính|đơn hàng)",
    r"优惠码|优惠券|折扣码|兑换码|邀请码|邮编|邮政编码|クーポンコード|割引コード|プロモーションコード|招待コード",
    r"쿠폰 ?코드|할인 ?코드|프로모션 ?코드|우편 ?번호",
    r"رمز (?:ترويجي|الخصم|الكوبون|بريدي)|كود (?:خصم|الخصم|ترويجي)|الرمز البريدي",
    r"प्रोमो कोड|कूपन कोड|पिन कोड",
    r"(?:zip|post(?:al)?|bar|qr|source|dress|area|country|postleit|iso|swift|bic|sort|tax)"
    r"[- ]?codes?",
    r"code postal|二维码|條碼|条形码|条码",
    r"(?:reference|ref|booking|ticket|order|tracking|reservation|customer|member|invoice"
    r"|transaction|product|item|event|seat|gate|error|status|response|reason) ?codes?",
    r"c[oó]digos? (?:de )?(?:reserva|pedido|rastreio|rastreamento|seguimiento|cliente|producto"
    r"|produto|error|erro)",
    r"codes? (?:de )?(?:r[ée]servation|commande|suivi|client|produit|erreur)",
    r"(?:buchungs|auftrags|bestell|kunden|sendungs|produkt|fehler|status)[- ]?codes?",
    r"codice (?:di )?(?:prenotazione|ordine|cliente|prodotto|errore)",
    r"код\w* (?:заказа|бронирования|ошибки|товара)|订单码|取件码|取货码|予約コード|注文コード"
    r"|예약 ?코드|주문 ?코드",
    # backup and recovery codes to keep, not a code to type now
    r"backup[- ]?codes?|recovery codes|(?:backup|wiederherstellungs|notfall|sicherungs)-?codes"
    r"|codes (?:de )?(?:secours|récupération|sauvegarde)|codes? de secours"
    r"|c[oó]digos (?:de )?(?:respaldo|recuperaci[oó]n|backup|recupera[cç][aã]o)"
    r"|c[oó]digos? de (?:respaldo|backup)|codici (?:di )?(?:backup|recupero)|codic[ei] di backup"
    r"|back-?upcodes?|herstelcodes|kod(?:y|ów)? zapasow\w*|kody odzyskiwania"
    r"|yedek kod\w*|kurtarma kodlar\w*|резервн\w* код\w*|коды восстановления|коди відновлення"
    r"|备用码|备用验证码|恢复码|备份码|備用碼|復原碼|バックアップコード|リカバリー?コード"
    r"|백업 ?코드|복구 ?코드|رموز الاسترداد|الرموز الاحتياطية|رموز احتياطية|बैकअप कोड"
    r"|kode cadangan|kode pemulihan|mã dự phòng|mã khôi phục",
]

_OTP = [
    r"(?:verification|verify|confirmation|security|authentication|authenticator|auth|login|log-in"
    r"|log in|sign-in|sign in|signin|sign-up|signup|activation|one[- ]time|2fa|two[- ]factor|mfa"
    r"|approval|validation|registration|device|recovery|email|sms|text|pairing"
    r"|temporary) ?(?:code|pin|passcode|password)s?",
    r"(?:verification|security|authentication|one[- ]time|sms|validation) number",
    r"\b(?:otp|totp|m?tan|itan|(?:push|mobile|sms|chip|photo|app)-?tan)\b",
    r"one[- ]time pass\w*",
    r"(?:bestätigungs|sicherheits|verifizierungs|verifikations|anmelde|zugangs|einmal|aktivierungs"
    r"|freigabe|authentifizierungs|bestaetigungs|prüf|sms)"
    r"[- ]?(?:code|kennwort|passwort|pin|nummer)",
    r"einmalpasswort|einmal-passwort",
    r"c[oó]digo(?:s)? (?:de |para )?(?:verificaci[oó]n|verifica[cç][aã]o|seguridad|seguran[cç]a"
    r"|confirmaci[oó]n|confirma[cç][aã]o|acceso|acesso|activaci[oó]n|ativa[cç][aã]o"
    r"|autenticaci[oó]n|autentica[cç][aã]o|validaci[oó]n|valida[cç][aã]o|login|ingreso"
    r"|inicio de sesi[oó]n|un solo uso|uso [uú]nico|otp|sms)",
    r"clave (?:de un solo uso|din[aá]mica|temporal|de acceso)|contraseña de un solo uso",
    r"senha (?:tempor[aá]ria|de uso [uú]nico|din[aâ]mica)",
    r"codes? (?:de |d')?(?:v[ée]rification|s[ée]curit[ée]|confirmation|validation|connexion"
    r"|acc[eè]s|activation|authentification|usage unique|otp)",
    r"mot de passe (?:à usage unique|temporaire|unique)",
    r"codice (?:di |per )?(?:verifica|sicurezza|conferma|accesso|attivazione|autenticazione"
    r"|otp|monouso|di login)|password monouso|codice usa e getta",
    r"(?:verificatie|bevestigings|beveiligings|inlog|toegangs|activatie|eenmalige ?|sms-?)code",
    r"kod(?:u)? (?:weryfikacyjn\w*|potwierdzaj\w*|bezpiecze\w*|dost[eę]pu|jednorazow\w*"
    r"|aktywacyjn\w*|logowania|sms|autoryzacyjn\w*)|hasło jednorazowe",
    r"(?:doğrulama|onay|güvenlik|giriş|aktivasyon|tek kullanımlık|sms) (?:kodu\w*|şifre\w*)",
    r"код\w* (?:подтверждения|для входа|доступа|безопасности|верификации|активации|авторизации"
    r"|из смс|підтвердження|для входу|доступу|безпеки|верифікації|активації)",
    r"(?:одноразов|проверочн|перевірочн)\w* (?:код\w*|пароль\w*)",
    r"验证码|驗證碼|校验码|校驗碼|动态码|动态密码|動態密碼|确认码|確認碼|认证码|認證碼|安全码|登录码|登入碼"
    r"|激活码|一次性密码|短信码",
    r"認証コード|確認コード|ワンタイムパスワード|ワンタイムコード|認証番号|確認番号|セキュリティコード"
    r"|ログインコード|検証コード|承認コード|ワンタイム",
    r"인증 ?번호|인증 ?코드|확인 ?코드|보안 ?코드|일회용 ?(?:비밀번호|코드)|승인 ?번호"
    r"|로그인 ?코드",
    r"(?:رمز|كود|كلمة المرور|رقم) (?:التحقق|التأكيد|الدخول|الأمان|التفعيل|المرور لمرة واحدة"
    r"|لمرة واحدة|التحقّق|الأمن)",
    r"सत्यापन कोड|ओटीपी|पुष्टिकरण कोड|वन टाइम पासवर्ड|लॉगिन कोड|सुरक्षा कोड",
    r"kode (?:verifikasi|otp|keamanan|konfirmasi|akses|masuk|aktivasi|sekali pakai)",
    r"mã (?:xác (?:minh|thực|nhận)|otp|bảo mật|kích hoạt|đăng nhập|một lần)",
]

_PW = [
    r"passcodes?|passwor[dt]s?|kennwort|contraseñas?|mot de passe|senhas?|wachtwoord|hasło"
    r"|şifre\w*",
    r"парол\w*|密码|密碼|パスワード|비밀번호|كلمة المرور|पासवर्ड|kata sandi|mật khẩu",
    r"\bpins?\b|\bpwd\b",
]

_CODE = [
    r"codes?\b|c[oó]digos?|codice|\bkod(?:u|unuz|un)?\b|\bkode\b|код\w*|\bmã\b|コード|코드|码",
    r"\bرمز\w*|\bكود\w*|कोड",
]

_NEG = [
    r"order(?:s)?(?: (?:number|no\.?|nr\.?|id|#))?|\border\b",
    r"booking(?: (?:ref(?:erence)?|number|code|id))?|reservation(?: (?:number|code))?",
    r"confirmation (?:number|no\.?)|itinerary|pnr|record locator",
    r"tracking(?: (?:number|no\.?|id|code))?|shipment|parcel|package|waybill|consignment",
    r"invoice(?: (?:number|no\.?))?|receipt(?: (?:number|no\.?))?|bill",
    r"account (?:number|no\.?|id)|acct|customer(?: (?:number|no\.?|id))?"
    r"|member(?:ship)?(?: (?:number|id))?",
    r"ticket(?: (?:number|no\.?))?|case(?: (?:number|no\.?|id))?|request(?: id| number)?"
    r"|ref(?:erence)?",
    r"\bids?\b|meeting|webinar|conference|dial[- ]?in",
    r"phone|tel\b|telephone|call(?: us)?|fax|mobile|hotline|helpline|whatsapp|toll[- ]free"
    r"|freephone",
    r"ending(?: in| with)?|ends? in|last (?:4|four)|card(?: number)?|visa|mastercard|amex|iban"
    r"|bic|swift",
    r"zip|post ?code|postal|p\.?o\.? box|suite|apt|unit|floor|level|room|seat|row|gate|flight",
    r"version|build|model|serial|sku|item|qty|quantity|issue|vol\b|vat|tax id|ein"
    r"|company (?:number|no)",
    r"registered|licen[cs]e|transaction(?: id)?|txn|reply|text|send",
    r"\bno\b\.?|\bnr\b\.?|\bnum\b\.?|#|№|n°|nº|n\.º",
    # (the lookahead keeps a long word from being scanned from each of its "code"/"kod")
    r"(?=[a-zäöüß]{0,60}nummer)[a-zäöüß]*nummer|bestellung|auftrag|rechnung|sendung|paket|buchung|vorgang|referenz"
    r"|aktenzeichen|telefon|hotline|plz|postfach|kontonummer|karte|endet auf|hrb|ust-?idnr"
    r"|steuer\w*",
    r"pedido|orden|reserva|localizador|seguimiento|env[ií]o|factura|cliente|referencia|tel[eé]fono"
    r"|ll[aá]ma(?:nos)?|llame|m[oó]vil|tarjeta|terminada en|termina(?:da)? en|n[uú]mero",
    r"commande|r[ée]servation|suivi|colis|facture|client|r[ée]f[ée]rence|r[ée]f|t[ée]l[ée]phone"
    r"|t[ée]l|appelez|contactez|carte|se terminant par|num[ée]ro|demande|dossier|rcs|siret|siren"
    r"|tva",
    r"rastreamento|rastreio|encomenda|fatura|refer[eê]ncia|ligue|ligar|sac|ouvidoria|cep|cnpj|cpf"
    r"|cart[aã]o|final|terminado em|protocolo",
    r"ordine|prenotazione|spedizione|tracciamento|fattura|riferimento|telefono|chiama|numero verde"
    r"|\bcap\b|p\.? ?iva|partita iva|carta|che termina|numero",
    r"bestelling|boeking|reservering|factuur|klantnummer|referentie|telefoon|bel\b|kaart|rekening"
    r"|kvk|btw|zending",
    r"zamówieni\w*|rezerwacj\w*|przesyłk\w*|faktur\w*|klient\w*|infolinia|zadzwoń|karta|nip|regon",
    r"sipariş\w*|rezervasyon|kargo|takip|müşteri|referans|çağrı merkezi|kart\w*|vergi",
    r"заказ\w*|брон\w*|отправлени\w*|трек|посылк\w*|сч[её]т\w*|клиент\w*|договор\w*|заявк\w*"
    r"|обращени\w*|телефон\w*|тел\b|звоните|позвоните|горяч\w* лини\w*|индекс|карт\w*|инн|огрн"
    r"|номер\w*|замовлен\w*|бронюван\w*|рахун\w*|зателефонуйте|картк\w*",
    r"订单|訂單|单号|運單|运单|快递|物流|发票|客户|会员|电话|電話|热线|客服|尾号|卡号|编号|号码|预订"
    r"|航班|座位|工单|流水号",
    r"注文番号|注文|予約番号|予約|お問い合わせ番号|問い合わせ番号|受付番号|追跡番号|伝票番号|配送|請求"
    r"|会員番号|お客様番号|フリーダイヤル|郵便番号|〒|カード|末尾|口座|番号|問合せ",
    r"주문 ?번호|주문|예약 ?번호|예약|운송장|송장|배송|고객 ?센터|전화|문의|카드|계좌|사업자|번호",
    r"رقم الطلب|طلب\w*|حجز\w*|الحجز|شحن\w*|تتبع|فاتورة|عميل|العملاء|هاتف|الهاتف|اتصل|الدعم|بطاق\w*"
    r"|المنتهية|رقم",
    r"ऑर्डर|बुकिंग|ट्रैकिंग|फ़ोन|फोन|कॉल|कार्ड|खाता",
    r"pesanan|pemesanan|resi|pengiriman|faktur|pelanggan|telepon|hubungi|kartu|rekening",
    r"đơn hàng|đặt chỗ|vận đơn|hóa đơn|khách hàng|điện thoại|\bgọi\b|\bthẻ\b|tài khoản",
]


# Tiers in priority order: at one position the first tier that matches wins.
# (each also matches its words written without diacritics: ``accents.tolerant``)
LABEL_TIERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("void", tuple(map(tolerant, _VOID))),
    ("otp", tuple(map(tolerant, _OTP))),
    ("pw", tuple(map(tolerant, _PW))),
    ("code", tuple(map(tolerant, _CODE))),
    ("neg", tuple(map(tolerant, _NEG))),
)


# Verbs that, right before a candidate, say "type this": "enter 83 42 17", "Use 7731".
CUE_RE = re.compile(
    tolerant(
        r"(?:\b(?:enter|use|type|input|paste|insert|provide|submit|key in)"
        r"|\b(?:gib|geben sie|verwende|nutze|ingresa|ingrese|introduce|introduzca|usa|utiliza"
        r"|escribe|digite|saisissez|saisir|entrez|entrer|utilisez|tapez|indiquez|insira|informe"
        r"|utilize|inserisci|inserire|digita|utilizza|voer|gebruik|typ|wpisz|wprowadź|użyj|podaj"
        r"|girin|gir|kullanın|введите|используйте|укажите|введіть|використайте|masukkan|gunakan"
        r"|nhập|sử dụng)"
        r"|输入|填写|入力|입력|أدخل|ادخل|استخدم|दर्ज)\s*[:：]?\s*$"
    )
)

# Message-level signals of a verification topic (gate for cues without a code label).
TOPIC_RE = any_of(
    tolerant(
        r"verif|confirm|sign[- ]?in|log[- ]?in|authenticat|2fa|two[- ]factor|reset|approve"
        r"|bestätig|anmeld|verifica|confirma|acceso|acesso|connexion|connecter|accesso|inlog|logowan"
        r"|doğrula|подтвер|вход|підтвер|验证|確認|認証|ログイン|인증|로그인|تحقق|تأكيد|सत्यापन"
        r"|verifikasi|xác"
    )
)

# Meeting invitations: "passcode"/"PIN" there is a dial-in secret, not a verification code.
MEETING_PATTERN = tolerant(
    r"meeting[- ]?id|dial[- ]?in|join (?:the |this |zoom |teams )?meeting|webinar|conference id"
    r"|one[- ]tap mobile|quick dial|besprechungs-?id|einwahl|id de (?:la )?reuni[oó]n"
    r"|id da reuni[aã]o|id de (?:la )?r[ée]union|id riunione|идентификатор конференции"
    r"|会议号|会議id|ミーティングid|회의 ?id|meeting (?:passcode|password|pin)|zoom|webex"
    r"|teams meeting|google meet|meet\.google|conference call|call-in number|videokonferenz"
    r"|réunion teams|reunión de zoom|视频会议|腾讯会议|ビデオ会議|화상 ?회의"
)
MEETING_RE = any_of(MEETING_PATTERN)

# A word of every MEETING_RE alternative (``str.find`` them first: much quicker than the
# regex, which ``re`` tries alternative by alternative at every position)
MEETING_HINTS = (
    "meet", "dial", "webinar", "conferen", "tap mobile", "besprechung", "einwahl", "reuni",
    "union", "riunione", "конференц", "会议", "会議", "ミーティング", "회의", "zoom", "webex",
    "call-in", "konferenz",
)  # fmt: skip


def is_meeting(low: str) -> bool:
    """Is the lower-cased message ``low`` a meeting invitation?"""
    return any(hint in low for hint in MEETING_HINTS) and MEETING_RE.search(low) is not None


# Promotions: a "code" in the same sentence as these is a promo code.
PROMO_RE = any_of(
    tolerant(
        r"\d\s?%|%\s?\d|\b(?:off|discount|coupon|voucher|promo\w*|checkout|sale|offer)\b"
        r"|rabatt|gutschein|angebot|descuento|cup[oó]n|oferta|rebaja|r[ée]duction|remise|soldes"
        r"|sconto|offerta|desconto|cupom|promo[cç][aã]o|korting|aanbieding|zniżk|rabat|promocj"
        r"|indirim|kampanya|скидк|промо|акци|знижк|优惠|折扣|打折|割引|クーポン|セール|할인|쿠폰|특가"
        r"|خصم|عرض|تخفيض|छूट|ऑफ़र|diskon|potongan|giảm giá|khuyến mãi"
    )
)

# A verification link almost always comes with an expiry or an "ignore if not you" line.
LINK_GATE_RE = any_of(
    tolerant(
        r"expir|valid|only once|one[- ]time|single[- ]use|didn'?t (?:request|ask|try|sign)"
        r"|did not (?:request|ask|try)|ignore|gültig|läuft|nicht angefordert|ignorier|caduc|expira"
        r"|válid|valable|expire|ignorez|scad|valid[oa]|ignora|geldig|verloopt|negeer|ważn|wygaś"
        r"|zignoruj|geçerli|dikkate almayın|действ|истек|игнорир|проигнорир|дійсн|ігнор|有效|过期"
        r"|忽略|有効|期限|無視|유효|만료|무시|صالح|صلاحية|تنتهي|تجاهل|मान्य|समाप्त|अनदेखा|berlaku"
        r"|kedaluwarsa|abaikan|hiệu lực|hết hạn|bỏ qua|vale[mu]? |válido|requested|a request"
        r"|received your request|solicit|demandé|demande de|angefordert|anfrage|richiesta|richiesto"
        r"|verzoek|prośb|talep|запрос|запит|请求|申请|リクエスト|요청|अनुरोध|permintaan|yêu cầu"
    )
)

# Month names/abbreviations that mark a nearby 4-digit number as a year.
MONTH_RE = re.compile(
    tolerant(
        r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|januar|februar|märz|mai|juni"
        r"|juli|oktober|dezember|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre"
        r"|octubre|noviembre|diciembre|janvier|février|mars|avril|juin|juillet|août|septembre"
        r"|octobre|novembre|décembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro"
        r"|dezembro|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre"
        r"|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
        r"[a-zäéû.]*\s*\d{0,2},?\s*$"
    )
)

CURRENCY_BEFORE_RE = re.compile(
    r"(?:[$€£¥₹₽₩₺₴₫฿]|r\$|\b(?:eur|usd|gbp|rub|chf|jpy|cny|rmb|brl|mxn|sar|aed|inr|krw|pln|try"
    r"|uah|idr|vnd|rs|rp|cad|aud|nzd|sek|nok|dkk)) ?$"
)

UNIT_AFTER_RE = re.compile(
    r"^ ?(?:[%€₽¥£$₩₺₴₫円元원]|eur\b|usd\b|gbp\b|rub\b|руб|р\.|zł|kr\b|ريال|درهم|جنيه|dh\b"
    r"|tl\b|лв|грн|rs\b|km\b|kg\b|lbs?\b|mb\b|gb\b|px\b|年|月|日|時|分|秒|号|番地|人|件|個|개|명)"
)

# Uppercase words that are code labels even though they look like state/airline prefixes.
UPPER_LABEL_WORDS = frozenset({"PIN", "OTP", "TAN", "SMS", "MFA", "TFA", "CODE", "2FA", "OTC"})
