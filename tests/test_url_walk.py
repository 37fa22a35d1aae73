"""Every URL of the URLconf, for every role, with the other units' object ids: nothing leaks.

The tiny demo (two cycles, both scored, evaluations and surveys, one account per role) is
generated once for the module. ``tests/urlwalk.py`` lists every route of ``get_resolver()``; a
route with a path parameter it does not know fails the walk, so a new page cannot slip past.
For each role every route is requested with real ids — for a liaison, a lead department and an
official, the id of an object of *another* unit wherever the object belongs to a unit — and:

- no request answers 500;
- anonymous requests are sent to the login page, except the public pages of ``PUBLIC``;
- a liaison, lead department or official never gets 200 on another unit's object;
- raw ratings and votes (``RATINGS_PAGES``) are 403 for everyone but the office and the auditor;
- the auditor's POST to any page is refused (403, or 404/405), except ``AUDITOR_MAY_POST``;
- the three administrators of 三权分立 get 403 on every page outside ``ADMIN_PAGES`` (no
  appraisal data), and each reaches exactly the account and audit pages of their duty
  (``DUTIES``); the office reaches neither the account pages nor, ungranted, the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db.models import Count, Model, Q, QuerySet
from django.test import Client, override_settings

from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.declarations.models import Declaration, DeclarationVersion, DeclaredIndicator
from jixiao.demo.generator import generate, reset_database
from jixiao.facts.models import Adjustment
from jixiao.organisation.models import Layer, Official, Position, Tenure, Unit
from jixiao.results.models import EntityResult
from jixiao.results.services import run_compute
from jixiao.schemes.models import Cycle, IndicatorNode
from jixiao.surveys.models import ServiceEvent, ServiceToken, SurveyTarget
from jixiao.tracking.models import Evidence, ProgressReport, RaceExplanation, WorkLog
from jixiao.web.context_processors import nav_links
from tests import urlwalk

# Pages anyone may open without signing in, and why.
PUBLIC: dict[str, str] = {
    "set_language": "choosing the language works before signing in",
    "accounts:login": "the sign-in page itself",
    "accounts:logout": "signing out (POST only); harmless without a session",
    "evaluations:ballot_start": "raters enter their one-time code without an account",
    "evaluations:ballot_open": "the anonymous ballot, opened by its one-time code",
    "evaluations:ballot_submit": "the anonymous ballot, submitted by its one-time code",
    "evaluations:ballot_thanks": "the anonymous ballot's thank-you page",
    "surveys:public_survey": "citizens answer a survey from a QR code, without an account",
    "surveys:public_thanks": "the public survey's thank-you page",
    "surveys:public_rate": "a citizen's rate-any-time page; the token comes in the fragment or POST body",
    "surveys:public_rate_legacy": "an old-form rating link, exchanged once for a session and a redirect",
    "web:healthz": "the load balancer's health check",
    "surveys_api:openapi-json": "the REST API's description for integrators (no data)",
    "surveys_api:openapi-view": "the REST API's documentation page for integrators (no data)",
}
# The REST API authenticates by service token, not by session: 401, never a login redirect.
API_NAMESPACES = ("surveys_api:",)

# Raw ratings and votes: the office and the auditor only.
RATINGS_PAGES = frozenset(
    {
        "facts:score_list",
        "facts:vote_list",
        "evaluations:event_list",
        "evaluations:event_detail",
        "evaluations:event_progress",
        "evaluations:event_results",
        "evaluations:codes_issue",
    }
)
RATINGS_TEMPLATES = ("scores", "votes")  # facts:import_template kinds that are raw ratings

# POSTs the read-only auditor may make, and why: they change nothing but the auditor's own session.
AUDITOR_MAY_POST: dict[str, str] = {
    "set_language": "the auditor's own display language",
    "accounts:logout": "the auditor's own session",
    "accounts:password_change": "the auditor's own password",
    "notifications:mark_all_read": "the auditor's own inbox",
    "notifications:mark_read": "the auditor's own inbox (another user's notification is a 404)",
}

# The random CSRF tokens on a page may contain any letters: left out of the search for codes.
CSRF_VALUE = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')
SCOPED = (Role.LIAISON, Role.LEAD_DEPT, Role.OFFICIAL)
ADMINS = (Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN)
ROLES = (Role.OFFICE, Role.LIAISON, Role.LEAD_DEPT, Role.LEADER, Role.OFFICIAL, Role.AUDITOR, *ADMINS)

# What an administrator may open at all (accounts.middleware.AdminBoundaryMiddleware): own account
# pages, notifications, the language, home. Everything else holds appraisal data: 403.
ADMIN_PAGES = ("accounts:", "notifications:", "web:home", "web:healthz", "set_language")
# The account and audit pages (GET) each role reaches with 200; every other such page is a 403.
USER_PAGES = ("accounts:user_", "accounts:audit_log")
DUTIES: dict[Role, frozenset[str]] = {
    Role.SYSADMIN: frozenset(
        {
            "accounts:user_list",
            "accounts:user_create",
            "accounts:user_edit",
            "accounts:user_password_reset",
            "accounts:user_import",
            "accounts:user_import_template",
        }
    ),
    Role.SECADMIN: frozenset({"accounts:user_list", "accounts:user_role"}),
    Role.AUDITADMIN: frozenset({"accounts:audit_log"}),
    Role.AUDITOR: frozenset({"accounts:audit_log"}),
    Role.OFFICE: frozenset(),
}
# Pages that answer a GET with 405 (POST only) whoever asks.
POST_ONLY = frozenset({"accounts:user_set_active", "accounts:user_credentials", "accounts:user_audit_grant"})
REFUSED = {403, 404, 405}


def _unit_filter(model: type[Model], unit_id: int) -> Q | None:
    """The condition "belongs to ``unit_id``" for a model whose objects belong to a unit."""
    paths: dict[type[Model], tuple[str, ...]] = {
        # A lead department reads the units whose published targets it leads (their value entry).
        Unit: ("pk", "declarations__indicators__lead_department_id"),
        Official: ("unit_id",),
        Position: ("unit_id",),
        Tenure: ("position__unit_id",),
        Adjustment: ("unit_id", "official__unit_id"),
        EntityResult: ("unit_id",),
        IndicatorNode: ("lead_unit_id",),
        DeclarationVersion: ("declaration__unit_id",),
        SurveyTarget: ("unit_id",),
        ServiceEvent: ("unit_id",),
        ServiceToken: ("unit_id",),
        User: ("unit_id",),
        # A lead department reads the indicators it leads, their reports and their evidence.
        DeclaredIndicator: ("declaration__unit_id", "lead_department_id"),
        ProgressReport: ("indicator__declaration__unit_id", "indicator__lead_department_id"),
        Evidence: ("unit_id", "reports__indicator__lead_department_id"),
        RaceExplanation: ("unit_id",),
        WorkLog: ("official__unit_id",),
        # a lead department also reads the review of declarations with an indicator it leads
        Declaration: ("unit_id", "indicators__lead_department_id"),
    }
    if model not in paths:
        return None
    q = Q()
    for path in paths[model]:
        q |= Q(**{path: unit_id})
    return q


@dataclass
class Walk:
    """One role's walk: the URLs, which of them show another unit's object, and what went wrong."""

    user: User | None
    urls: list[tuple[urlwalk.Route, str]] = field(default_factory=list)
    foreign: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _walk(user: User | None) -> Walk:
    walk = Walk(user)
    scoped_unit = user.unit_id if user is not None and user.role in SCOPED else None

    def choose(route: urlwalk.Route, param: str, values: QuerySet[Any] | Sequence[str]) -> Any:
        if isinstance(values, QuerySet) and scoped_unit is not None:
            mine = _unit_filter(values.model, scoped_unit)
            if mine is not None:
                other = values.exclude(mine).first()
                if other is not None:
                    walk.foreign.add(route.name)
                    return other.pk
            if values.model.__name__ == "Notification" and user is not None:
                other = values.exclude(recipient=user).first()
                if other is not None:
                    walk.foreign.add(route.name)
                    return other.pk
        return urlwalk.first(route, param, values)

    for route, url in urlwalk.urls(choose):
        if url is not None:
            walk.urls.append((route, url))
    return walk


def _give_scoped_users_a_unit() -> None:
    """At tiny scale the demo's lead department and official units may not exist: scope those
    accounts to the unit leading the most indicators and to a unit with a team member."""
    lead = (
        IndicatorNode.objects.filter(lead_unit__isnull=False)
        .values("lead_unit")
        .annotate(n=Count("id"))
        .order_by("-n", "lead_unit")
        .first()
    )
    assert lead is not None
    User.objects.filter(role=Role.LEAD_DEPT, unit__isnull=True).update(unit_id=lead["lead_unit"])
    for user in User.objects.filter(role=Role.OFFICIAL, unit__isnull=True):
        member = (
            Official.objects.filter(layer=Layer.MEMBER, is_active=True, user__isnull=True)
            .order_by("pk")
            .first()
        )
        assert member is not None
        user.unit_id, user.official = member.unit_id, member
        user.save(update_fields=["unit", "official"])


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[Role, User]]:
    """The tiny demo, both cycles scored; the demo account of each role."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        generate(scale="tiny", seed=11)
        for cycle in Cycle.objects.order_by("year"):
            run_compute(cycle=cycle, actor=None)
        _give_scoped_users_a_unit()
        urlwalk.seed_declarations()
        users = {role: User.objects.filter(role=role).order_by("pk").first() for role in ROLES}
        assert all(users.values()), users
        yield {role: user for role, user in users.items() if user is not None}
        reset_database()


