"""The operator's web page at /ui: server-rendered pages (Jinja2), one small script and
one stylesheet of our own, cookie sessions on the server, live updates from the events
table. Its routes call the features' services through the API's own dependencies.

This package stays light: the API app mounts the page at ``PREFIX`` and imports the rest
(``ui.create_ui``) on the first request under it."""

PREFIX = "/ui"
