"""Audited writes: the generic create/update/delete every app uses, and user accounts.

Form-backed CRUD in the registry and schemes goes through the generic writes so that every change
is in the audit log with who, when and what changed, inside one transaction. The account writes
(create, edit, password reset, deactivate) are the office's; no password, initial or chosen, is
ever written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record, diff, snapshot
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.accounts.passwords import password_generate, set_initial_password
from jixiao.organisation.models import Official, Unit

M = TypeVar("M", bound=models.Model)


@transaction.atomic
def instance_create(*, actor: User, instance: M) -> M:
    """Validate, save and audit a new instance; return it."""
    instance.full_clean()
    instance.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=instance, changes=snapshot(instance))
    return instance


@transaction.atomic
def instance_update(*, actor: User, instance: M, before: Mapping[str, Any]) -> M:
    """Validate, save and audit ``instance``; ``before`` is its :func:`snapshot` before editing."""
    instance.full_clean()
    instance.save()
    changes = diff(before, snapshot(instance))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=instance, changes=changes)
    return instance


@transaction.atomic
def instance_delete(*, actor: User, instance: models.Model) -> None:
    """Audit and delete ``instance`` (the audit row keeps what it was)."""
    audit_record(actor=actor, action=AuditAction.DELETE, obj=instance, changes=snapshot(instance))
    instance.delete()


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    unit_id: int | None = None,
    actor: User | None = None,
    is_superuser: bool = False,
) -> User:
    """Create an account with a role and unit scope, audited (the demo's and the console's way;
    the office's pages use :func:`account_create`)."""
    user = User(username=username, role=role, display_name=display_name, unit_id=unit_id)
    user.is_superuser = is_superuser
    user.is_staff = is_superuser
    user.set_password(password)
    user.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=user, changes={"role": role, "unit_id": unit_id})
    return user


# Roles whose pages are limited to one unit: they cannot work without one.
UNIT_ROLES = frozenset({Role.LIAISON, Role.LEAD_DEPT, Role.OFFICIAL})
# What the audit log keeps of an account (never the password or its hash).
AUDITED_FIELDS = ("username", "display_name", "role", "unit_id", "official_id", "phone", "is_active")


@dataclass(frozen=True)
class IssuedPassword:
    """An account with the initial password the office must hand over (shown once, never stored)."""

    user: User
    password: str


def require_office(actor: User) -> None:
    """Raise PermissionDenied unless ``actor`` is the office and may write."""
    if not (actor.is_office and actor.can_write):
        raise PermissionDenied


def _assert_another_office(user: User, message: str) -> None:
    """Raise ValidationError(``message``) when ``user`` holds the only active office account.

    Only accounts with the office role count: a superuser from ``createsuperuser`` is a
    technician's account, and the product must always keep one office that can manage users."""
    others = User.objects.select_for_update().filter(role=Role.OFFICE, is_active=True).exclude(pk=user.pk)
    if not others.exists():
        raise ValidationError(message)


def account_scope(
    *, role: Role, unit_id: int | None, official_id: int | None, user_pk: int | None = None
) -> tuple[int | None, int | None]:
    """Return the ``(unit_id, official_id)`` an account of ``role`` keeps, or raise
    ValidationError keyed by form field (``unit``, ``official``).

    A liaison, a lead department (its unit is the department whose indicators it leads) and an
    official need a unit; an official also needs the official they are, in that unit, with no
    other account. The office, leaders and auditors see every unit and keep none."""
    if role not in UNIT_ROLES:
        return None, None
    official: Official | None = None
    if role == Role.OFFICIAL:
        official = Official.objects.filter(pk=official_id).first() if official_id else None
        if official is None:
            raise ValidationError({"official": _("领导干部账户须关联对应的干部")})
        if unit_id is None:
            unit_id = official.unit_id
        elif official.unit_id != unit_id:
            raise ValidationError({"official": _("所选干部不在所选单位")})
        taken = User.objects.filter(official_id=official.pk)
        if user_pk is not None:
            taken = taken.exclude(pk=user_pk)
        holder = taken.first()
        if holder is not None:
            raise ValidationError({"official": _("该干部已有账户：%(user)s") % {"user": holder.username}})
    if unit_id is None or not Unit.objects.filter(pk=unit_id).exists():
        raise ValidationError({"unit": _("该角色须选择所属单位（牵头单位请选择其牵头的部门）")})
    return unit_id, official.pk if official is not None else None


