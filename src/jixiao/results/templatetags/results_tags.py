"""Template filters that turn engine reason codes into labels."""

from __future__ import annotations

from django import template
from django_stubs_ext import StrOrPromise

from jixiao.results import labels

register = template.Library()


@register.filter
def flag_label(code: str) -> StrOrPromise:
    return labels.FLAGS.get(code, code)


@register.filter
def decision_label(code: str) -> StrOrPromise:
    return labels.decision_label(code)


@register.filter
def label_in(code: str, table: dict[str, str]) -> str:
    """``{{ code|label_in:names }}``: the name of ``code`` in ``table``, or the code itself."""
    return str(table.get(code, code))
