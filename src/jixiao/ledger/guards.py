"""Append-only models: the application can insert rows but never update or delete them.

A PostgreSQL trigger (migration ``ledger.0001``) refuses it at the database too; this guard covers
SQLite and fails early with a clear error on both.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or remove an append-only row."""


def _refuse(what: str) -> NoReturn:
    raise AppendOnlyError(f"{what}: rows are append-only")


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        _refuse(f"{self.model._meta.label}.update")

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse(f"{self.model._meta.label}.delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        _refuse(f"{self.model._meta.label}.bulk_update")


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet)


class AppendOnlyModel(models.Model):
    """A model whose rows, once saved, are never saved again nor deleted."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse(f"{self._meta.label}.save")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(f"{self._meta.label}.delete")
