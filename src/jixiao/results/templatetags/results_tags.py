"""Template filters that turn engine reason codes into labels."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django_stubs_ext import StrOrPromise

from jixiao.results import labels
from jixiao.schemes.rule_types import params_text

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


@register.filter
def rule_params(params: dict[str, Any] | None, rule_type: str) -> str:
    """``{{ params|rule_params:rule_type }}``: a rule's parameters in words, never as a dict."""
    return params_text(rule_type, params or {})


@register.simple_tag
def sort_attrs(link: dict[str, str]) -> str:
    """``aria-sort`` of a sortable header (``link`` from the view's sort links), or nothing."""
    return format_html('aria-sort="{}"', link["state"]) if link.get("state") else ""


@register.simple_tag
def sort_arrow(link: dict[str, str]) -> str:
    """The arrow after the header the ranking is sorted by (▲ ascending, ▼ descending)."""
    arrow = {"ascending": " ▲", "descending": " ▼"}.get(link.get("state", ""), "")
    return format_html('<span aria-hidden="true">{}</span>', arrow) if arrow else ""
