"""Registry import and export pages: upload a workbook, download the template or an export."""

from __future__ import annotations

import tempfile
from typing import IO, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from jixiao.accounts.permissions import office_required, request_user
from jixiao.organisation.excel import (
    XLSX_CONTENT_TYPE,
    can_export,
    registry_export,
    registry_import,
    template_rows,
    write_workbook,
)

# Beyond this an upload is refused before it is read (200,000 officials is about 10 MB).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# The result page lists at most this many errors; the console command prints them all.
MAX_ERRORS_SHOWN = 2_000


class RegistryUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("名册文件（.xlsx）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm," + XLSX_CONTENT_TYPE}),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("文件过大（上限 %(mb)s MB）") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


@login_required
@office_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: import, then the counts or every error found."""
    form = RegistryUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = registry_import(
            actor=request_user(request), source=cast(IO[bytes], upload), filename=upload.name
        )
        return render(
            request,
            "organisation/io_result.html",
            {
                "result": result,
                "filename": upload.name,
                "errors_shown": result.errors[:MAX_ERRORS_SHOWN],
                "errors_hidden": max(0, len(result.errors) - MAX_ERRORS_SHOWN),
            },
            status=200 if result.ok else 422,
        )
    return render(request, "organisation/io_import.html", {"form": form})


def _xlsx_response(handle: IO[bytes], stem: str) -> FileResponse:
    handle.seek(0)
    name = f"{stem}-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE)


@login_required
@require_GET
def template_view(request: HttpRequest) -> FileResponse:
    """The blank template: headers, one example row per sheet and the notes sheet."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115  # FileResponse closes (and so deletes) it
    write_workbook(handle, template_rows())
    return _xlsx_response(handle, _("名册导入模板"))


@login_required
@require_GET
def export_view(request: HttpRequest) -> FileResponse:
    """The registry the user may see, in the import format; audited."""
    user = request_user(request)
    if not can_export(user):
        raise PermissionDenied
    # A temporary file rather than memory: xlsxwriter streams rows in constant-memory mode.
    handle = tempfile.TemporaryFile()  # noqa: SIM115  # FileResponse closes (and so deletes) it
    registry_export(actor=user, target=handle)
    return _xlsx_response(handle, _("名册导出"))
