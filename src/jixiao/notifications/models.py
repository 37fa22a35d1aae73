"""Notifications (通知): an in-product inbox per user, and a record of every delivery.

A notification is identified by its recipient, its *cause* (a stable key such as ``run:42`` or
``report-due:unit:7``) and its due date: the database refuses a second row for the same three, so
a reminder job that runs every minute notifies once, never in a loop. Each delivery (inbox,
e-mail, SMS, WeChat) is recorded with its outcome; addresses are stored masked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import MESSAGE_MAX_LENGTH


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    cause = models.CharField(_("事由"), max_length=200)
    due = models.DateField(_("截止日期"), null=True, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True, max_length=MESSAGE_MAX_LENGTH)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            # NULL dates are distinct in SQL, hence two partial constraints instead of one.
            models.UniqueConstraint(
                fields=["recipient", "cause", "due"],
                condition=Q(due__isnull=False),
                name="notifications_once_per_cause_due",
            ),
            models.UniqueConstraint(
                fields=["recipient", "cause"],
                condition=Q(due__isnull=True),
                name="notifications_once_per_cause",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    INBOX = "inbox", _("站内信")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Delivery(models.Model):
    notification = models.ForeignKey(
        Notification, verbose_name=_("通知"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("地址（已脱敏）"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=DeliveryStatus.choices)
    error = models.CharField(_("失败原因"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("通知发送记录")
        verbose_name_plural = _("通知发送记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_status_display()}"
