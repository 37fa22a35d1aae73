"""The rater's side: open a ballot with a code, submit it once, and the shuffled flush.

Anonymity rests on three things here (docs/threat-model-ballots.md):

1. ``ballot_submit`` marks the code used and writes the ballot to the *buffer* (PendingBallot) in
   one transaction: atomic, so a code gives exactly one ballot. The buffer row has a random id,
   the content and the event — no code, no hash, no time.
2. ``ballots_flush`` moves the buffered ballots of one rater group only once that group has at
   least max(k, ``flush_batch``) of them (k = the group's ``RaterGroup.min_ballots``), in a
   shuffled order, under fresh random ids, in a transaction of its own, and deletes them from the
   buffer. A permanent ballot therefore never shares a transaction (PostgreSQL ``xmin``) with a
   code row, its position (``ctid``) says only which batch it arrived in, and every batch of a
   group holds at least k ballots of it — a group of one voter never reaches the ballot tables.
3. Closing discards the buffered ballots of a group below k (counted, never stored) and deletes
   every code row of the event, keeping only issued/used counts per group (evaluations.closing).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.evaluations.codes import code_hash, looks_like_code, secret_key_material
from jixiao.evaluations.models import (
    Ballot,
    BallotAnswer,
    BallotCode,
    BallotOpinion,
    BallotVote,
    EvaluationEvent,
    EventGroup,
    EventRatee,
    EventStatus,
    PendingBallot,
    Vote,
)
from jixiao.hygiene import OPINION_MAX_LENGTH

OPINION_MAX = OPINION_MAX_LENGTH  # one limit for the form, the model and the ballot parser
UNKNOWN = "u"  # the posted value of a 不了解 answer


class BallotError(Exception):
    """A ballot that cannot be opened or stored; ``str(error)`` is the message for the rater."""

    status = 400


class CodeInvalid(BallotError):
    status = 404


class CodeUsed(BallotError):
    status = 409


class EventNotOpen(BallotError):
    status = 410


class IncompleteBallot(BallotError):
    status = 422

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing


# --- the form a rater sees ------------------------------------------------------------------


@dataclass(frozen=True)
class ScalePoint:
    index: int
    label: str
    points: float


@dataclass(frozen=True)
class ItemSpec:
    code: str
    label: str
    hint: str


@dataclass(frozen=True)
class RateeSpec:
    pk: int
    name: str
    subtitle: str
    items: tuple[ItemSpec, ...]
    scale: tuple[ScalePoint, ...]
    unknown_label: str
    has_vote: bool
    has_opinion: bool


@dataclass(frozen=True)
class BallotLayout:
    """What one rater group's ballot asks: every ratee the group rates, with its form."""

    event_id: int
    event_name: str
    group_id: int
    group_name: str
    ratees: tuple[RateeSpec, ...]


# Layouts of open events, per process: a layout cannot change once its event is open (ratees,
# groups and the forms in use are frozen), and building it is most of a ballot request's queries.
_LAYOUTS: dict[tuple[uuid.UUID, int], BallotLayout] = {}
_LAYOUT_CACHE_MAX = 2000


def ballot_layout(group_id: int, *, event_key: uuid.UUID | None = None) -> BallotLayout:
    """Return the ballot layout of the event group ``group_id``.

    With ``event_key`` (the event's random key) the layout is cached while the event is open.
    """
    if event_key is not None and (cached := _LAYOUTS.get((event_key, group_id))) is not None:
        return cached
    group = EventGroup.objects.select_related("event", "rater_group").get(pk=group_id)
    ratees = (
        EventRatee.objects.filter(groups=group)
        .select_related("unit", "official__unit", "form")
        .prefetch_related("form__items")
        .order_by("order", "pk")
    )
    specs = []
    for ratee in ratees:
        form = ratee.form
        if ratee.official is not None:
            name = ratee.official.name
            subtitle = (
                f"{ratee.official.unit.short_name or ratee.official.unit.name} {ratee.official.title}".strip()
            )
        else:
            assert ratee.unit is not None
            name = _("%(unit)s领导班子") % {"unit": ratee.unit.short_name or ratee.unit.name}
            subtitle = ""
        specs.append(
            RateeSpec(
                pk=ratee.pk,
                name=name,
                subtitle=subtitle,
                items=tuple(ItemSpec(i.code, i.label, i.hint) for i in form.items.all()),
                scale=tuple(
                    ScalePoint(n, str(p["label"]), float(p["points"])) for n, p in enumerate(form.scale)
                ),
                unknown_label=form.unknown_label,
                has_vote=form.has_vote and ratee.official_id is not None,
                has_opinion=form.has_opinion,
            )
        )
    layout = BallotLayout(
        event_id=group.event_id,
        event_name=group.event.name,
        group_id=group.pk,
        group_name=group.rater_group.name,
        ratees=tuple(specs),
    )
    if event_key is not None and group.event.key == event_key and group.event.status != EventStatus.DRAFT:
        if len(_LAYOUTS) >= _LAYOUT_CACHE_MAX:
            _LAYOUTS.clear()
        _LAYOUTS[(event_key, group_id)] = layout
    return layout


