"""Step ``accounts``: one demo login per role, created through ``accounts.services.user_create``.

Idempotent: an existing username is left as it is, so ``jixiao demo`` can run again and again.
Units are found in the database (not in the context), so the step also runs on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from jixiao.accounts import second_factor
from jixiao.accounts.models import Role, User
from jixiao.accounts.services import user_create
from jixiao.demo import catalog
from jixiao.demo.pipeline import Context
from jixiao.organisation.models import Layer, Official, Unit


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    display_name: str
    unit_suffix: str = ""  # the scoped unit: the first unit (by code) whose name ends so
    unit_category: str = ""  # …or the first unit of this category
    as_official: bool = False  # take the display name from a team member of the unit


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("kaohe", Role.OFFICE, "考核办"),
    DemoAccount("shenji", Role.AUDITOR, "审计/纪检"),
    DemoAccount("lingdao", Role.LEADER, "分管市领导"),
    DemoAccount("liaison1", Role.LIAISON, "县市绩效员", unit_category="county"),
    DemoAccount("liaison2", Role.LIAISON, "市财政局绩效员", unit_suffix="市财政局"),
    DemoAccount("tongji", Role.LEAD_DEPT, "市统计局（牵头单位）", unit_suffix="市统计局"),
    DemoAccount("ganbu", Role.OFFICIAL, "领导干部", unit_suffix="市生态环境局", as_official=True),
    # 三权分立: the three administrators, who see no appraisal data.
    DemoAccount("xitong", Role.SYSADMIN, "系统管理员"),
    DemoAccount("anquan", Role.SECADMIN, "安全管理员"),
    DemoAccount("shenjiyuan", Role.AUDITADMIN, "安全审计员"),
)


def _unit(account: DemoAccount, using: str) -> Unit | None:
    units = Unit.objects.using(using).order_by("code")
    if account.unit_category:
        return units.filter(category__code=account.unit_category).first()
    if account.unit_suffix:
        return units.filter(name__endswith=account.unit_suffix).first()
    return None


def ensure_demo_accounts(
    *, password: str = catalog.DEMO_PASSWORD, using: str = "default"
) -> list[tuple[User, bool]]:
    """Create the missing demo accounts; return every demo account with whether it was created now."""
    out: list[tuple[User, bool]] = []
    for account in DEMO_ACCOUNTS:
        existing = User.objects.using(using).filter(username=account.username).first()
        if existing is not None:
            out.append((existing, False))
            continue
        unit = _unit(account, using)
        display = account.display_name
        member: Official | None = None
        if unit is not None and account.as_official:
            member = (
                Official.objects.using(using)
                .filter(unit=unit, layer=Layer.MEMBER, is_active=True)
                .order_by("code")
                .first()
            )
            display = member.name if member is not None else display
        elif unit is not None and account.role == Role.LIAISON:
            display = f"{unit.short_name or unit.name}绩效员"
        user = user_create(
            username=account.username,
            password=password,
            role=account.role,
            display_name=display,
            unit_id=unit.pk if unit is not None else None,
        )
        if account.as_official and member is not None:
            # The official's own account, so that they can read their own score and explanation.
            user.official = member
            user.save(update_fields=["official"])
        out.append((user, True))
    for user, _created in out:
        # The privileged demo logins must pass the second factor like real ones (docs/demo.md).
        if second_factor.required_for(user):
            second_factor.demo_device_ensure(user=user, key_hex=second_factor.demo_key(user.username))
    return out


def run(ctx: Context) -> None:
    created = sum(1 for _, new in ensure_demo_accounts(using=ctx.using) if new)
    ctx.counts["accounts.User"] += created
