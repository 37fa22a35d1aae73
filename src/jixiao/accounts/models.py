"""Users with a role and a unit scope, and the audit log.

Roles (角色): assessment office 考核办 (admin), unit liaison 绩效员, lead department 牵头单位,
leader 分管领导, official 领导干部, auditor 纪委/审计 (read-only); and the three administrators of
等保 三权分立: system admin 系统管理员 (accounts and settings, no appraisal data), security admin
安全管理员 (roles, lockouts, second factors), audit admin 安全审计员 (reads the audit log).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jixiao.ledger.guards import AppendOnlyManager, AppendOnlyModel


class Role(models.TextChoices):
    OFFICE = "office", _("考核办")
    LIAISON = "liaison", _("单位绩效员")
    LEAD_DEPT = "lead_dept", _("牵头单位")
    LEADER = "leader", _("分管领导")
    OFFICIAL = "official", _("领导干部")
    AUDITOR = "auditor", _("审计/纪检（只读）")
    SYSADMIN = "sysadmin", _("系统管理员")
    SECADMIN = "secadmin", _("安全管理员")
    AUDITADMIN = "auditadmin", _("安全审计员")


# The three administrators of 三权分立 (GB/T 22239 level 3): none of them does appraisal work.
ADMIN_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN})
# Roles the system admin may give when opening an account: unit-scoped business roles whose
# reach the registry fixes. The office, the auditor and the three administrators are privileged:
# only the security admin gives them (services.account_role_assign).
BUSINESS_ROLES = frozenset({Role.LIAISON, Role.LEAD_DEPT, Role.LEADER, Role.OFFICIAL})


class User(AbstractUser):
    """A person who logs in. ``unit`` scopes liaisons, lead departments and officials."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.OFFICIAL)
    unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
    )
    official = models.OneToOneField(
        "organisation.Official",
        verbose_name=_("对应干部"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="user",
    )
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
    # Set when the office gives the user a password (a new account, a reset); the
    # PasswordChangeRequiredMiddleware keeps the user on the password page until they choose their own.
    must_change_password = models.BooleanField(_("须修改密码"), default=False)
    # When the current password was set: privileged roles must choose a new one after
    # JIXIAO_PASSWORD_MAX_AGE_DAYS (GB/T 22239 8.1.4.1 a: 定期更换).
    password_changed_at = models.DateTimeField(_("密码设置时间"), default=timezone.now)
    # 三权分立: the office does not read the audit log of its own actions unless a security admin
    # grants it (audited); nobody can set it on their own account (services.audit_grant_set).
    audit_log_granted = models.BooleanField(_("可查阅审计日志"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_office(self) -> bool:
        return self.is_superuser or self.role == Role.OFFICE

    @property
    def can_write(self) -> bool:
        """Auditors read everything and write nothing."""
        return self.is_active and self.role != Role.AUDITOR

    @property
    def sees_all_units(self) -> bool:
        return self.is_office or self.role in {Role.AUDITOR, Role.LEADER}


class AuditAction(models.TextChoices):
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    IMPORT = "import", _("导入")
    EXPORT = "export", _("导出")
    VIEW_SENSITIVE = "view", _("查看敏感数据")
    PASSWORD = "password", _("修改密码")
    PASSWORD_RESET = "password_reset", _("重置密码")
    LOCKOUT = "lockout", _("登录锁定")
    UNLOCK = "unlock", _("解除锁定")
    OTP_ENROL = "otp_enrol", _("启用两步验证")
    OTP_RESET = "otp_reset", _("重置两步验证")
    GRANT = "grant", _("授权")


class AuditLog(AppendOnlyModel):
    """One auditable event. Rows are only ever inserted: the model, its QuerySet and (on
    PostgreSQL) a trigger refuse updates and deletes; only ``ledger.services.audit_archive``
    removes rows older than the retention, once archived."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    changes: models.JSONField[Any] = models.JSONField(_("变更"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    objects = AppendOnlyManager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The auditor's home page lists the latest exports, imports and resets among every login.
            models.Index(fields=["action", "-at"], name="auditlog_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"


class LoginThrottle(models.Model):
    """Failed logins of one username from one client address (登录失败处理).

    Counting per *combination* is the point: guesses from one address delay only that address's
    attempts for that username, so nobody can lock the office out from its own desk by failing
    from elsewhere. See :mod:`jixiao.accounts.lockout` for the delays."""

    username = models.CharField(_("用户名"), max_length=150)
    address = models.GenericIPAddressField(_("来源地址"))
    failures = models.PositiveIntegerField(_("连续失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True, db_index=True)
    last_failure_at = models.DateTimeField(_("最近失败时间"), default=timezone.now)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        constraints = [
            models.UniqueConstraint(fields=["username", "address"], name="loginthrottle_user_address"),
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.address}"
