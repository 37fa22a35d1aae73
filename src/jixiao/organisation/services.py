"""Writes to the registry that are more than one audited create/update/delete."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jixiao.accounts.audit import snapshot
from jixiao.accounts.models import User
from jixiao.accounts.services import instance_create, instance_update
from jixiao.organisation.models import Official, Position, Tenure


@transaction.atomic
def tenure_appoint(*, actor: User, position: Position, official: Official, start: date) -> Tenure:
    """End the post's open tenure (the predecessor's) on ``start`` and open the successor's; return
    the new tenure. The successor inherits the post, and with it the post's history."""
    current = Tenure.objects.select_for_update().filter(position=position, end__isnull=True).first()
    if current is not None:
        if start < current.start:
            raise ValidationError(_("新任职开始日期不能早于前任的任职开始日期"))
        before = snapshot(current)
        current.end = start
        instance_update(actor=actor, instance=current, before=before)
    return instance_create(actor=actor, instance=Tenure(position=position, official=official, start=start))
