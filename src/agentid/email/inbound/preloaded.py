"""Imported last by the fork server, after the helpers' modules: everything loaded so far
is moved out of the garbage collector's reach, so the collector running in a helper does
not write to (and so copy) the pages every helper shares with the fork server."""

from __future__ import annotations

import gc

gc.collect()
gc.freeze()
