"""Request-level middleware of the web kit.

ChineseFirstMiddleware: Chinese by default, whatever the browser's Accept-Language says.

The product is for Chinese offices: a clerk on an English-language browser should still get the
Chinese UI unless they pick English from the language menu (which sets the language cookie).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from jixiao.hygiene import CONTROL_CHARACTER_MESSAGE, has_control_characters


class ChineseFirstMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class ControlCharacterMiddleware:
    """Refuse, with a 400 and a Chinese message, any request whose path, query string, form
    fields, JSON body, cookies or headers hold a control character other than tab, LF and CR.

    Why one middleware: a NUL reached PostgreSQL from forms, ballot opinions, query strings and
    the API alike and came back as a 500. Checking every input once, before sessions, CSRF or a
    view touch it, fixes the cause for every current and future field. Uploaded files are not
    text and are not inspected (the importers check their cells).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _request_has_control_characters(request):
            return _refuse(request)
        return self.get_response(request)


def _request_has_control_characters(request: HttpRequest) -> bool:
    if has_control_characters(request.path_info):
        return True
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and has_control_characters(value):
            return True
    if _any_control(request.GET.lists()) or _any_control(request.COOKIES.items()):
        return True
    content_type = request.content_type or ""
    if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        try:
            return _any_control(request.POST.lists())
        except (ValueError, UnicodeDecodeError):  # malformed bodies are the view's 400 to give
            return False
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = json.loads(request.body)
        except ValueError:  # not JSON: the API answers 400 "Cannot parse request body"
            return False
        return _json_has_control_characters(data)
    return False


def _any_control(pairs: Iterable[tuple[str, Any]]) -> bool:
    for key, value in pairs:
        values = value if isinstance(value, list) else [value]
        if has_control_characters(key) or any(
            isinstance(v, str) and has_control_characters(v) for v in values
        ):
            return True
    return False


def _json_has_control_characters(data: Any) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_control_characters(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refuse(request: HttpRequest) -> HttpResponse:
    message = str(CONTROL_CHARACTER_MESSAGE)
    if request.path_info.startswith("/api/") or "json" in (request.content_type or ""):
        return JsonResponse({"detail": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)