def _fingerprint() -> tuple[int, ...]:
    """Row counts of every table of the project but the audit log and its ledger chain (reading an
    export or an official's breakdown is audited, and is no write): a write changes one; an update
    without a new row is caught by its audit entry (every service writes one)."""
    return tuple(
        m._default_manager.count()
        for m in apps.get_models()
        if m.__module__.startswith("jixiao.") and m is not AuditLog and m._meta.label != "ledger.LedgerEntry"
    )


def _client(user: User | None) -> Client:
    client = Client()
    client.raise_request_exception = False  # a 500 is recorded as a problem, not raised
    if user is not None:
        client.force_login(user)
    return client


# Pages whose 503 is their answer, not a failure: the health check reports a stopped job worker
# (none runs in the tests) with 503 and its JSON, for the load balancer.
REPORTS_503 = frozenset({"web:healthz"})


def _get(client: Client, walk: Walk, route: urlwalk.Route, url: str) -> Any:
    """GET ``url``; a 500 is recorded in ``walk``. Returns the test client's response."""
    response = client.get(url)
    if response.status_code == 503 and route.name in REPORTS_503:
        return response
    if response.status_code >= 500:
        walk.problems.append(f"500 on GET {url} ({route.name})")
    return response


def _raw_template_urls() -> list[str]:
    return [f"/facts/import/{kind}/template/" for kind in RATINGS_TEMPLATES]


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login_except_on_the_public_pages(demo: dict[Role, User]) -> None:
    walk = _walk(None)
    client = _client(None)
    for route, url in walk.urls:
        response = _get(client, walk, route, url)
        status = response.status_code
        if route.name in PUBLIC or status >= 500:
            continue
        if route.name.startswith(API_NAMESPACES):
            if status not in {401, 403, 404, 405}:
                walk.problems.append(f"API {url} answered {status} without a token")
            continue
        if status != 302 or "/accounts/login/" not in response.get("Location", ""):
            walk.problems.append(f"{url} ({route.name}) answered {status} to an anonymous user")
    assert walk.problems == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_without_a_server_error_and_keeps_to_the_roles_scope(
    demo: dict[Role, User], role: Role
) -> None:
    user = demo[role]
    walk = _walk(user)
    client = _client(user)
    foreign_codes = None
    if role in SCOPED:
        assert user.unit_id is not None
        assert len(walk.foreign) > 20  # the walk really uses other units' objects
        codes = Official.objects.exclude(unit_id=user.unit_id).values_list("code", flat=True)
        foreign_codes = re.compile(
            r"(?<![0-9A-Za-z])(" + "|".join(map(re.escape, codes)) + r")(?![0-9A-Za-z])"
        )
    for route, url in walk.urls:
        if route.name == "accounts:logout":
            continue  # keep the session for the rest of the walk
        response = _get(client, walk, route, url)
        status = response.status_code
        if foreign_codes is not None and status == 200 and "html" in response.get("Content-Type", ""):
            # A page without an id can leak too: no other unit's official may appear on it.
            page = CSRF_VALUE.sub("", response.content.decode())
            if found := foreign_codes.search(page):
                walk.problems.append(f"{role}: {url} ({route.name}) shows another unit's official {found[0]}")
        if route.name in walk.foreign and status == 200:
            walk.problems.append(f"{role}: 200 on another unit's object {url} ({route.name})")
        if route.name in RATINGS_PAGES and role not in {Role.OFFICE, Role.AUDITOR} and status != 403:
            walk.problems.append(f"{role}: raw ratings page {url} answered {status}, not 403")
    if role not in {Role.OFFICE, Role.AUDITOR}:
        for url in _raw_template_urls():
            if (status := client.get(url).status_code) != 403:
                walk.problems.append(f"{role}: raw ratings template {url} answered {status}, not 403")
    assert walk.problems == []


