"""A logging filter that masks bearer tokens in the request paths and queries that reach logs.

Rating links now carry their token in the URL fragment, which never reaches the server, but an
old-form link (``/surveys/r/<token>/``), a survey poster's link or a pasted URL with
``?token=…`` still puts one in a request line; ``django.server`` (the access log of runserver)
and ``django.request`` (every 4xx/5xx) would write it out. The filter rewrites the record's
message before any handler formats it.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
# Token-like path segments: the public links' tokens, and any long URL-safe random segment (the
# tokens are ≥ 22 characters; ids, slugs and file names of the product are far shorter).
_LINK_SEGMENT = re.compile(r"(/(?:surveys/r|surveys/s|evaluations/b)/)[A-Za-z0-9_\-]+")
_LONG_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_\-]{22,}(?=[/?#\s\"']|$)")
# Query parameters that authorise: ?token=…, &code=…, ?key=…, ?t=…
_QUERY = re.compile(r"([?&](?:token|code|key|t|access_token)=)[^&\s\"'#]+", re.IGNORECASE)


def scrub(text: str) -> str:
    """``text`` with token-like path segments and authorising query values replaced by ``***``."""
    text = _LINK_SEGMENT.sub(lambda m: m[1] + MASK, text)
    text = _LONG_SEGMENT.sub(MASK, text)
    return _QUERY.sub(lambda m: m[1] + MASK, text)


class TokenScrubFilter(logging.Filter):
    """Mask tokens in a record's message (its arguments included); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the handler
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            # Handlers that print the request (AdminEmailHandler) read its path and query too.
            try:
                request.path = request.path_info = scrub(request.path)
                request.META["QUERY_STRING"] = scrub("?" + request.META.get("QUERY_STRING", ""))[1:]
            except (AttributeError, TypeError):
                pass
        return True
