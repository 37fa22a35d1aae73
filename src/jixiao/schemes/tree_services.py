"""Writes the scheme editor needs beyond :mod:`jixiao.schemes.services`.

Each is one transaction built from the audited services there, so a view calls exactly one
function and a failure anywhere (bad rule parameters, a fifth level) saves nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jixiao.accounts.models import User
from jixiao.accounts.services import instance_create, instance_update
from jixiao.organisation.models import Unit
from jixiao.schemes.lifecycle import assert_cycle_editable
from jixiao.schemes.models import Component, Cycle, IndicatorNode, LibraryEntry, Scheme
from jixiao.schemes.services import indicator_add_child, indicator_update, rule_params_clean, scheme_copy


@transaction.atomic
def indicator_create(
    *,
    actor: User,
    scheme: Scheme,
    parent: IndicatorNode | None,
    component: Component | None,
    name: str,
    weight: Decimal,
    rule_type: str = "",
    rule_params: dict[str, Any] | None = None,
    target_text: str = "",
    code: str = "",
    kind: str = "",
    is_long_term: bool = False,
    lead_unit: Unit | None = None,
) -> IndicatorNode:
    """Add a node under ``parent`` (or at level 1 of ``component``) with every editable field set;
    return it. Raises ValidationError (nothing saved) for a fifth level or bad rule parameters."""
    node = indicator_add_child(
        actor=actor,
        scheme=scheme,
        parent=parent,
        component=component,
        name=name,
        weight=weight,
        rule_type=rule_type,
        rule_params=rule_params,
        target_text=target_text,
    )
    extra: dict[str, Any] = {}
    if code:
        extra["code"] = code
    if kind and kind != node.kind:
        extra["kind"] = kind
    if is_long_term:
        extra["is_long_term"] = True
    if lead_unit is not None:
        extra["lead_unit"] = lead_unit
    if extra:
        node = indicator_update(actor=actor, node=node, fields=extra)
    return node


def previous_cycle(*, cycle: Cycle) -> Cycle | None:
    """Return the latest cycle before ``cycle`` (usually last year's), or None."""
    return Cycle.objects.filter(year__lt=cycle.year).order_by("-year").first()


@transaction.atomic
def cycle_copy_previous(*, actor: User, cycle: Cycle) -> list[Scheme]:
    """Copy every scheme of the previous cycle whose category ``cycle`` lacks; return the copies."""
    assert_cycle_editable(cycle)
    source_cycle = previous_cycle(cycle=cycle)
    if source_cycle is None:
        raise ValidationError(_("没有更早的考核周期可复制"))
    have = set(cycle.schemes.values_list("category_id", flat=True))
    sources = source_cycle.schemes.select_related("cycle").exclude(category_id__in=have)
    copies = [scheme_copy(actor=actor, source=source, cycle=cycle) for source in sources]
    if not copies:
        raise ValidationError(_("%(year)s 年度的方案已全部复制过或没有方案") % {"year": source_cycle.year})
    return copies


@transaction.atomic
def library_entry_save(*, actor: User, entry: LibraryEntry, before: dict[str, Any] | None) -> LibraryEntry:
    """Validate the entry's rule parameters, then create (``before`` is None) or update it, audited."""
    entry.rule_params = rule_params_clean(
        rule_type=entry.rule_type, params=entry.rule_params or {}, where=entry.name
    )
    if before is None:
        return instance_create(actor=actor, instance=entry)
    return instance_update(actor=actor, instance=entry, before=before)