@pytest.mark.django_db
def test_the_auditor_never_succeeds_on_a_post(demo: dict[Role, User]) -> None:
    auditor = demo[Role.AUDITOR]
    walk = _walk(auditor)
    client = _client(auditor)
    writes = AuditLog.objects.filter(
        actor=auditor,
        action__in=[AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE, AuditAction.IMPORT],
    )
    for route, url in walk.urls:
        if route.name in PUBLIC or route.name in AUDITOR_MAY_POST or route.name.startswith(API_NAMESPACES):
            continue
        before = _fingerprint()
        status = client.post(url, {}).status_code
        if status >= 500:
            walk.problems.append(f"500 on the auditor's POST {url} ({route.name})")
        # A read page may ignore a POST and answer as to a GET; a POST that writes is a leak.
        elif status not in REFUSED and (_fingerprint() != before or writes.exists()):
            walk.problems.append(f"auditor POST {url} ({route.name}) answered {status} and wrote")
    assert walk.problems == []
    assert not writes.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_navigation_link_of_a_role_answers_200(demo: dict[Role, User], role: Role) -> None:
    client = _client(demo[role])
    links = nav_links(demo[role])
    assert links
    answers = {url: client.get(url).status_code for url, _label in links}
    assert answers == dict.fromkeys(answers, 200)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.LIAISON, Role.LEAD_DEPT, Role.LEADER, Role.OFFICIAL])
