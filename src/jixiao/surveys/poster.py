"""QR codes (segno) and the printable A4 poster (WeasyPrint) of a survey link."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from jixiao.surveys.models import SurveyTarget
from jixiao.surveys.ratetime import BASE_URL_SETTING


def public_link(request: HttpRequest | None, target: SurveyTarget) -> str:
    """The absolute public URL of ``target``: under ``JIXIAO_PUBLIC_BASE_URL`` when set (the
    address citizens reach, which behind a proxy differs from the request's), else the request's."""
    path = reverse("surveys:public_survey", args=[target.token])
    base = str(getattr(settings, BASE_URL_SETTING, "") or "").rstrip("/")
    if base or request is None:
        return (base or "http://127.0.0.1:8000") + path
    return request.build_absolute_uri(path)


def qr_svg(url: str, scale: int = 8) -> bytes:
    """Return an SVG document of the QR code of ``url`` (error correction M, quiet zone 4)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="svg", scale=scale, border=4)
    return buffer.getvalue()


def qr_data_uri(url: str, scale: int = 12) -> str:
    import segno

    uri: str = segno.make(url, error="m", micro=False).svg_data_uri(scale=scale, border=2)
    return uri


def poster_pdf(request: HttpRequest | None, target: SurveyTarget) -> bytes:
    """Return the A4 poster PDF of ``target``: heading, unit, QR code and the link in print."""
    from weasyprint import HTML

    url = public_link(request, target)
    html = render_to_string(
        "surveys/poster.html", {"target": target, "survey": target.survey, "url": url, "qr": qr_data_uri(url)}
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
