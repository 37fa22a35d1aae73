"""佐证材料 Evidence: one uploaded file of a unit, attachable to several reports and logs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle


class Evidence(models.Model):
    """A file kept through Django's storage API under a random name (never a guessable URL: it is
    served only by an authorised view). Type is checked by content; photos keep EXIF time/place."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    file = models.FileField(_("文件"), upload_to="evidence/%Y/%m/", max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    thumbnail = models.FileField(_("缩略图"), upload_to="evidence/thumbs/%Y/%m/", max_length=200, blank=True)
    taken_at = models.DateTimeField(_("拍摄时间"), null=True, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["cycle", "unit"])]

    def __str__(self) -> str:
        return self.original_name
