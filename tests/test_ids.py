"""Ids sort by creation, so an id is a cursor."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from agentid import ids


def test_ids_increase_and_are_valid() -> None:
    made = [ids.new_id() for _ in range(10_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(ids.is_valid(i) and len(i) == ids.ID_LENGTH for i in made)


def test_id_carries_its_time() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    made = ids.new_id()
    assert before <= ids.timestamp(made) <= datetime.now(UTC)


def test_invalid_ids() -> None:
    for bad in ("", "x" * 26, "01ARZ3NDEKTSV4RRFFQ69G5FA", "81ARZ3NDEKTSV4RRFFQ69G5FAV", "01arz3"):
        assert not ids.is_valid(bad)
