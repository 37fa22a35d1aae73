"""Public satisfaction surveys, rate-any-time service ratings and third-party samples (M9).

满意度调查 Survey with 题目 SurveyQuestion and 调查点 SurveyTarget (a unit or service point with a
public link and QR code), 答卷 SurveyResponse; 随时评 ServiceEvent (a service event with a one-time
rating link) and 评价 ServiceRating; 发送队列 OutboxMessage; 接口令牌 ServiceToken for service
systems; 随时评设置 RatingPolicy (tags, link validity, sample-monitor threshold and window);
样本不足提醒 SampleReminder; 第三方测评导入 ThirdPartyImport.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import DESCRIPTION_MAX_LENGTH, OPINION_MAX_LENGTH, text_validators
from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import Cycle

# National common practice (DOMAIN.md): 很满意100/满意80/基本满意60/不太满意30/不满意0.
DEFAULT_SCALE: list[dict[str, Any]] = [
    {"label": "很满意", "points": 100},
    {"label": "满意", "points": 80},
    {"label": "基本满意", "points": 60},
    {"label": "不太满意", "points": 30},
    {"label": "不满意", "points": 0},
]
DEFAULT_SURVEY_TAGS: list[str] = [
    "办事效率高",
    "态度热情",
    "一次办成",
    "等候时间长",
    "材料要求多",
    "环境整洁",
]
DEFAULT_RATING_TAGS: list[str] = ["热情", "高效", "专业", "一次办结", "态度生硬", "办事拖拉", "多次跑腿"]
DEFAULT_RATER_GROUP = "public"
DEFAULT_ITEM = "overall"


def default_scale() -> list[dict[str, Any]]:
    return [dict(option) for option in DEFAULT_SCALE]


def default_survey_tags() -> list[str]:
    return list(DEFAULT_SURVEY_TAGS)


def default_rating_tags() -> list[str]:
    return list(DEFAULT_RATING_TAGS)


DEFAULT_LIMIT_HOURS = 24
DEFAULT_ADDRESS_LIMIT = 5
DEFAULT_DEVICE_LIMIT = 20


class SuspectReason(models.TextChoices):
    """Why an answer is suspect (可疑答卷): it exceeded a survey's per-address or per-device limit."""

    NONE = "", _("无")
    ADDRESS = "address", _("同一网络地址提交过多")
    DEVICE = "device", _("同一设备提交过多")


class Survey(models.Model):
    """A satisfaction questionnaire of a cycle. ``scale`` maps answer labels to points (data, not
    code); each question's ``item`` is the engine's rating item its answers land on."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("标题"), max_length=120)
    intro = models.TextField(
        _("说明"),
        blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=text_validators(DESCRIPTION_MAX_LENGTH),
    )
    scale: models.JSONField[list[dict[str, Any]]] = models.JSONField(_("量表"), default=default_scale)
    tags: models.JSONField[list[str]] = models.JSONField(_("标签"), default=default_survey_tags, blank=True)
    allow_opinion = models.BooleanField(_("允许填写意见"), default=True)
    rater_group = models.SlugField(_("计入评价主体"), max_length=32, default=DEFAULT_RATER_GROUP)
    dedupe_hours = models.PositiveIntegerField(
        _("重复提交判定时段(小时)"),
        default=24,
        help_text=_("同一设备在此时段内对同一调查点只计一次；0 表示不判重"),
    )
    # Anti-stuffing limits (data, per survey): answers beyond them are kept but marked suspect and
    # left out of the facts (docs/surveys.md, "Suspect answers"). Generous defaults, because a
    # service hall or an office network puts many honest people behind one address.
    limit_hours = models.PositiveIntegerField(
        _("限额统计时段(小时)"),
        default=DEFAULT_LIMIT_HOURS,
        help_text=_("下面两项限额在此时段内计数；0 表示整个调查期间为一个时段"),
    )
    address_limit = models.PositiveIntegerField(
        _("同一网络地址限额"),
        default=DEFAULT_ADDRESS_LIMIT,
        help_text=_("同一网络地址在一个时段内对同一调查点计入的答卷数，超出的答卷标记为可疑；0 表示不限"),
    )
    device_limit = models.PositiveIntegerField(
        _("同一设备限额"),
        default=DEFAULT_DEVICE_LIMIT,
        help_text=_("同一设备在一个时段内可计入的调查点数，超出的答卷标记为可疑；0 表示不限"),
    )
    is_open = models.BooleanField(_("开放填写"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("满意度调查")
        verbose_name_plural = _("满意度调查")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(
        Survey, verbose_name=_("调查"), on_delete=models.CASCADE, related_name="questions"
    )
    item = models.SlugField(_("评价项目代码"), max_length=32)
    text = models.CharField(_("题目"), max_length=200)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("调查题目")
        verbose_name_plural = _("调查题目")
        ordering = ["survey_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["survey", "item"], name="survey_question_unique_item")]

    def __str__(self) -> str:
        return self.text


class SurveyTarget(models.Model):
    """A unit (optionally one official or a service point of it) that a survey link rates."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("调查"), on_delete=models.CASCADE, related_name="targets"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    official = models.ForeignKey(
        Official, verbose_name=_("干部"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_point = models.CharField(_("服务点"), max_length=100, blank=True)
    token = models.SlugField(_("链接码"), max_length=32, unique=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("调查点")
        verbose_name_plural = _("调查点")
        ordering = ["survey_id", "unit__code", "service_point", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "unit", "service_point"],
                condition=Q(official__isnull=True),
                name="survey_target_unique_point",
            ),
            models.UniqueConstraint(
                fields=["survey", "official"],
                condition=Q(official__isnull=False),
                name="survey_target_unique_official",
            ),
        ]

    def __str__(self) -> str:
        parts = [str(self.unit)]
        if self.official_id:
            parts.append(str(self.official))
        if self.service_point:
            parts.append(self.service_point)
        return " · ".join(parts)


