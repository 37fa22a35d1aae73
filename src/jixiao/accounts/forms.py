"""Forms of the account pages: the system admin opens and edits accounts and uploads an account
sheet; the security admin gives roles."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from jixiao.accounts.models import BUSINESS_ROLES, Role, User
from jixiao.accounts.services import account_scope
from jixiao.organisation.models import Official, Unit
from jixiao.web.widgets import GroupedModelChoiceField

PHONE = RegexValidator(r"^1[3-9]\d{9}$", _("请填写 11 位手机号"))


def _unit_field() -> GroupedModelChoiceField:
    return GroupedModelChoiceField(
        label=_("所属单位"),
        queryset=Unit.objects.select_related("category").order_by(
            "category__order", "category__code", "code"
        ),
        required=False,
        group_by=lambda unit: unit.category.name,
        help_text=_("单位绩效员、领导干部选所在单位；牵头单位选其牵头的部门；其他角色无需选择"),
    )


def _official_field() -> GroupedModelChoiceField:
    return GroupedModelChoiceField(
        label=_("对应干部"),
        queryset=Official.objects.filter(is_active=True)
        .select_related("unit")
        .order_by("unit__code", "layer", "code"),
        required=False,
        group_by=lambda official: official.unit.name,
        help_text=_("仅领导干部角色需要：本人可查看自己的得分与说明"),
    )


def _business_role_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Role.choices if value in BUSINESS_ROLES]


class RoleAssignForm(forms.Form):
    """The security admin's form: an account's role and unit scope."""

    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    unit = _unit_field()
    official = _official_field()

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        if user is not None:
            kwargs.setdefault(
                "initial", {"role": user.role, "unit": user.unit_id, "official": user.official_id}
            )
        self.account = user
        super().__init__(*args, **kwargs)
        # Fresh querysets per form (a class-level queryset is evaluated once per process).
        self.fields["unit"] = _unit_field()
        self.fields["official"] = _official_field()

    def clean(self) -> dict[str, Any]:
        """Check role and scope together here too, so that every problem shows at once (the
        service checks again when saving)."""
        data = super().clean() or {}
        if data.get("role") in Role.values:
            unit: Unit | None = data.get("unit")
            official: Official | None = data.get("official")
            try:
                account_scope(
                    role=Role(data["role"]),
                    unit_id=unit.pk if unit is not None else None,
                    official_id=official.pk if official is not None else None,
                    user_pk=self.account.pk if self.account is not None else None,
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
        return data

    def scope(self) -> dict[str, Any]:
        """The cleaned data as keyword arguments of the role service."""
        data = self.cleaned_data
        unit: Unit | None = data.get("unit")
        official: Official | None = data.get("official")
        return {
            "role": Role(data["role"]),
            "unit_id": unit.pk if unit is not None else None,
            "official_id": official.pk if official is not None else None,
        }


class AccountEditForm(forms.Form):
    """The system admin's form: an account's name and phone (never its role)."""

    display_name = forms.CharField(label=_("姓名"), max_length=64)
    phone = forms.CharField(label=_("手机号"), max_length=11, required=False, validators=[PHONE])

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        if user is not None:
            kwargs.setdefault("initial", {"display_name": user.display_name, "phone": user.phone})
        self.account = user
        super().__init__(*args, **kwargs)

    def scope(self) -> dict[str, Any]:
        return {
            "display_name": self.cleaned_data["display_name"],
            "phone": self.cleaned_data.get("phone") or "",
        }


class AccountCreateForm(RoleAssignForm):
    """The system admin's form: a new account of a business role (privileged roles are the
    security admin's to give)."""

    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        validators=[User.username_validator],
        help_text=_("登录用，字母、数字或 @ . + - _"),
    )
    display_name = forms.CharField(label=_("姓名"), max_length=64)
    phone = forms.CharField(label=_("手机号"), max_length=11, required=False, validators=[PHONE])
    password = forms.CharField(
        label=_("初始密码"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("留空则自动生成强密码；用户首次登录须修改"),
    )
    field_order = ["username", "display_name", "role", "unit", "official", "phone", "password"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role = self.fields["role"]
        assert isinstance(role, forms.ChoiceField)
        role.choices = _business_role_choices()
        role.help_text = _("考核办、审计及管理员角色由安全管理员分配")

    def scope(self) -> dict[str, Any]:
        return {
            **super().scope(),
            "display_name": self.cleaned_data["display_name"],
            "phone": self.cleaned_data.get("phone") or "",
        }


class AccountImportForm(forms.Form):
    file = forms.FileField(label=_("账户表（.xlsx）"))


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's form; the save goes through ``services.password_change_own`` instead."""