@transaction.atomic
def account_create(
    *,
    actor: User,
    username: str,
    role: Role,
    display_name: str = "",
    unit_id: int | None = None,
    official_id: int | None = None,
    phone: str = "",
    password: str = "",
) -> IssuedPassword:
    """Create an account for the office, with ``password`` or a generated initial password that
    the user must change at first login. Returns the account and that password, which is shown
    once and kept nowhere. Raises ValidationError keyed by form field."""
    require_office(actor)
    unit_id, official_id = account_scope(role=role, unit_id=unit_id, official_id=official_id)
    user = User(
        username=username.strip(),
        role=role,
        display_name=display_name.strip(),
        unit_id=unit_id,
        official_id=official_id,
        phone=phone.strip(),
    )
    initial = password or password_generate()
    try:
        set_initial_password(user, initial, generated=not password)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.full_clean()
    user.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=user, changes=snapshot(user, AUDITED_FIELDS))
    return IssuedPassword(user=user, password=initial)


@transaction.atomic
def account_update(
    *,
    actor: User,
    user: User,
    role: Role,
    display_name: str,
    unit_id: int | None,
    official_id: int | None,
    phone: str,
) -> User:
    """Change an account's name, role and scope, audited. The office cannot take the office role
    from itself nor from the last active office account."""
    require_office(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(user, AUDITED_FIELDS)
    if user.role == Role.OFFICE and role != Role.OFFICE:
        if user.pk == actor.pk:
            raise ValidationError({"role": _("不能取消自己的考核办角色")})
        _assert_another_office(user, _("这是最后一个考核办账户，不能改为其他角色"))
    unit_id, official_id = account_scope(role=role, unit_id=unit_id, official_id=official_id, user_pk=user.pk)
    user.role, user.display_name, user.phone = role, display_name.strip(), phone.strip()
    user.unit_id, user.official_id = unit_id, official_id
    user.full_clean(exclude=["password"])
    user.save()
    changes = diff(before, snapshot(user, AUDITED_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=user, changes=changes)
    return user


@transaction.atomic
def account_password_reset(*, actor: User, user: User) -> str:
    """Give ``user`` a new generated initial password, to be changed at the next login, and return
    it (shown once to the office). Changing the hash ends the user's open sessions."""
    require_office(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    password = password_generate()
    set_initial_password(user, password)
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    audit_record(
        actor=actor, action=AuditAction.PASSWORD_RESET, obj=user, changes={"must_change_password": True}
    )
    return password


@transaction.atomic
def account_set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate (``active=False``) or reactivate an account; accounts are never deleted, so
    every audit entry keeps its author. The office cannot deactivate itself or the last office."""
    require_office(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
    if not active:
        if user.pk == actor.pk:
            raise ValidationError(_("不能停用自己的账户"))
        if user.role == Role.OFFICE:
            _assert_another_office(user, _("这是最后一个考核办账户，不能停用"))
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=user, changes={"is_active": [not active, active]}
    )
    return user


@transaction.atomic
def password_change_own(*, user: User, password: str) -> None:
    """Set the password ``user`` chose (validated by Django's validators), clear the must-change
    mark, and audit the change (not the password)."""
    validate_password(password, user)
    user.set_password(password)
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    audit_record(actor=user, action=AuditAction.PASSWORD, obj=user)


@transaction.atomic
def office_bootstrap(*, username: str, display_name: str = "") -> IssuedPassword:
    """Create the first office account of an installation, with a generated initial password to
    be changed at first login, and return it. Refused while an active office account exists:
    from then on the office opens every account in the product (``/accounts/users/``)."""
    if User.objects.select_for_update().filter(role=Role.OFFICE, is_active=True).exists():
        raise ValidationError(_("已有考核办账户：请由考核办在“用户”页面开通账户"))
    user = User(username=username.strip(), role=Role.OFFICE, display_name=display_name.strip())
    password = password_generate()
    set_initial_password(user, password)
    user.full_clean()
    user.save()
    audit_record(actor=None, action=AuditAction.CREATE, obj=user, changes=snapshot(user, AUDITED_FIELDS))
    return IssuedPassword(user=user, password=password)
