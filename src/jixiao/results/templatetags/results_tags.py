"""Template filters that turn engine reason codes into labels."""

from __future__ import annotations

from typing import Any

from django import template
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
