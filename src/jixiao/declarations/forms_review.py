"""Forms of the review pages: a review stage, a preset, and a decision with per-indicator fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jixiao.declarations.models import ReviewerRole, ReviewOutcome
from jixiao.declarations.review import PRESETS, STAGE_NAME_MAX
from jixiao.declarations.review_selectors import ReviewRow
from jixiao.hygiene import NOTE_MAX_LENGTH, OPINION_MAX_LENGTH


class StageAddForm(forms.Form):
    name = forms.CharField(label=_("环节名称"), max_length=STAGE_NAME_MAX)
    role = forms.ChoiceField(label=_("审核人"), choices=ReviewerRole.choices)


class PresetForm(forms.Form):
    preset = forms.ChoiceField(
        label=_("预设流程"), choices=[(k, p.label) for k, p in PRESETS.items()], widget=forms.RadioSelect
    )


def comment_field(uid: str) -> str:
    return f"c_{uid}"


def reason_field(uid: str) -> str:
    return f"r_{uid}"


class DecisionForm(forms.Form):
    """Outcome and overall comment, one optional comment per indicator, and a reason field for
    each flagged target (required on approval; the service checks it too)."""

    outcome = forms.ChoiceField(label=_("审核结论"), choices=ReviewOutcome.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, rows: Sequence[ReviewRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = list(rows)
        for row in self.rows:
            uid = str(row.item.get("uid"))
            self.fields[comment_field(uid)] = forms.CharField(
                label=_("对“%(n)s”的意见") % {"n": row.check.name},
                required=False,
                max_length=OPINION_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            if row.check.flagged:
                self.fields[reason_field(uid)] = forms.CharField(
                    label=_("“%(n)s”目标偏低仍予通过的理由") % {"n": row.check.name},
                    required=False,
                    max_length=OPINION_MAX_LENGTH,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == ReviewOutcome.APPROVE:
            for row in self.rows:
                uid = str(row.item.get("uid"))
                if row.check.flagged and not (data.get(reason_field(uid)) or "").strip():
                    self.add_error(reason_field(uid), _("该目标低于上年实际或上级目标，通过须说明理由"))
        if data.get("outcome") == ReviewOutcome.RETURN:
            has_note = any((data.get(comment_field(str(r.item.get("uid")))) or "").strip() for r in self.rows)
            if not (data.get("comment") or "").strip() and not has_note:
                self.add_error("comment", _("退回修改须填写审核意见或至少一条指标意见"))
        return data

    def indicator_comments(self) -> dict[str, str]:
        return {
            str(r.item.get("uid")): self.cleaned_data.get(comment_field(str(r.item.get("uid"))), "")
            for r in self.rows
        }

    def reasons(self) -> dict[str, str]:
        return {
            str(r.item.get("uid")): self.cleaned_data.get(reason_field(str(r.item.get("uid"))), "")
            for r in self.rows
            if r.check.flagged
        }

    def bound_for(self, row: ReviewRow) -> tuple[forms.BoundField, forms.BoundField | None]:
        """The comment field and (for a flagged target) the reason field of ``row``."""
        uid = str(row.item.get("uid"))
        reason = self[reason_field(uid)] if reason_field(uid) in self.fields else None
        return self[comment_field(uid)], reason
