"""Every URL of the URLconf, with real object ids: the shared walk of the cross-app page tests.

``routes()`` lists every pattern of ``get_resolver()`` (namespaces and includes flattened).
``PARAMS`` says where the value of each path parameter comes from: a queryset (its objects'
primary keys) or a list of plain values. A route with a parameter that ``PARAMS`` does not know
makes ``urls()`` raise, so a new page cannot slip past the walks: add its parameters here (a new
action on a known object, ``<known route up to the id>/<action>/``, reuses the known sources).

``urls(choose=...)`` yields one URL per route; ``choose`` picks the object for each parameter
(the first by primary key by default; a permission walk picks another role's objects).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet
from django.urls import URLPattern, URLResolver, get_resolver

Source = Callable[[], "QuerySet[Any] | Sequence[str]"]


@dataclass(frozen=True)
class Route:
    """One URL pattern: its route text, its namespaced name and its path parameters."""

    route: str  # e.g. "org/units/<int:pk>/"
    name: str  # e.g. "organisation:unit_detail"
    params: tuple[str, ...]


class UnknownRoute(LookupError):
    """A route has a path parameter that ``PARAMS`` does not say how to fill."""


def _walk(patterns: Sequence[Any], prefix: str, namespace: str) -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            converters = getattr(p.pattern, "converters", {})
            yield Route(prefix + str(p.pattern), f"{namespace}{p.name or ''}", tuple(converters))


def routes() -> list[Route]:
    """Every route of the URLconf, in URLconf order."""
    return list(_walk(get_resolver().url_patterns, "", ""))


def _models() -> dict[str, dict[str, Source]]:
    # Imported late: Django must be set up before the models are.
    from jixiao.accounts.models import LoginThrottle, User
    from jixiao.declarations.models import (
        Declaration,
        DeclarationVersion,
        DeclaredIndicator,
        PublicationExport,
        ReviewStage,
    )
    from jixiao.evaluations.models import BallotForm, EvaluationEvent, EventGroup
    from jixiao.facts.excel.specs import FactKind
    from jixiao.facts.models import Adjustment
    from jixiao.jobs.models import Job
    from jixiao.notifications.models import Notification
    from jixiao.organisation.models import (
        FunctionZone,
        Official,
        Position,
        Region,
        Tenure,
        Unit,
        UnitCategory,
    )
    from jixiao.results.models import EntityResult, RankingExport
    from jixiao.schemes.models import (
        Component,
        Cycle,
        GradeLevel,
        GradingPolicy,
        GradingRule,
        IndicatorNode,
        LibraryEntry,
        Scheme,
    )
    from jixiao.supervision.models import ExtensionRequest, SupervisionBulletin, SupervisionTask
    from jixiao.surveys.models import ServiceEvent, ServiceToken, Survey, SurveyTarget
    from jixiao.tracking.models import (
        Bulletin,
        Evidence,
        MonthlyRanking,
        ProgressReport,
        RaceExplanation,
        RaceRound,
        WorkLog,
    )

    def qs(model: type[Model]) -> Source:
        return lambda: model._default_manager.order_by("pk")

    def leaves() -> QuerySet[Any]:
        return IndicatorNode.objects.filter(children__isnull=True).order_by("pk")

    def kinds() -> list[str]:
        return [k.value for k in FactKind]

    def targets() -> list[str]:
        return list(SurveyTarget.objects.order_by("pk").values_list("token", flat=True))

    def unknown_rating_link() -> list[str]:
        # Rating links are stored as hashes only: no real token can be read back.
        return ["unknown-token"]

    def credential_formats() -> list[str]:
        return ["pdf", "xlsx"]

    def export_formats() -> list[str]:
        return ["xlsx", "pdf"]

    return {
        "declarations/<int:pk>/": {"pk": qs(Declaration)},
        "declarations/indicators/<int:pk>/edit/": {"pk": qs(DeclaredIndicator)},
        "declarations/versions/<int:pk>/": {"pk": qs(DeclarationVersion)},
        "declarations/publication/export.<slug:fmt>": {"fmt": export_formats},
        "declarations/publication/pdf/<int:pk>/": {"pk": qs(PublicationExport)},
        "accounts/users/<int:pk>/edit/": {"pk": qs(User)},
        "accounts/users/import/passwords.<slug:fmt>": {"fmt": credential_formats},
        "notifications/<int:pk>/": {"pk": qs(Notification)},
        "notifications/<int:pk>/read/": {"pk": qs(Notification)},
        "accounts/users/<int:pk>/password/": {"pk": qs(User)},
        "accounts/users/<int:pk>/active/": {"pk": qs(User)},
        "accounts/security/lockouts/<int:pk>/unlock/": {"pk": qs(LoginThrottle)},
        "accounts/security/users/<int:pk>/otp-reset/": {"pk": qs(User)},
        "schemes/cycles/<int:pk>/open/": {"pk": qs(Cycle)},
        "schemes/cycles/<int:pk>/close/": {"pk": qs(Cycle)},
        "schemes/cycles/<int:pk>/reopen/": {"pk": qs(Cycle)},
        "schemes/cycles/<int:pk>/delete/": {"pk": qs(Cycle)},
        "schemes/cycles/<int:pk>/stage/next/": {"pk": qs(Cycle)},
        "schemes/cycles/<int:pk>/stage/back/": {"pk": qs(Cycle)},
        "schemes/cycles/<int:pk>/stage/plan/": {"pk": qs(Cycle)},
        "schemes/s/<int:pk>/zone-weights/": {"pk": qs(Scheme)},
        "schemes/s/<int:pk>/copy/": {"pk": qs(Scheme)},
        "schemes/policies/<int:pk>/edit/": {"pk": qs(GradingPolicy)},
        "org/units/<int:pk>/": {"pk": qs(Unit)},
        "org/units/<int:pk>/edit/": {"pk": qs(Unit)},
        "org/units/<int:pk>/delete/": {"pk": qs(Unit)},
        "org/units/<int:unit_pk>/team/": {"unit_pk": qs(Unit)},
        "org/units/<int:unit_pk>/positions/new/": {"unit_pk": qs(Unit)},
        "org/positions/<int:pk>/edit/": {"pk": qs(Position)},
        "org/positions/<int:pk>/delete/": {"pk": qs(Position)},
        "org/positions/<int:position_pk>/appoint/": {"position_pk": qs(Position)},
        "org/tenures/<int:pk>/end/": {"pk": qs(Tenure)},
        "org/tenures/<int:pk>/delete/": {"pk": qs(Tenure)},
        "org/officials/<int:pk>/": {"pk": qs(Official)},
        "org/officials/<int:pk>/edit/": {"pk": qs(Official)},
        "org/officials/<int:pk>/delete/": {"pk": qs(Official)},
        "org/regions/<int:pk>/edit/": {"pk": qs(Region)},
        "org/regions/<int:pk>/delete/": {"pk": qs(Region)},
        "org/categories/<int:pk>/edit/": {"pk": qs(UnitCategory)},
        "org/categories/<int:pk>/delete/": {"pk": qs(UnitCategory)},
        "org/zones/<int:pk>/edit/": {"pk": qs(FunctionZone)},
        "org/zones/<int:pk>/delete/": {"pk": qs(FunctionZone)},
        "schemes/cycles/<int:pk>/": {"pk": qs(Cycle)},
        "schemes/cycles/<int:pk>/edit/": {"pk": qs(Cycle)},
        "schemes/cycles/<int:pk>/copy/": {"pk": qs(Cycle)},
        "schemes/cycles/<int:cycle_pk>/schemes/new/": {"cycle_pk": qs(Cycle)},
        "schemes/s/<int:pk>/": {"pk": qs(Scheme)},
        "schemes/s/<int:pk>/edit/": {"pk": qs(Scheme)},
        "schemes/s/<int:pk>/delete/": {"pk": qs(Scheme)},
        "schemes/s/<int:pk>/tree/": {"pk": qs(Scheme)},
        "schemes/s/<int:scheme_pk>/components/new/": {"scheme_pk": qs(Scheme)},
        "schemes/components/<int:pk>/edit/": {"pk": qs(Component)},
        "schemes/components/<int:pk>/delete/": {"pk": qs(Component)},
        "schemes/s/<int:scheme_pk>/policies/new/": {"scheme_pk": qs(Scheme)},
        "schemes/policies/<int:pk>/delete/": {"pk": qs(GradingPolicy)},
        "schemes/policies/<int:policy_pk>/levels/new/": {"policy_pk": qs(GradingPolicy)},
        "schemes/levels/<int:pk>/edit/": {"pk": qs(GradeLevel)},
        "schemes/levels/<int:pk>/delete/": {"pk": qs(GradeLevel)},
        "schemes/policies/<int:policy_pk>/rules/new/": {"policy_pk": qs(GradingPolicy)},
        "schemes/rules/<int:pk>/edit/": {"pk": qs(GradingRule)},
        "schemes/rules/<int:pk>/toggle/": {"pk": qs(GradingRule)},
        "schemes/rules/<int:pk>/delete/": {"pk": qs(GradingRule)},
        "schemes/s/<int:scheme_pk>/indicators/new/": {"scheme_pk": qs(Scheme)},
        "schemes/s/<int:scheme_pk>/indicators/library/": {"scheme_pk": qs(Scheme)},
        "schemes/indicators/<int:pk>/edit/": {"pk": qs(IndicatorNode)},
        "schemes/indicators/<int:pk>/move/": {"pk": qs(IndicatorNode)},
        "schemes/indicators/<int:pk>/delete/": {"pk": qs(IndicatorNode)},
        "schemes/library/<int:pk>/edit/": {"pk": qs(LibraryEntry)},
        "schemes/library/<int:pk>/delete/": {"pk": qs(LibraryEntry)},
        "supervision/tasks/<int:pk>/": {"pk": qs(SupervisionTask)},
        "supervision/extensions/<int:pk>/decide/": {"pk": qs(ExtensionRequest)},
        "supervision/bulletins/<int:pk>/": {"pk": qs(SupervisionBulletin)},
        "supervision/jobs/<int:pk>/": {"pk": qs(Job)},
        "facts/indicators/<int:pk>/": {"pk": leaves},
        "facts/declared/<int:unit_pk>/": {"unit_pk": qs(Unit)},
        "facts/adjustments/<int:pk>/delete/": {"pk": qs(Adjustment)},
        "facts/import/<slug:kind>/": {"kind": kinds},
        "facts/import/<slug:kind>/template/": {"kind": kinds},
        "results/entity/<int:pk>/": {"pk": qs(EntityResult)},
        "results/runs/jobs/<int:pk>/": {"pk": qs(Job)},
        "results/ranking/export/<int:pk>/": {"pk": qs(RankingExport)},
        "results/ranking/export/<int:pk>/status/": {"pk": qs(RankingExport)},
        "evaluations/<int:pk>/": {"pk": qs(EvaluationEvent)},
        "evaluations/<int:pk>/edit/": {"pk": qs(EvaluationEvent)},
        "evaluations/<int:pk>/progress/": {"pk": qs(EvaluationEvent)},
        "evaluations/<int:pk>/open/": {"pk": qs(EvaluationEvent)},
        "evaluations/<int:pk>/close/": {"pk": qs(EvaluationEvent)},
        "evaluations/<int:pk>/groups/<int:group_pk>/codes.pdf": {
            "pk": qs(EvaluationEvent),
            "group_pk": qs(EventGroup),
        },
        "evaluations/<int:pk>/results/": {"pk": qs(EvaluationEvent)},
        "evaluations/forms/<int:pk>/": {"pk": qs(BallotForm)},
        "surveys/s/<slug:token>/": {"token": targets},
        "surveys/s/<slug:token>/thanks/": {"token": targets},
        "surveys/r/<slug:token>/": {"token": unknown_rating_link},
        "surveys/<int:pk>/": {"pk": qs(Survey)},
        "surveys/<int:pk>/edit/": {"pk": qs(Survey)},
        "surveys/<int:pk>/targets/add/": {"pk": qs(Survey)},
        "surveys/targets/<int:pk>/toggle/": {"pk": qs(SurveyTarget)},
        "surveys/targets/<int:pk>/qr.svg": {"pk": qs(SurveyTarget)},
        "surveys/targets/<int:pk>/poster.pdf": {"pk": qs(SurveyTarget)},
        "surveys/tokens/<int:pk>/revoke/": {"pk": qs(ServiceToken)},
        "api/surveys/v1/events/<event_id>": {"event_id": qs(ServiceEvent)},
        "tracking/units/<int:pk>/": {"pk": qs(Unit)},
        "tracking/units/<int:pk>/evidence/": {"pk": qs(Unit)},
        "tracking/indicators/<int:pk>/report/": {"pk": qs(DeclaredIndicator)},
        "tracking/evidence/<int:pk>/": {"pk": qs(Evidence)},
        "tracking/evidence/<int:pk>/thumb/": {"pk": qs(Evidence)},
        "tracking/reports/<int:pk>/grade/": {"pk": qs(ProgressReport)},
        "race/rankings/<int:pk>/": {"pk": qs(MonthlyRanking)},
        "race/jobs/<int:pk>/": {"pk": qs(Job)},
        "race/rounds/<int:pk>/": {"pk": qs(RaceRound)},
        "race/explanations/<int:pk>/": {"pk": qs(RaceExplanation)},
        "race/bulletins/<int:pk>/": {"pk": qs(Bulletin)},
        "worklogs/<int:pk>/": {"pk": qs(WorkLog)},
        # the review of declarations (declarations/urls_review.py)
        "review/stages/<int:cycle_pk>/add/": {"cycle_pk": qs(Cycle)},
        "review/stages/<int:cycle_pk>/preset/": {"cycle_pk": qs(Cycle)},
        "review/stages/s/<int:pk>/remove/": {"pk": qs(ReviewStage)},
        "review/stages/s/<int:pk>/move/": {"pk": qs(ReviewStage)},
        "review/d/<int:pk>/": {"pk": qs(Declaration)},
        "review/d/<int:pk>/decide/": {"pk": qs(Declaration)},
    }


def params() -> dict[str, dict[str, Source]]:
    """Route → parameter → where its values come from (see the module docstring)."""
    return _models()


Chooser = Callable[[Route, str, "QuerySet[Any] | Sequence[str]"], Any]


def first(route: Route, param: str, values: QuerySet[Any] | Sequence[str]) -> Any:
    """The first object (by primary key) or value; None when there is none."""
    if isinstance(values, QuerySet):
        obj = values.first()
        return None if obj is None else obj.pk
    return values[0] if values else None


def urls(choose: Chooser = first) -> Iterator[tuple[Route, str | None]]:
    """Yield (route, URL) for every route; URL is None when a parameter has no object to use.

    Raises ``UnknownRoute`` for a route with a parameter ``PARAMS`` does not know.
    """
    table = params()
    for r in routes():
        if not r.params:
            yield r, "/" + r.route
            continue
        sources = table.get(r.route) or _same_prefix(table, r)
        if sources is None or set(sources) != set(r.params):
            raise UnknownRoute(f"{r.route} ({r.name}): add its parameters {r.params} to tests/urlwalk.py")
        values = {p: choose(r, p, sources[p]()) for p in r.params}
        if any(v is None for v in values.values()):
            yield r, None
            continue
        path = r.route
        for p, v in values.items():
            path = _substitute(path, p, str(v))
        yield r, "/" + path


def _same_prefix(table: dict[str, dict[str, Source]], r: Route) -> dict[str, Source] | None:
    """The sources of a known route with the same text up to the last parameter: a new action on
    a known object (``schemes/cycles/<int:pk>/open/`` after ``schemes/cycles/<int:pk>/``)."""
    head = r.route[: r.route.rindex(">") + 1]
    for known, sources in table.items():
        if known.startswith(head) and set(sources) == set(r.params):
            return sources
    return None


def _substitute(route: str, param: str, value: str) -> str:
    start = route.index("<")
    while start >= 0:
        end = route.index(">", start)
        name = route[start + 1 : end].split(":")[-1]
        if name == param:
            return route[:start] + value + route[end + 1 :]
        start = route.find("<", end)
    raise UnknownRoute(f"{route}: no parameter {param}")


def seed_declarations() -> None:
    """Give the walks' demo a few declarations (until the demo generates them): in the latest
    cycle, the first two units of the first scheme's category each declare one indicator under
    a framework node, submitted once and published, with a dynamic task and a change request."""
    import datetime as dt
    from decimal import Decimal

    from jixiao.declarations.models import (
        ChangeRequest,
        Declaration,
        DeclarationStatus,
        DeclarationVersion,
        DeclaredIndicator,
        DynamicTask,
    )
    from jixiao.declarations.snapshot import snapshot_of
    from jixiao.organisation.models import Unit
    from jixiao.schemes.models import Cycle, IndicatorNode

    cycle = Cycle.objects.order_by("-year").first()
    node = IndicatorNode.objects.filter(scheme__cycle=cycle, level__lte=2).order_by("-level", "pk").first()
    if cycle is None or node is None or Declaration.objects.exists():
        return
    units = list(Unit.objects.filter(category_id=node.scheme.category_id).order_by("pk")[:2])
    task = DynamicTask.objects.create(
        cycle=cycle,
        name="防汛专项",
        parent=node,
        weight=Decimal("100"),
        rule_type="completion",
        effective_from=dt.date(cycle.year, 7, 1),
    )
    task.units.set(units)
    for i, unit in enumerate(units):
        declaration = Declaration.objects.create(
            cycle=cycle, unit=unit, status=DeclarationStatus.PUBLISHED, version=1, published_version=1
        )
        DeclaredIndicator.objects.create(
            declaration=declaration,
            parent=node,
            name="招商引资到位资金",
            measure="亿元",
            target=Decimal("20"),
            rule_type="completion",
            weight=Decimal("100"),
            lead_department=units[-1],
        )
        DeclarationVersion.objects.create(
            declaration=declaration, number=1, snapshot=snapshot_of(declaration)
        )
        if i == 0:
            ChangeRequest.objects.create(declaration=declaration, reason="任务调整", from_version=1)