class SurveyResponse(models.Model):
    """One citizen's answers: ``points`` maps question item → points on the survey's scale
    (questions answered 不了解 are absent). ``device`` is a hash of the signed device cookie and
    ``bucket`` the dedupe window index: the unique constraint makes a duplicate impossible."""

    # The hot insert path: no database FK checks (each takes a KEY SHARE lock on the one survey and
    # link row every concurrent insert shares) and no separate FK indexes (the two indexes below
    # start with these columns). Django's ORM still cascades deletes of surveys and links.
    survey = models.ForeignKey(
        Survey,
        verbose_name=_("调查"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    target = models.ForeignKey(
        SurveyTarget,
        verbose_name=_("调查点"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    points: models.JSONField[dict[str, int]] = models.JSONField(_("得分"))
    tags: models.JSONField[list[str]] = models.JSONField(_("标签"), default=list, blank=True)
    opinion = models.TextField(
        _("意见建议（已去标识）"),
        blank=True,
        max_length=OPINION_MAX_LENGTH,
        validators=text_validators(OPINION_MAX_LENGTH),
    )
    # NULL, not "": a NULL device never collides in the unique constraint (no cookie → no dedupe).
    device = models.CharField(_("设备标识摘要"), max_length=24, null=True, blank=True)  # noqa: DJ001
    bucket = models.IntegerField(_("判重时段"), default=0)
    # A keyed digest of the client address (never the address itself) and the survey's limit
    # window index; together with ``device`` they decide ``suspect`` (antiabuse.py).
    address = models.CharField(_("网络地址摘要"), max_length=24, null=True, blank=True)  # noqa: DJ001
    limit_window = models.IntegerField(_("限额时段"), default=0)
    suspect = models.BooleanField(_("可疑"), default=False)
    suspect_reason = models.CharField(
        _("可疑原因"), max_length=8, choices=SuspectReason.choices, default=SuspectReason.NONE, blank=True
    )
    is_valid = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("提交时间"))

    class Meta:
        verbose_name = _("答卷")
        verbose_name_plural = _("答卷")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "device", "bucket"], name="survey_response_one_per_window"
            ),
            models.CheckConstraint(
                condition=Q(suspect=False, suspect_reason="") | (Q(suspect=True) & ~Q(suspect_reason="")),
                name="survey_response_suspect_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["survey", "created_at"]),
            # The two bounded counts of the submit path (submit.py).
            models.Index(fields=["target", "address", "limit_window"], name="survey_resp_address_window"),
            models.Index(fields=["survey", "device", "limit_window"], name="survey_resp_device_window"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class RatingPolicy(models.Model):
    """The one row of rate-any-time settings (data the office edits, not code)."""

    tags: models.JSONField[list[str]] = models.JSONField(
        _("评价标签"), default=default_rating_tags, blank=True
    )
    link_valid_days = models.PositiveIntegerField(_("评价链接有效天数"), default=7)
    monitor_threshold = models.PositiveIntegerField(_("最少有效评价数"), default=30)
    monitor_window_days = models.PositiveIntegerField(_("统计时段(天)"), default=183)
    count_survey_answers = models.BooleanField(_("调查答卷计入样本"), default=True)
    rater_group = models.SlugField(_("计入评价主体"), max_length=32, default=DEFAULT_RATER_GROUP)
    unit_item = models.SlugField(_("单位评价项目代码"), max_length=32, default=DEFAULT_ITEM)
    official_item = models.SlugField(_("干部评价项目代码"), max_length=32, default=DEFAULT_ITEM)

    class Meta:
        verbose_name = _("随时评设置")
        verbose_name_plural = _("随时评设置")

    def __str__(self) -> str:
        return str(_("随时评设置"))


class EventChannel(models.TextChoices):
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")
    NONE = "none", _("不发送（现场扫码）")


class EventOrigin(models.TextChoices):
    UI = "ui", _("页面登记")
    API = "api", _("服务系统接口")


class ServiceEvent(models.Model):
    """One public service (办件、走访、接待) by a unit or one of its officials. The rating link's
    token is stored only as its SHA-256; the contact is never stored here (see OutboxMessage)."""

    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    official = models.ForeignKey(
        Official, verbose_name=_("干部"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service = models.CharField(_("服务事项"), max_length=120)
    occurred_at = models.DateTimeField(_("服务时间"))
    channel = models.CharField(
        _("发送渠道"), max_length=8, choices=EventChannel.choices, default=EventChannel.SMS
    )
    origin = models.CharField(_("来源"), max_length=4, choices=EventOrigin.choices, default=EventOrigin.UI)
    external_ref = models.CharField(_("业务系统编号"), max_length=64, blank=True)
    token_hash = models.CharField(_("链接摘要"), max_length=64, unique=True)
    expires_at = models.DateTimeField(_("链接有效期至"))
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    service_token = models.ForeignKey(
        "ServiceToken",
        verbose_name=_("接口令牌"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务事件")
        verbose_name_plural = _("服务事件")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "external_ref"],
                condition=~Q(external_ref=""),
                name="service_event_unique_ref",
            )
        ]
        indexes = [models.Index(fields=["unit", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.unit} {self.service} {self.occurred_at:%Y-%m-%d}"


class ServiceRating(models.Model):
    """The rating of one service event: 1–10 points plus tags (one per event, enforced)."""

    event = models.OneToOneField(
        ServiceEvent, verbose_name=_("服务事件"), on_delete=models.CASCADE, related_name="rating"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    official = models.ForeignKey(
        Official, verbose_name=_("干部"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    score = models.PositiveSmallIntegerField(_("评分(1-10)"))
    tags: models.JSONField[list[str]] = models.JSONField(_("标签"), default=list, blank=True)
    opinion = models.TextField(
        _("意见建议（已去标识）"),
        blank=True,
        max_length=OPINION_MAX_LENGTH,
        validators=text_validators(OPINION_MAX_LENGTH),
    )
    is_valid = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("评价时间"))

    class Meta:
        verbose_name = _("随时评评价")
        verbose_name_plural = _("随时评评价")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=10), name="service_rating_score_range"
            )
        ]
        indexes = [
            models.Index(fields=["unit", "created_at"]),
            models.Index(fields=["official", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.score}/10 #{self.event_id}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    EXPIRED = "expired", _("已过期未发")


class OutboxMessage(models.Model):
    """A rating link waiting to be sent. ``sealed`` holds the contact and the message, encrypted;
    it is emptied as soon as the message is sent or the link expires."""

    event = models.ForeignKey(
        ServiceEvent, verbose_name=_("服务事件"), on_delete=models.CASCADE, related_name="outbox"
    )
    channel = models.CharField(_("渠道"), max_length=8, choices=EventChannel.choices)
    sealed = models.TextField(_("加密内容"), blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("发送队列")
        verbose_name_plural = _("发送队列")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.event_id} {self.get_status_display()}"


class ServiceToken(models.Model):
    """A bearer token a unit's service system uses to post events; only its SHA-256 is kept."""

    name = models.CharField(_("名称"), max_length=100)
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    prefix = models.CharField(_("令牌前缀"), max_length=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SampleReminder(models.Model):
    """A record that an entity had too few valid ratings in a window (样本不足提醒)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    official = models.ForeignKey(
        Official, verbose_name=_("干部"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    window_start = models.DateField(_("统计开始"))
    window_end = models.DateField(_("统计截止"))
    count = models.PositiveIntegerField(_("有效评价数"))
    threshold = models.PositiveIntegerField(_("最少评价数"))
    created_at = models.DateTimeField(_("提醒时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("样本不足提醒")
        verbose_name_plural = _("样本不足提醒")
        ordering = ["-window_end", "count"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(official__isnull=True))
                | (Q(unit__isnull=True) & Q(official__isnull=False)),
                name="sample_reminder_one_entity",
            ),
            models.UniqueConstraint(fields=["unit", "window_end"], name="sample_reminder_unique_unit"),
            models.UniqueConstraint(
                fields=["official", "window_end"], name="sample_reminder_unique_official"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.window_end} {self.unit_id or self.official_id}: {self.count}/{self.threshold}"


class ThirdPartyImport(models.Model):
    """One imported workbook of a survey firm; its rows are facts with source ``third-party:<digest>``."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    rater_group = models.SlugField(_("评价主体"), max_length=32)
    digest = models.CharField(_("文件摘要"), max_length=64)
    filename = models.CharField(_("文件名"), max_length=200)
    rows = models.PositiveIntegerField(_("行数"))
    samples = models.PositiveIntegerField(_("样本总量"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("第三方测评导入")
        verbose_name_plural = _("第三方测评导入")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.source})"

    @property
    def source(self) -> str:
        return third_party_source(self.digest)


def third_party_source(digest: str) -> str:
    return f"third-party:{digest[:12]}"