def test_no_one_but_the_office_and_the_auditor_sees_the_raw_ratings_links(
    demo: dict[Role, User], role: Role
) -> None:
    client = _client(demo[role])
    urls = {url for url, _label in nav_links(demo[role])}
    assert not urls & {"/facts/scores/", "/facts/votes/", "/evaluations/"}
    page = client.get("/facts/adjustments/").content.decode()
    assert "/facts/scores/" not in page and "/facts/votes/" not in page


@pytest.mark.django_db
def test_the_auditor_sees_no_link_that_ends_on_a_403(demo: dict[Role, User]) -> None:
    urls = {url for url, _label in nav_links(demo[Role.AUDITOR])}
    assert "/evaluations/" not in urls  # evaluation events are the office's
    assert {"/accounts/audit/", "/org/registry/", "/facts/indicators/"} <= urls


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.LIAISON, Role.OFFICIAL])
def test_liaisons_and_officials_see_no_entry_grid_they_cannot_use(demo: dict[Role, User], role: Role) -> None:
    urls = {url for url, _label in nav_links(demo[role])}
    assert "/facts/indicators/" not in urls
    assert _client(demo[role]).get("/facts/indicators/").status_code == 403


def _is_admin_page(name: str) -> bool:
    return name.startswith(ADMIN_PAGES)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ADMINS)
def test_the_administrators_get_403_on_every_page_with_appraisal_data(
    demo: dict[Role, User], role: Role
) -> None:
    user = demo[role]
    walk = _walk(user)
    client = _client(user)
    reached = 0
    for route, url in walk.urls:
        if route.name == "accounts:logout" or _is_admin_page(route.name):
            continue
        reached += 1
        status = _get(client, walk, route, url).status_code
        if status != 403:
            walk.problems.append(f"{role}: {url} ({route.name}) answered {status}, not 403")
    assert reached > 100  # the walk really covers the appraisal pages
    assert walk.problems == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", [*ADMINS, Role.OFFICE, Role.AUDITOR])
