"""Democratic evaluation (民主测评, M8): events, ballot forms, one-time codes and anonymous ballots.

测评活动 EvaluationEvent, 测评表 BallotForm (items 测评项目 on a scale such as 好/较好/一般/较差,
an overall vote 优秀/称职/基本称职/不称职, an optional 不了解 and an opinion), 评价主体
EventGroup (a cycle's RaterGroup taking part, with its expected ballot count), 被测评对象
EventRatee (a leadership team or an official), 测评码 BallotCode, 待入库票 PendingBallot, 测评票
Ballot with its answers, votes and opinions, 计票结果 TallyLine / VoteTally.

Anonymity is a property of these tables (docs/threat-model-ballots.md): no ballot table carries a
timestamp, a sequential id, the code or its hash, and ballots only reach the permanent tables
through a shuffled flush in a transaction of their own.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import OPINION_MAX_LENGTH, text_validators
from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import Cycle, RaterGroup

DEFAULT_FLUSH_BATCH = 20


class FormKind(models.TextChoices):
    """Whom a ballot form is for; teams, heads and members are rated on different forms."""

    TEAM = "team", _("领导班子")
    HEAD = "head", _("班子正职")
    MEMBER = "member", _("班子成员")
    OTHER = "other", _("其他干部")


class Vote(models.TextChoices):
    """The overall vote; the values are facts.VoteCount's field names."""

    EXCELLENT = "excellent", _("优秀")
    COMPETENT = "competent", _("称职")
    BASIC = "basic", _("基本称职")
    INCOMPETENT = "incompetent", _("不称职")