# --- parsing a posted ballot ------------------------------------------------------------------


@dataclass
class BallotContent:
    """A complete ballot: (ratee, item, choice, points) answers, votes and opinions."""

    group_id: int
    answers: list[tuple[int, str, int | None, float | None]] = field(default_factory=list)
    votes: list[tuple[int, str]] = field(default_factory=list)
    opinions: list[tuple[int, str]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The buffer row's payload: the group in clear (flushes count per group), the content sealed.

        The group is no secret here (the used code of the same transaction says it); the content
        of a small group waiting in the buffer is, so a copy of the database without the key
        (``JIXIAO_BALLOT_PEPPER`` or SECRET_KEY) cannot read it.
        """
        content = {"a": self.answers, "v": self.votes, "o": self.opinions}
        return {"g": self.group_id, "s": _seal(json.dumps(content, ensure_ascii=False))}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> BallotContent:
        # Rows buffered before sealing was introduced carry the content in clear.
        content = json.loads(_unseal(str(payload["s"]))) if "s" in payload else payload
        return cls(
            group_id=int(payload["g"]),
            answers=[(int(r), str(i), c, p) for r, i, c, p in content["a"]],
            votes=[(int(r), str(v)) for r, v in content["v"]],
            opinions=[(int(r), str(t)) for r, t in content["o"]],
        )


_NONCE_BYTES = 12
_SEAL_AAD = b"jixiao.evaluations.pendingballot.v1"


def _aead() -> AESGCM:
    key = hashlib.sha256(b"jixiao.evaluations.buffer.aes-gcm|" + secret_key_material()).digest()
    return AESGCM(key)


def _seal(text: str) -> str:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return base64.urlsafe_b64encode(nonce + _aead().encrypt(nonce, text.encode(), _SEAL_AAD)).decode()


def _unseal(sealed: str) -> str:
    raw = base64.urlsafe_b64decode(sealed.encode())
    return _aead().decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _SEAL_AAD).decode()


def answer_field(ratee: int, item: str) -> str:
    return f"a-{ratee}-{item}"


def vote_field(ratee: int) -> str:
    return f"v-{ratee}"


def opinion_field(ratee: int) -> str:
    return f"o-{ratee}"


def ballot_parse(layout: BallotLayout, data: Mapping[str, str]) -> BallotContent:
    """Return the ballot posted in ``data``; raise IncompleteBallot naming every unanswered question."""
    content = BallotContent(group_id=layout.group_id)
    missing: list[str] = []
    vote_values = set(Vote.values) | {UNKNOWN}
    for ratee in layout.ratees:
        for item in ratee.items:
            raw = data.get(answer_field(ratee.pk, item.code), "")
            if raw == UNKNOWN and ratee.unknown_label:
                content.answers.append((ratee.pk, item.code, None, None))
            elif raw.isdigit() and int(raw) < len(ratee.scale):
                point = ratee.scale[int(raw)]
                content.answers.append((ratee.pk, item.code, point.index, point.points))
            else:
                missing.append(f"{ratee.name}·{item.label}")
        if ratee.has_vote:
            vote = data.get(vote_field(ratee.pk), "")
            if vote not in vote_values or (vote == UNKNOWN and not ratee.unknown_label):
                missing.append(f"{ratee.name}·{_('总体评价')}")
            else:
                content.votes.append((ratee.pk, "" if vote == UNKNOWN else vote))
        if ratee.has_opinion:
            text = data.get(opinion_field(ratee.pk), "").strip()[:OPINION_MAX]
            if text:
                content.opinions.append((ratee.pk, text))
    if missing:
        raise IncompleteBallot(
            _("还有 %(n)d 项未填写，测评票未提交：%(what)s")
            % {"n": len(missing), "what": "、".join(missing[:8])}
            + ("…" if len(missing) > 8 else ""),
            missing,
        )
    return content


# --- codes -----------------------------------------------------------------------------------


def _event_state_message(event: EvaluationEvent) -> str | None:
    if event.status == EventStatus.DRAFT:
        return _("本次测评尚未开始，请稍后再试。")
    if event.status != EventStatus.OPEN or timezone.now() >= event.closes_at:
        return _("本次测评已经结束，测评码已失效。")
    return None


def code_check(code: str) -> BallotCode:
    """Return the code's row (with event and group) if it may vote now; raise a BallotError otherwise."""
    if not looks_like_code(code):
        raise CodeInvalid(_("测评码无效，请核对后重新输入或重新扫描二维码。"))
    row = (
        BallotCode.objects.select_related("event", "group__rater_group")
        .filter(code_hash=code_hash(code))
        .first()
    )
    if row is None:
        raise CodeInvalid(_("测评码无效，请核对后重新输入或重新扫描二维码。"))
    message = _event_state_message(row.event)
    if message:
        raise EventNotOpen(message)
    if row.used:
        raise CodeUsed(_("该测评码已经使用过，测评票已提交，不能重复提交。"))
    return row


def _event_state_shared(event_id: int) -> tuple[str, datetime]:
    """Read the event's status under a shared row lock, held until the transaction ends.

    Closing takes FOR UPDATE on the same row, so it waits for every submit in flight and every
    later submit sees the new status: nothing is added to an event once it starts closing.
    SQLite serialises writing transactions (IMMEDIATE), which gives the same guarantee.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {EvaluationEvent._meta.db_table} WHERE id = %s FOR SHARE", [event_id]
            )
    status, closes_at = EvaluationEvent.objects.values_list("status", "closes_at").get(pk=event_id)
    return str(status), closes_at


def ballot_submit(*, code: str, data: Mapping[str, str]) -> None:
    """Store one complete ballot for ``code`` and use the code up; raise a BallotError otherwise.

    Nothing is stored when the ballot is incomplete, the code is unknown or used, or the event is
    not open. Exactly one of any number of concurrent submits of one code succeeds: the code row
    is updated with ``WHERE used = false`` and the loser sees 0 rows.
    """
    row = code_check(code)
    content = ballot_parse(ballot_layout(row.group_id, event_key=row.event.key), data)
    with transaction.atomic():
        status, closes_at = _event_state_shared(row.event_id)
        if status != EventStatus.OPEN or timezone.now() >= closes_at:
            raise EventNotOpen(_("本次测评已经结束，测评码已失效。"))
        if BallotCode.objects.filter(pk=row.pk, used=False, sealed=False).update(used=True) != 1:
            raise CodeUsed(_("该测评码已经使用过，测评票已提交，不能重复提交。"))
        PendingBallot.objects.create(event_id=row.event_id, payload=content.payload())
    # A different transaction from the one above: see the module docstring. Only this group's
    # buffer can have grown, and it moves only together with enough ballots of the same group.
    threshold = max(row.event.flush_batch, row.group.rater_group.min_ballots)
    if PendingBallot.objects.filter(event_id=row.event_id, payload__g=row.group_id).count() >= threshold:
        ballots_flush(event_id=row.event_id)


def group_min_ballots(event_id: int) -> dict[int, int]:
    """Return k (``RaterGroup.min_ballots``, at least 1) of every group of ``event_id``."""
    return {
        gid: max(1, int(k))
        for gid, k in EventGroup.objects.filter(event_id=event_id).values_list(
            "pk", "rater_group__min_ballots"
        )
    }


def _take_back(group_id: int, n: int) -> list[BallotContent]:
    """Remove ``n`` random stored ballots of ``group_id`` and return their content (to re-move).

    Used by the closing flush when a group's last buffered ballots are fewer than k: they go in
    together with ``n`` earlier ballots of the group, so that batch too holds at least k ballots
    and the last voters' ballots cannot be told from the others.
    """
    ids = list(Ballot.objects.filter(group_id=group_id).order_by("?").values_list("id", flat=True)[:n])
    contents = {bid: BallotContent(group_id=group_id) for bid in ids}
    for bid, r, i, c, p in BallotAnswer.objects.filter(ballot_id__in=ids).values_list(
        "ballot_id", "ratee_id", "item", "choice", "points"
    ):
        contents[bid].answers.append((r, i, c, p))
    for bid, r, v in BallotVote.objects.filter(ballot_id__in=ids).values_list(
        "ballot_id", "ratee_id", "vote"
    ):
        contents[bid].votes.append((r, v))
    for bid, r, t in BallotOpinion.objects.filter(ballot_id__in=ids).values_list(
        "ballot_id", "ratee_id", "text"
    ):
        contents[bid].opinions.append((r, t))
    Ballot.objects.filter(id__in=ids).delete()  # answers, votes and opinions cascade
    return list(contents.values())


def ballots_flush(*, event_id: int, force: bool = False) -> int:
    """Move buffered ballots of ``event_id`` into the ballot tables in shuffled order; return how many.

    Per rater group: without ``force`` a group's ballots move only when at least
    max(k, ``flush_batch``) of them can be moved together. ``force`` (closing) moves every group
    with at least k buffered ballots, and a group with fewer left but enough stored ones moves
    them together with earlier ballots of the group taken back (:func:`_take_back`). A group with
    fewer than k ballots in all stays in the buffer: closing discards it. No batch of a group is
    ever smaller than k. Concurrent flushes skip each other's rows (SKIP LOCKED) instead of
    waiting; a forced flush waits.
    """
    batch, status = EvaluationEvent.objects.values_list("flush_batch", "status").get(pk=event_id)
    if status == EventStatus.CLOSED:
        return 0  # a closed event's buffer is empty and stays so: submits are refused
    ks = group_min_ballots(event_id)
    with transaction.atomic():
        pending_qs = PendingBallot.objects.filter(event_id=event_id)
        if connection.features.has_select_for_update:
            skip = not force and connection.features.has_select_for_update_skip_locked
            pending_qs = pending_qs.select_for_update(skip_locked=skip)
        by_group: dict[int, list[tuple[uuid.UUID, BallotContent]]] = {}
        for pending_id, payload in pending_qs.values_list("id", "payload"):
            content = BallotContent.from_payload(payload)
            by_group.setdefault(content.group_id, []).append((pending_id, content))
        moved_ids: list[uuid.UUID] = []
        contents: list[BallotContent] = []
        stored = (
            dict(
                Ballot.objects.filter(event_id=event_id, group_id__in=list(by_group))
                .values("group_id")
                .annotate(n=Count("id"))
                .values_list("group_id", "n")
            )
            if force
            else {}
        )
        for group_id, rows in by_group.items():
            k = ks.get(group_id, 1)
            if len(rows) >= (k if force else max(k, batch)):
                extra: list[BallotContent] = []
            elif force and len(rows) + stored.get(group_id, 0) >= k:
                extra = _take_back(group_id, k - len(rows))
            else:
                continue
            moved_ids.extend(p for p, _c in rows)
            contents.extend(c for _p, c in rows)
            contents.extend(extra)
        if not contents:
            return 0
        random.SystemRandom().shuffle(contents)
        ballots: list[Ballot] = []
        answers: list[BallotAnswer] = []
        votes: list[BallotVote] = []
        opinions: list[BallotOpinion] = []
        for content in contents:
            # A fresh id: the buffer's id must not survive into the permanent table.
            ballot = Ballot(id=uuid.uuid4(), event_id=event_id, group_id=content.group_id)
            ballots.append(ballot)
            answers.extend(
                BallotAnswer(ballot=ballot, ratee_id=r, item=i, choice=c, points=p)
                for r, i, c, p in content.answers
            )
            votes.extend(BallotVote(ballot=ballot, ratee_id=r, vote=v) for r, v in content.votes)
            opinions.extend(BallotOpinion(ballot=ballot, ratee_id=r, text=t) for r, t in content.opinions)
        Ballot.objects.bulk_create(ballots)
        BallotAnswer.objects.bulk_create(answers, batch_size=5000)
        BallotVote.objects.bulk_create(votes, batch_size=5000)
        BallotOpinion.objects.bulk_create(opinions, batch_size=5000)
        PendingBallot.objects.filter(id__in=moved_ids).delete()
    return len(moved_ids)
