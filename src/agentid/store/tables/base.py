"""The declarative base every table derives from (its metadata is what Alembic compares the
migrations with), the constraint naming convention, the column type for times and the
one kind of reference between tables."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import MappedColumn
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def deleted_with(
    target: str,
    *,
    primary_key: bool = False,
    index: bool | None = None,
    unique: bool | None = None,
) -> MappedColumn[Any]:
    """A column holding the key of ``target`` (``"projects.id"``): the row goes when the
    row it names does (``ON DELETE CASCADE``), the one kind of reference the tables make."""
    return mapped_column(
        ForeignKey(target, ondelete="CASCADE"), primary_key=primary_key, index=index, unique=unique
    )


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, for executemany hot paths (no ORM unit of work)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