def test_each_role_reaches_exactly_the_account_and_audit_pages_of_its_duty(
    demo: dict[Role, User], role: Role
) -> None:
    user = demo[role]
    other = User.objects.exclude(pk=user.pk).filter(role=Role.LEADER).order_by("pk").first()
    assert other is not None
    client = _client(user)
    answers: dict[str, int] = {}
    for route, url in urlwalk.urls(lambda r, p, v: other.pk if p == "pk" else urlwalk.first(r, p, v)):
        if url is None or not route.name.startswith(USER_PAGES) or route.name in POST_ONLY:
            continue
        answers[route.name] = client.get(url).status_code
    expected = {name: 200 if name in DUTIES[role] else 403 for name in answers}
    assert answers == expected


@pytest.mark.django_db
def test_a_granted_office_reads_the_audit_log(demo: dict[Role, User]) -> None:
    office = demo[Role.OFFICE]
    client = _client(office)
    assert client.get("/accounts/audit/").status_code == 403
    User.objects.filter(pk=office.pk).update(audit_log_granted=True)
    assert client.get("/accounts/audit/").status_code == 200
    assert "/accounts/audit/" in {url for url, _label in nav_links(User.objects.get(pk=office.pk))}
    User.objects.filter(pk=office.pk).update(audit_log_granted=False)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ADMINS)
def test_the_administrators_navigation_shows_no_appraisal_page(demo: dict[Role, User], role: Role) -> None:
    urls = {url for url, _label in nav_links(demo[role])}
    assert urls <= {"/", "/accounts/users/", "/accounts/audit/", "/accounts/security/"}
    # Lockouts and second-factor resets are the security admin's, and only theirs.
    assert ("/accounts/security/" in urls) == (role == Role.SECADMIN)


def _readable(response: Any) -> str:
    """The text of a page or of an Excel export (every cell), for searching personal data in."""
    kind = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in kind:
        import io

        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_filelike(io.BytesIO(body))
        return "\n".join(
            "\t".join(str(c) for c in row)
            for name in book.sheet_names
            for row in book.get_sheet_by_name(name).to_python()
        )
    if kind.startswith(("text/", "application/json")):
        return body.decode(errors="replace")
    return ""


def _birth_forms(day: Any) -> set[str]:
    """A birth date as pages and files write it: 1972-08-14, 1972年8月14日."""
    return {day.isoformat(), f"{day.year}年{day.month}月{day.day}日"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in ROLES if r != Role.OFFICE])
def test_no_page_or_export_shows_a_full_birth_date_or_phone_to_a_role_that_does_not_need_it(
    demo: dict[Role, User], role: Role
) -> None:
    """Birth dates and phone numbers reach only the office (registry work), masked for everyone
    else on every page and in every export of the URLconf (个人信息最小化)."""
    births = {
        d.isoformat() for d in Official.objects.exclude(birth_date=None).values_list("birth_date", flat=True)
    }
    phones = {p for p in User.objects.exclude(phone="").values_list("phone", flat=True) if len(p) == 11}
    assert births, "the demo has birth dates to look for"
    client = _client(demo[role])
    found: list[str] = []
    for route, url in urlwalk.urls():
        if url is None or route.name in {"accounts:logout"}:
            continue
        text = _readable(client.get(url))
        found += [f"{url}: birth date {b}" for b in births if b in text]
        found += [f"{url}: phone {p}" for p in phones if p in text]
    assert not found, "\n".join(found[:20])


@pytest.mark.django_db
def test_the_office_sees_birth_dates_and_each_view_is_logged(demo: dict[Role, User]) -> None:
    official = Official.objects.exclude(birth_date=None).order_by("pk").first()
    assert official is not None and official.birth_date is not None
    before = AuditLog.objects.filter(action=AuditAction.VIEW_SENSITIVE, actor=demo[Role.OFFICE]).count()
    page = _client(demo[Role.OFFICE]).get(f"/org/officials/{official.pk}/").content.decode()
    assert _birth_forms(official.birth_date) & {f for f in _birth_forms(official.birth_date) if f in page}
    assert (
        AuditLog.objects.filter(action=AuditAction.VIEW_SENSITIVE, actor=demo[Role.OFFICE]).count()
        == before + 1
    )
