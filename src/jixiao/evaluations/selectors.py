"""Reads for the office's pages: events, progress (counts only) and closed results."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from jixiao.evaluations.models import (
    Ballot,
    BallotCode,
    BallotForm,
    BallotOpinion,
    EvaluationEvent,
    EventGroup,
    EventRatee,
    EventStatus,
    TallyLine,
    Vote,
    VoteTally,
)


def events() -> QuerySet[EvaluationEvent]:
    """Every event, newest cycle first, with ratee and group counts."""
    return EvaluationEvent.objects.select_related("cycle").annotate(
        n_ratees=Count("ratees", distinct=True), n_groups=Count("groups", distinct=True)
    )


def forms() -> QuerySet[BallotForm]:
    return BallotForm.objects.prefetch_related("items").order_by("kind", "name", "pk")


@dataclass(frozen=True)
class GroupProgress:
    group: EventGroup
    issued: int
    received: int

    @property
    def expected(self) -> int:
        return self.group.expected_ballots

    @property
    def percent(self) -> int:
        base = self.expected or self.issued
        return min(100, round(100 * self.received / base)) if base else 0


def progress(event: EvaluationEvent) -> list[GroupProgress]:
    """Ballots received per group: the number of used codes. Reveals no content and no timing.

    A closed event has no codes left: the counts kept on its groups at closing are shown.
    """
    if event.status == EventStatus.CLOSED:
        return [
            GroupProgress(g, g.codes_issued or 0, g.codes_used or 0)
            for g in EventGroup.objects.filter(event=event).select_related("rater_group")
        ]
    counts: dict[int, tuple[int, int]] = {
        group_id: (issued, received)
        for group_id, issued, received in BallotCode.objects.filter(event=event)
        .values("group_id")
        .annotate(issued=Count("id"), received=Count("id", filter=Q(used=True)))
        .values_list("group_id", "issued", "received")
    }
    return [
        GroupProgress(g, *counts.get(g.pk, (0, 0)))
        for g in EventGroup.objects.filter(event=event).select_related("rater_group")
    ]


def ratees(event: EvaluationEvent) -> list[EventRatee]:
    return list(
        EventRatee.objects.filter(event=event)
        .select_related("unit", "official__unit", "form")
        .prefetch_related(Prefetch("groups", queryset=EventGroup.objects.select_related("rater_group")))
        .order_by("order", "pk")
    )


def ratee_label(ratee: EventRatee) -> str:
    if ratee.official is not None:
        return f"{ratee.official.name}（{ratee.official.unit.short_name or ratee.official.unit.name}）"
    return f"{ratee.unit}"


@dataclass
class GroupResult:
    group: EventGroup
    ballots: int
    withheld: bool  # fewer ballots than the group's k: not shown
    items: dict[str, TallyLine] = field(default_factory=dict)
    votes: VoteTally | None = None


@dataclass
class RateeResult:
    ratee: EventRatee
    label: str
    groups: list[GroupResult]
    opinions: list[str]
    item_codes: list[str]
    item_labels: dict[str, str]


def results(event: EvaluationEvent) -> list[RateeResult]:
    """The closed tally per ratee and group; groups under their minimum k are withheld.

    Opinions are listed sorted by text (never in ballot order) and only when at least one
    group of the ratee is shown.
    """
    groups = list(EventGroup.objects.filter(event=event).select_related("rater_group"))
    ballots = dict(
        Ballot.objects.filter(event=event)
        .values("group_id")
        .annotate(n=Count("id"))
        .values_list("group_id", "n")
    )
    lines: dict[tuple[int, int], dict[str, TallyLine]] = defaultdict(dict)
    for line in TallyLine.objects.filter(event=event):
        lines[(line.ratee_id, line.group_id)][line.item] = line
    votes = {(v.ratee_id, v.group_id): v for v in VoteTally.objects.filter(event=event)}
    opinions: dict[int, list[str]] = defaultdict(list)
    for ratee_id, text in (
        BallotOpinion.objects.filter(ballot__event=event)
        .order_by("ratee_id", "text")
        .values_list("ratee_id", "text")
    ):
        opinions[ratee_id].append(text)
    out = []
    for ratee in (
        EventRatee.objects.filter(event=event)
        .select_related("unit", "official__unit")
        .prefetch_related("groups", "form__items")
    ):
        mine = {g.pk for g in ratee.groups.all()}
        rows = []
        for g in groups:
            if g.pk not in mine:
                continue
            n = ballots.get(g.pk, 0)
            # Closing deletes the tally of a (ratee, group) the engine withholds (below k rated).
            withheld = n < g.rater_group.min_ballots or (ratee.pk, g.pk) not in lines
            rows.append(
                GroupResult(
                    group=g,
                    ballots=n,
                    withheld=withheld,
                    items={} if withheld else lines.get((ratee.pk, g.pk), {}),
                    votes=None if withheld else votes.get((ratee.pk, g.pk)),
                )
            )
        shown = any(not r.withheld for r in rows)
        items = list(ratee.form.items.all())
        out.append(
            RateeResult(
                ratee=ratee,
                label=ratee_label(ratee),
                groups=rows,
                opinions=opinions.get(ratee.pk, []) if shown else [],
                item_codes=[i.code for i in items],
                item_labels={i.code: i.label for i in items},
            )
        )
    return out


VOTE_LABELS = dict(Vote.choices)
