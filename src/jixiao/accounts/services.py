"""Audited writes: the generic create/update/delete every app uses, and user accounts.

Form-backed CRUD in the registry and schemes goes through the generic writes so that every change
is in the audit log with who, when and what changed, inside one transaction. The account writes
follow 三权分立: the system admin opens accounts, resets passwords and (de)activates; the security
admin gives roles, units and grants; nobody changes their own role or grant. No password, initial
or chosen, is ever written to the audit log.
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
from jixiao.accounts.models import ADMIN_ROLES, BUSINESS_ROLES, AuditAction, Role, User
from jixiao.accounts.passwords import password_generate, set_initial_password
from jixiao.accounts.permissions import assigns_roles, manages_accounts
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
AUDITED_FIELDS = (
    "username",
    "display_name",
    "role",
    "unit_id",
    "official_id",
    "phone",
    "is_active",
    "audit_log_granted",
)
# Roles of which one active account must always remain: the office runs the appraisal, the security
# admin is the only one who gives roles.
KEEP_ONE = {
    Role.OFFICE: _("这是最后一个考核办账户"),
    Role.SECADMIN: _("这是最后一个安全管理员账户"),
}


@dataclass(frozen=True)
class IssuedPassword:
    """An account with the initial password to hand over (shown once, never stored)."""

    user: User
    password: str


def require_office(actor: User) -> None:
    """Raise PermissionDenied unless ``actor`` is the office and may write."""
    if not (actor.is_office and actor.can_write):
        raise PermissionDenied


def require_system_admin(actor: User) -> None:
    """Raise PermissionDenied unless ``actor`` is an active system admin (opens accounts)."""
    if not manages_accounts(actor):
        raise PermissionDenied


def require_security_admin(actor: User) -> None:
    """Raise PermissionDenied unless ``actor`` is an active security admin (gives roles)."""
    if not assigns_roles(actor):
        raise PermissionDenied


def _refuse_self(actor: User, user: User, message: str) -> None:
    """No role grants itself rights: an administrator never changes their own role, grant or state."""
    if user.pk == actor.pk:
        raise ValidationError(message)


def _assert_another(user: User, role: str, message: str) -> None:
    """Raise ValidationError(``message``) when ``user`` holds the only active account of ``role``.

    Only accounts with the role count: a superuser from ``createsuperuser`` is a technician's
    account, and the product must always keep one office and one security admin."""
    others = User.objects.select_for_update().filter(role=role, is_active=True).exclude(pk=user.pk)
    if not others.exists():
        raise ValidationError(message)


def account_scope(
    *, role: Role, unit_id: int | None, official_id: int | None, user_pk: int | None = None
) -> tuple[int | None, int | None]:
    """Return the ``(unit_id, official_id)`` an account of ``role`` keeps, or raise
    ValidationError keyed by form field (``unit``, ``official``).

    A liaison, a lead department (its unit is the department whose indicators it leads) and an
    official need a unit; an official also needs the official they are, in that unit, with no
    other account. The office, leaders, auditors and administrators see no unit scope."""
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
    """Open an account (the system admin's write), with ``password`` or a generated initial
    password that the user must change at first login. Returns the account and that password,
    which is shown once and kept nowhere. ``role`` is one of the business roles
    (``BUSINESS_ROLES``); a privileged role comes only from the security admin afterwards.
    Raises ValidationError keyed by form field."""
    require_system_admin(actor)
    if role not in BUSINESS_ROLES:
        raise ValidationError({"role": _("系统管理员只能开通业务角色账户；其他角色由安全管理员分配")})
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
def account_update(*, actor: User, user: User, display_name: str, phone: str) -> User:
    """Change an account's name and phone (the system admin's write), audited. Roles and units
    are the security admin's (:func:`account_role_assign`)."""
    require_system_admin(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(user, AUDITED_FIELDS)
    user.display_name, user.phone = display_name.strip(), phone.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "phone"])
    changes = diff(before, snapshot(user, AUDITED_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=user, changes=changes)
    return user


@transaction.atomic
def account_role_assign(
    *, actor: User, user: User, role: Role, unit_id: int | None, official_id: int | None
) -> User:
    """Give ``user`` a role and unit scope (the security admin's write), audited. Refused on the
    actor's own account, and when it would leave no active office or security admin. Taking the
    office role away also ends an audit-log grant."""
    require_security_admin(actor)
    _refuse_self(actor, user, _("不能修改自己的角色"))
    user = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(user, AUDITED_FIELDS)
    if user.role != role and user.role in KEEP_ONE and user.is_active:
        _assert_another(user, user.role, KEEP_ONE[Role(user.role)] + _("，不能改为其他角色"))
    unit_id, official_id = account_scope(role=role, unit_id=unit_id, official_id=official_id, user_pk=user.pk)
    user.role, user.unit_id, user.official_id = role, unit_id, official_id
    if role != Role.OFFICE:
        user.audit_log_granted = False
    user.full_clean(exclude=["password"])
    user.save(update_fields=["role", "unit", "official", "audit_log_granted"])
    changes = diff(before, snapshot(user, AUDITED_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.GRANT, obj=user, changes=changes)
    return user


@transaction.atomic
def audit_grant_set(*, actor: User, user: User, granted: bool) -> User:
    """Let an office account read the audit log, or take that back (the security admin's write),
    audited as a grant. Refused on the actor's own account and on any role but the office (the
    audit admin and the auditor read it by their role; nobody else may)."""
    require_security_admin(actor)
    _refuse_self(actor, user, _("不能给自己授权"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role != Role.OFFICE:
        raise ValidationError(_("只有考核办账户可以被授权查阅审计日志"))
    if user.audit_log_granted != granted:
        user.audit_log_granted = granted
        user.save(update_fields=["audit_log_granted"])
        audit_record(
            actor=actor,
            action=AuditAction.GRANT,
            obj=user,
            changes={"audit_log_granted": [not granted, granted]},
        )
    return user


@transaction.atomic
def account_password_reset(*, actor: User, user: User) -> str:
    """Give ``user`` a new generated initial password, to be changed at the next login, and return
    it (shown once to the system admin). Changing the hash ends the user's open sessions. The
    other administrators' passwords are reset from the console (``jixiao create-admin --reset``):
    a system admin who could set them could act as them."""
    require_system_admin(actor)
    _refuse_self(actor, user, _("请在“修改密码”页面修改自己的密码"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role in ADMIN_ROLES or user.is_superuser:
        raise ValidationError(_("管理员账户的密码须由命令行重置"))
    password = password_generate()
    set_initial_password(user, password)
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    audit_record(
        actor=actor, action=AuditAction.PASSWORD_RESET, obj=user, changes={"must_change_password": True}
    )
    return password


@transaction.atomic
def account_set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate (``active=False``) or reactivate an account (the system admin's write);
    accounts are never deleted, so every audit entry keeps its author. Refused on the actor's own
    account and on the last active office or security admin."""
    require_system_admin(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
    if not active:
        _refuse_self(actor, user, _("不能停用自己的账户"))
        if user.role in KEEP_ONE:
            _assert_another(user, user.role, KEEP_ONE[Role(user.role)] + _("，不能停用"))
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
    from then on the system admin opens accounts and the security admin gives roles."""
    if User.objects.select_for_update().filter(role=Role.OFFICE, is_active=True).exists():
        raise ValidationError(_("已有考核办账户：请由系统管理员开通账户、安全管理员分配角色"))
    return _bootstrap(username=username, role=Role.OFFICE, display_name=display_name)


@transaction.atomic
def admin_bootstrap(
    *, username: str, role: Role, display_name: str = "", reset: bool = False
) -> IssuedPassword:
    """Create an administrator account (system, security or audit admin) from the console, or with
    ``reset`` give an existing one a new initial password. Returns the account and the password,
    shown once. Creating is refused while an active account of that role exists: the console
    opens the first of each, the pages do the rest."""
    if role not in ADMIN_ROLES:
        raise ValidationError(_("角色须为系统管理员、安全管理员或安全审计员"))
    if reset:
        user = User.objects.select_for_update().filter(username=username.strip(), role=role).first()
        if user is None:
            raise ValidationError(_("没有该角色的此账户：%(u)s") % {"u": username})
        password = password_generate()
        set_initial_password(user, password)
        user.is_active = True
        user.save(update_fields=["password", "must_change_password", "is_active"])
        audit_record(
            actor=None, action=AuditAction.PASSWORD_RESET, obj=user, changes={"must_change_password": True}
        )
        return IssuedPassword(user=user, password=password)
    if User.objects.select_for_update().filter(role=role, is_active=True).exists():
        raise ValidationError(_("已有%(role)s账户") % {"role": role.label})
    return _bootstrap(username=username, role=role, display_name=display_name)


def _bootstrap(*, username: str, role: Role, display_name: str) -> IssuedPassword:
    user = User(username=username.strip(), role=role, display_name=display_name.strip())
    password = password_generate()
    set_initial_password(user, password)
    user.full_clean()
    user.save()
    audit_record(actor=None, action=AuditAction.CREATE, obj=user, changes=snapshot(user, AUDITED_FIELDS))
    return IssuedPassword(user=user, password=password)
