"""Role and unit scoping used by every view and selector.

A liaison, lead department or official sees only their own unit; the office, leaders and auditors
see all units; only the office configures; auditors never write.

三权分立 (GB/T 22239 level 3): the system admin opens accounts and keeps settings, the security
admin gives roles and grants, the audit admin reads the audit log; none of the three reaches an
appraisal page (:class:`jixiao.accounts.middleware.AdminBoundaryMiddleware` refuses them).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from jixiao.accounts.models import User

M = TypeVar("M", bound=Model)
View = Callable[..., HttpResponse]


def request_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user


def scope_to_units(user: User, queryset: QuerySet[M], unit_path: str = "unit") -> QuerySet[M]:
    """Return ``queryset`` limited to what ``user`` may see; ``unit_path`` leads to a Unit."""
    if user.sees_all_units:
        return queryset
    if user.unit_id is None:
        return queryset.none()
    lookup = "pk" if unit_path == "" else f"{unit_path}_id"
    return queryset.filter(**{lookup: user.unit_id})


def can_edit_unit(user: User, unit_id: int | None) -> bool:
    """Office edits every unit; a liaison edits their own; nobody else writes unit data."""
    if not user.can_write:
        return False
    if user.is_office:
        return True
    from jixiao.accounts.models import Role

    return user.role == Role.LIAISON and unit_id is not None and user.unit_id == unit_id


def office_or_auditor(user: User) -> bool:
    """The office, and the auditor who reads everything the office does (registry, audit log)."""
    from jixiao.accounts.models import Role

    return user.is_authenticated and (user.is_office or user.role == Role.AUDITOR)


def is_system_admin(user: User) -> bool:
    """系统管理员: accounts and settings; reads no appraisal data."""
    from jixiao.accounts.models import Role

    return user.is_authenticated and (user.is_superuser or user.role == Role.SYSADMIN)


def is_security_admin(user: User) -> bool:
    """安全管理员: roles, lockouts, second-factor resets."""
    from jixiao.accounts.models import Role

    return user.is_authenticated and (user.is_superuser or user.role == Role.SECADMIN)


def is_audit_admin(user: User) -> bool:
    """安全审计员: reads the audit log; sees no personal data beyond it."""
    from jixiao.accounts.models import Role

    return user.is_authenticated and (user.is_superuser or user.role == Role.AUDITADMIN)


def is_admin_role(user: User) -> bool:
    """One of the three administrators (not a superuser): kept out of every appraisal page."""
    from jixiao.accounts.models import ADMIN_ROLES

    return user.is_authenticated and not user.is_superuser and user.role in ADMIN_ROLES


def manages_accounts(user: User) -> bool:
    """Opens accounts, resets passwords, (de)activates: the system admin."""
    return is_system_admin(user) and user.is_active


def assigns_roles(user: User) -> bool:
    """Gives and changes roles, units and grants: the security admin."""
    return is_security_admin(user) and user.is_active


def sees_accounts(user: User) -> bool:
    """The account list: the system admin (to open and keep accounts) and the security admin
    (to choose whose role to change)."""
    return manages_accounts(user) or assigns_roles(user)


def reads_audit_log(user: User) -> bool:
    """The audit admin; the auditor (纪检, who oversees the office); the office only with the
    grant a security admin gives (``User.audit_log_granted``), never by its own role."""
    from jixiao.accounts.models import Role

    if not user.is_authenticated or not user.is_active:
        return False
    if is_audit_admin(user) or user.role == Role.AUDITOR:
        return True
    return user.role == Role.OFFICE and user.audit_log_granted


def sees_raw_ratings(user: User) -> bool:
    """Raw evaluation scores per rater group and vote counts: the office and the auditor only.

    Everyone else (liaisons, lead departments, leaders, officials) reads ratings only through the
    results pages, which withhold a rater group below its minimum number of ballots.
    """
    return office_or_auditor(user)


def raw_ratings_required(view: View) -> View:
    """Only a reader of raw ratings (:func:`sees_raw_ratings`) may call the view."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sees_raw_ratings(request_user(request)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def allowed_only(predicate: Callable[[User], bool]) -> Callable[[View], View]:
    """Only a user for whom ``predicate`` holds may call the view (else 403)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not predicate(request_user(request)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def office_required(view: View) -> View:
    """Only the assessment office (or a superuser) may call the view."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request_user(request).is_office:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def write_required(view: View) -> View:
    """Refuse unsafe methods to read-only roles (auditors)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in {"GET", "HEAD", "OPTIONS"} and not request_user(request).can_write:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
