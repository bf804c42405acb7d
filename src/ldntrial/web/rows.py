"""Model rows written and read with plain SQL, for the paths that run per diary entry.

The ORM compiles every query anew on every call, which was most of what a
diary entry cost the server in the evening rush (issue 5). Here statements
are built once per model, each value going in is prepared by its own field
(``get_db_prep_save``) and each coming out is converted by the same
converters the ORM applies, so a row is stored and read back exactly as the
ORM would (a UUID as hex on SQLite, JSON as jsonb on PostgreSQL...).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection, models

__all__ = ["column_list", "insert_row", "instance_from_row", "row_values", "select_list"]

Row = TypeVar("Row", bound=models.Model)


def insert_row(instance: models.Model) -> None:
    """INSERT ``instance`` as it is, primary key included (no default is filled in)."""
    model = type(instance)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, connection.vendor), row_values(instance, _fields(model)))


def row_values(instance: models.Model, fields: tuple[models.Field, ...]) -> list[Any]:
    """The values of ``fields`` as this database's driver takes them."""
    return [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]


def column_list(fields: tuple[models.Field, ...]) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


def select_list(model: type[models.Model], alias: str) -> str:
    """Every column of ``model`` under table ``alias``, in :func:`instance_from_row` order."""
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in _fields(model))


def instance_from_row(model: type[Row], values: Sequence[object]) -> Row:
    """The instance whose columns, from :func:`select_list`, are ``values``."""
    converted = []
    for value, converters in zip(values, _converters(model, connection.vendor), strict=True):
        for converter, field in converters:
            value = converter(value, field, connection)
        converted.append(value)
    return model.from_db(connection.alias, _attnames(model), converted)


@cache
def _converters(model: type[models.Model], vendor: str) -> tuple[tuple, ...]:
    """Per column, what the ORM's compiler applies to a value read from this database."""
    columns = []
    for field in _fields(model):
        column = field.get_col(model._meta.db_table)
        # The column's own converters are its field's (Col.get_db_converters).
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        columns.append(tuple((converter, column) for converter in found))
    return tuple(columns)


@cache
def _fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(model._meta.concrete_fields)


@cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in _fields(model))


@cache
def _insert_sql(model: type[models.Model], vendor: str) -> str:
    fields = _fields(model)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {model._meta.db_table} ({column_list(fields)}) VALUES ({placeholders})"