class BallotForm(models.Model):
    """A ballot form: items rated on a scale of labelled points, optionally a vote and an opinion.

    ``scale`` is data, best first: ``[{"label": "好", "points": 95}, …]``. ``unknown_label``
    (e.g. 不了解) offers an answer that is recorded but excluded from every mean; blank: not offered.
    """

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("适用对象"), max_length=8, choices=FormKind.choices)
    scale: models.JSONField[list[dict[str, Any]]] = models.JSONField(_("评价档次"), default=list)
    unknown_label = models.CharField(_("“不了解”选项"), max_length=16, blank=True, default="不了解")
    has_vote = models.BooleanField(_("总体评价投票"), default=False)
    has_opinion = models.BooleanField(_("意见建议"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("测评表")
        verbose_name_plural = _("测评表")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class BallotFormItem(models.Model):
    """One rated item of a form; ``code`` is the item code written to facts.EvaluationScore."""

    form = models.ForeignKey(
        BallotForm, verbose_name=_("测评表"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.SlugField(_("代码"), max_length=32)
    label = models.CharField(_("名称"), max_length=64)
    hint = models.CharField(_("说明"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("测评项目")
        verbose_name_plural = _("测评项目")
        ordering = ["form_id", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["form", "code"], name="ballot_item_unique_code")]

    def __str__(self) -> str:
        return self.label


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("筹备")
    OPEN = "open", _("测评中")
    CLOSING = "closing", _("正在计票")
    CLOSED = "closed", _("已结束")


class VotesMode(models.TextChoices):
    """What closing does to an official's existing facts.VoteCount row."""

    REPLACE = "replace", _("替换已有票数")
    ADD = "add", _("累加到已有票数")


class EvaluationEvent(models.Model):
    """A democratic evaluation: who is rated, by which groups, until when."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=120)
    status = models.CharField(_("状态"), max_length=8, choices=EventStatus.choices, default=EventStatus.DRAFT)
    closes_at = models.DateTimeField(_("截止时间"), help_text=_("测评码随活动截止而失效"))
    flush_batch = models.PositiveIntegerField(
        _("入库批量"),
        default=DEFAULT_FLUSH_BATCH,
        help_text=_("待入库票达到此数量时打乱顺序一并入库；数值越大匿名性越强"),
    )
    votes_mode = models.CharField(
        _("票数写入方式"), max_length=8, choices=VotesMode.choices, default=VotesMode.REPLACE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tally_digest = models.CharField(_("计票摘要(SHA-256)"), max_length=64, blank=True)
    # Random, never reused (unlike a primary key after a rollback): keys per-process caches.
    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    class Meta:
        verbose_name = _("测评活动")
        verbose_name_plural = _("测评活动")
        ordering = ["-cycle__year", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(flush_batch__gte=1), name="event_flush_batch_positive")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        """The ``source`` marking this event's rows in the engine's facts."""
        return f"evaluation:{self.pk}"


class EventGroup(models.Model):
    """A rater group taking part in an event; its weight and k live in the cycle's RaterGroup."""

    event = models.ForeignKey(
        EvaluationEvent, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="groups"
    )
    rater_group = models.ForeignKey(
        RaterGroup, verbose_name=_("评价主体"), on_delete=models.PROTECT, related_name="+"
    )
    expected_ballots = models.PositiveIntegerField(_("应到票数"), default=0)
    # Participation kept when closing deletes the event's codes (a used code and its group would
    # otherwise survive and join to a small group's ballot); null while the event is not closed.
    codes_issued = models.PositiveIntegerField(_("发放测评码数"), null=True, blank=True, editable=False)
    codes_used = models.PositiveIntegerField(_("已使用测评码数"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("参评主体")
        verbose_name_plural = _("参评主体")
        ordering = ["event_id", "rater_group__order", "rater_group__code"]
        constraints = [models.UniqueConstraint(fields=["event", "rater_group"], name="event_group_unique")]

    def __str__(self) -> str:
        return str(self.rater_group)


class EventRatee(models.Model):
    """Someone rated in an event: a unit's leadership team XOR an official, on one form."""

    event = models.ForeignKey(
        EvaluationEvent, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="ratees"
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("班子所在单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    official = models.ForeignKey(
        Official, verbose_name=_("干部"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    form = models.ForeignKey(BallotForm, verbose_name=_("测评表"), on_delete=models.PROTECT, related_name="+")
    groups = models.ManyToManyField(EventGroup, verbose_name=_("评价主体"), related_name="ratees", blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("被测评对象")
        verbose_name_plural = _("被测评对象")
        ordering = ["event_id", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(official__isnull=True))
                | (Q(unit__isnull=True) & Q(official__isnull=False)),
                name="event_ratee_one_entity",
            ),
            models.UniqueConstraint(fields=["event", "unit"], name="event_ratee_unique_unit"),
            models.UniqueConstraint(fields=["event", "official"], name="event_ratee_unique_official"),
        ]

    def __str__(self) -> str:
        return str(self.official if self.official_id else self.unit)


class BallotCode(models.Model):
    """A one-time ballot code, stored only as a peppered SHA-256; the code itself is never stored.

    No timestamp and no rater name: the printed list is the only place a code meets a person.
    Closing deletes every code of the event and keeps only the issued/used counts per group on
    EventGroup (see the threat model); ``sealed`` is kept for rows of events closed earlier.
    """

    event = models.ForeignKey(
        EvaluationEvent, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="codes"
    )
    group = models.ForeignKey(
        EventGroup, verbose_name=_("评价主体"), on_delete=models.CASCADE, related_name="codes"
    )
    code_hash = models.CharField(_("测评码摘要"), max_length=64, unique=True)
    used = models.BooleanField(_("已使用"), default=False)
    sealed = models.BooleanField(_("已封存"), default=False)

    class Meta:
        verbose_name = _("测评码")
        verbose_name_plural = _("测评码")
        indexes = [models.Index(fields=["event", "group", "used"])]

    def __str__(self) -> str:
        return f"{self.event_id}/{self.group_id}"


class PendingBallot(models.Model):
    """A submitted ballot waiting for the next shuffled flush (the buffer).

    Carries the ballot's content and nothing else: a random id that is *not* the final ballot's
    id, no code, no hash, no timestamp. Rows are deleted by the flush that moves them.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(EvaluationEvent, on_delete=models.CASCADE, related_name="+")
    payload: models.JSONField[dict[str, Any]] = models.JSONField()

    class Meta:
        verbose_name = _("待入库测评票")
        verbose_name_plural = _("待入库测评票")

    def __str__(self) -> str:
        return str(_("待入库测评票"))


class Ballot(models.Model):
    """One anonymous ballot of one rater group. Random id; no time, no code, no order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(
        EvaluationEvent, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="ballots"
    )
    group = models.ForeignKey(
        EventGroup, verbose_name=_("评价主体"), on_delete=models.CASCADE, related_name="ballots"
    )

    class Meta:
        verbose_name = _("测评票")
        verbose_name_plural = _("测评票")

    def __str__(self) -> str:
        return str(_("测评票"))


class BallotAnswer(models.Model):
    """A ballot's answer on one item for one ratee; ``points`` is null for 不了解 (excluded)."""

    pk = models.CompositePrimaryKey("ballot", "ratee", "item")
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="answers")
    ratee = models.ForeignKey(EventRatee, on_delete=models.CASCADE, related_name="+")
    item = models.CharField(max_length=32)
    choice = models.PositiveSmallIntegerField(
        null=True, help_text="index into the form's scale; null = unknown"
    )
    points = models.FloatField(null=True)

    class Meta:
        verbose_name = _("测评答案")
        verbose_name_plural = _("测评答案")
        constraints = [
            models.CheckConstraint(
                condition=(Q(choice__isnull=True) & Q(points__isnull=True))
                | (Q(choice__isnull=False) & Q(points__isnull=False)),
                name="ballot_answer_choice_points_together",
            )
        ]

    def __str__(self) -> str:
        return f"{self.item}={self.points}"


class BallotVote(models.Model):
    """A ballot's overall vote for one ratee (blank: 不了解)."""

    pk = models.CompositePrimaryKey("ballot", "ratee")
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="votes")
    ratee = models.ForeignKey(EventRatee, on_delete=models.CASCADE, related_name="+")
    vote = models.CharField(max_length=12, choices=Vote.choices, blank=True)

    class Meta:
        verbose_name = _("测评投票")
        verbose_name_plural = _("测评投票")

    def __str__(self) -> str:
        return self.vote


class BallotOpinion(models.Model):
    """A ballot's free-text opinion on one ratee."""

    pk = models.CompositePrimaryKey("ballot", "ratee")
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="opinions")
    ratee = models.ForeignKey(EventRatee, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(max_length=OPINION_MAX_LENGTH, validators=text_validators(OPINION_MAX_LENGTH))

    class Meta:
        verbose_name = _("意见建议")
        verbose_name_plural = _("意见建议")

    def __str__(self) -> str:
        return self.text[:50]


class TallyLine(models.Model):
    """The closed tally of one (ratee, group, item): answers, 不了解 count and the mean points."""

    event = models.ForeignKey(EvaluationEvent, on_delete=models.CASCADE, related_name="tally_lines")
    ratee = models.ForeignKey(EventRatee, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(EventGroup, on_delete=models.CASCADE, related_name="+")
    item = models.CharField(max_length=32)
    rated = models.PositiveIntegerField()
    unknown = models.PositiveIntegerField()
    mean = models.FloatField(null=True)

    class Meta:
        verbose_name = _("计票结果")
        verbose_name_plural = _("计票结果")
        constraints = [
            models.UniqueConstraint(fields=["event", "ratee", "group", "item"], name="tally_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.mean}"


class VoteTally(models.Model):
    """The closed vote count of one (ratee, group)."""

    event = models.ForeignKey(EvaluationEvent, on_delete=models.CASCADE, related_name="vote_tallies")
    ratee = models.ForeignKey(EventRatee, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(EventGroup, on_delete=models.CASCADE, related_name="+")
    excellent = models.PositiveIntegerField(default=0)
    competent = models.PositiveIntegerField(default=0)
    basic = models.PositiveIntegerField(default=0)
    incompetent = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("计票票数")
        verbose_name_plural = _("计票票数")
        constraints = [models.UniqueConstraint(fields=["event", "ratee", "group"], name="vote_tally_unique")]

    def __str__(self) -> str:
        return f"{self.excellent}/{self.competent}/{self.basic}/{self.incompetent}"
