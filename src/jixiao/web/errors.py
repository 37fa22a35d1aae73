"""Error views Django cannot render in the product's layout on its own.

403, 404 and 500 use Django's handlers with the templates ``403.html``, ``404.html`` and
``500.html`` at the template root. The CSRF failure view is Django's plain English page unless
``CSRF_FAILURE_VIEW`` names a view, so this one renders ``403_csrf.html`` in the layout.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (expired or missing CSRF token): a Chinese page asking to submit again.

    ``reason`` is Django's English diagnosis; it goes to the ``django.security.csrf`` log, not to
    the user.
    """
    return render(request, "403_csrf.html", status=403)
