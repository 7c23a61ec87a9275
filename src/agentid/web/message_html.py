"""A received message's HTML, made safe to show in the web page.

The HTML is shown in an ``<iframe sandbox>`` (no ``allow-scripts``, ``allow-forms``,
``allow-same-origin``, ``allow-popups``, ``allow-top-navigation``) and served from its own
/ui route with its own policy: nothing loads but inline styles, ``data:`` images (and, only
when the reader turns remote images on, ``https:`` ones), no script runs, no form posts,
and the document is sandboxed even when opened on its own. On top of that, elements that
could act without a script are taken out before it is served (``<meta http-equiv>``
refreshes, ``<base>``, ``<link>``, ``<script>``, ``<object>``, ``<embed>``, nested frames),
and inline images (``cid:``) become ``data:`` URLs of the message's own attachments.
While remote images are off, what would fetch one (``src``, ``srcset``, ``poster``,
``background`` that is not a ``data:`` URL) is taken out too, so the browser never even
tries (the policy would block it, but a blocked attempt still shows in its request log).
"""

from __future__ import annotations

from collections.abc import Mapping

from selectolax.lexbor import LexborHTMLParser

from agentid.extract.nesting import limit_nesting

MAX_DEPTH = 512  # elements nested deeper are dropped before parsing (quadratic otherwise)
REMOVED = "meta[http-equiv], base, link, script, object, embed, iframe, frame, frameset, applet"
FETCHING = ("src", "srcset", "poster", "background")  # attributes that load what they name
STYLE = (
    "<style>html{color-scheme:light dark}body{margin:0.5rem;font-family:system-ui,sans-serif;"
    "overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}</style>"
)


def policy(remote_images: bool) -> str:
    """The Content-Security-Policy a message's HTML is served with."""
    images = "data: cid: https:" if remote_images else "data: cid:"
    return (
        f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'; font-src data:; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox"
    )


def cids(html: str) -> set[str]:
    """The inline images (``cid:`` URLs) the HTML refers to, without the scheme."""
    tree = LexborHTMLParser(limit_nesting(html, MAX_DEPTH))
    found = set()
    for node in tree.css("img[src]"):
        src = (node.attrs.get("src") or "").strip()
        if src.lower().startswith("cid:"):
            found.add(src[4:].strip("<>"))
    return found


def shown(html: str, inline: Mapping[str, str], remote_images: bool = False) -> str:
    """The HTML to serve: acting elements out, ``cid:`` images replaced by ``inline``'s
    ``data:`` URLs, remote sources out unless ``remote_images``, and a style that keeps it
    within the frame."""
    tree = LexborHTMLParser(limit_nesting(html, MAX_DEPTH))
    for node in tree.css(REMOVED):
        node.decompose()
    for node in tree.css("img[src]"):
        src = (node.attrs.get("src") or "").strip()
        if src.lower().startswith("cid:") and (url := inline.get(src[4:].strip("<>"))):
            node.attrs["src"] = url
    if not remote_images:
        for name in FETCHING:
            for node in tree.css(f"[{name}]"):
                if not (node.attrs.get(name) or "").strip().lower().startswith("data:"):
                    del node.attrs[name]
    body = tree.html or ""
    return '<!doctype html><meta charset="utf-8">' + STYLE + body
