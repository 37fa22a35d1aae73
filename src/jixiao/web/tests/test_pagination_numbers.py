"""The shared pagination writes its counts with thousands separators, in Chinese as in English."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from jixiao.web.templatetags.numbers import grouped


def test_the_pagination_total_is_grouped_by_thousands_in_both_languages() -> None:
    page = Paginator(range(12_345_678), 25).page(2)
    request = RequestFactory().get("/x/", {"page": "2", "q": "a"})
    with translation.override("zh-hans"):
        html = render_to_string("web/pagination.html", {"page": page, "request": request})
    assert "第 2 / 493,828 页，共 12,345,678 条" in html
    with translation.override("en"):
        html = render_to_string("web/pagination.html", {"page": page, "request": request})
    assert "12,345,678" in html and "12345678" not in html


def test_grouped_leaves_what_is_not_a_number_as_it_is() -> None:
    assert grouped(1050) == "1,050" and grouped("") == "" and grouped(None) == "" and grouped("约") == "约"
