// agentid's operator page: copy buttons and live updates. No inline script anywhere:
// the page's Content-Security-Policy allows this file only.
"use strict";

function copy(button) {
  const value = button.getAttribute("data-copy") || "";
  const done = () => {
    const before = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = before; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(value).then(done, () => fallback(value, done));
  } else {
    fallback(value, done);
  }
}

function fallback(value, done) {
  const area = document.createElement("textarea");
  area.value = value;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try { document.execCommand("copy"); done(); } finally { area.remove(); }
}

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button.copy") : null;
  if (button) { copy(button); }
});

// [data-live]: listen to the page's event stream (cookie-authenticated, under /ui/); on
// an event of data-live-kinds, fetch data-live-src and put it in #data-live-target, or,
// with data-live-reload, say that the page changed and offer to reload it.
function live(region) {
  const kinds = (region.getAttribute("data-live-kinds") || "").split(/\s+/).filter(Boolean);
  const status = region.querySelector("[data-live-status]");
  const say = (text) => { if (status) { status.textContent = text; } };
  const source = new EventSource(region.getAttribute("data-live"));
  let pending = null;
  const refresh = async () => {
    const src = region.getAttribute("data-live-src");
    const target = document.getElementById(region.getAttribute("data-live-target") || "");
    if (!src || !target) { return; }
    const answer = await fetch(src, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (answer.redirected || !answer.ok) { say("Signed out or unavailable: reload the page."); return; }
    target.innerHTML = await answer.text();
    say("Updated " + new Date().toLocaleTimeString() + ".");
  };
  for (const kind of kinds) {
    source.addEventListener(kind, () => {
      if (region.hasAttribute("data-live-reload")) {
        let note = region.querySelector(".live-reload");
        if (!note) {
          note = document.createElement("p");
          note.className = "notice live-reload";
          note.setAttribute("role", "status");
          const link = document.createElement("a");
          link.href = window.location.href;
          link.textContent = "Something changed: reload";
          note.appendChild(link);
          region.prepend(note);
        }
        return;
      }
      // several events at once: one fetch after the last of them
      if (pending) { clearTimeout(pending); }
      pending = setTimeout(() => { pending = null; refresh().catch(() => say("Update failed.")); }, 50);
    });
  }
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) { say("Live updates stopped: reload the page."); }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(live);
});
