"""The account pages and services (三权分立): the system admin creates, edits, resets and
deactivates; the security admin gives roles and grants; nobody grants themselves rights."""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from jixiao.accounts import services
from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.accounts.passwords import INITIAL_HASH_ITERATIONS
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def _password_on(page: str) -> str:
    match = re.search(r'id="initial-password">([^<]+)<', page)
    assert match, "the initial password is shown on the page"
    return match.group(1)


def _office(client: Client) -> User:
    """The system admin, who opens and keeps accounts (the office did before 三权分立)."""
    admin = UserFactory(role=Role.SYSADMIN, username="sysadmin")
    client.force_login(admin)
    return admin


def _secadmin(client: Client) -> User:
    admin = UserFactory(role=Role.SECADMIN, username="secadmin")
    client.force_login(admin)
    return admin


@pytest.mark.parametrize(
    "role",
    [Role.OFFICE, Role.LIAISON, Role.LEAD_DEPT, Role.LEADER, Role.OFFICIAL, Role.AUDITOR, Role.AUDITADMIN],
)
def test_account_pages_are_for_the_system_admin_only(client: Client, role: Role) -> None:
    account = UserFactory(role=Role.LIAISON)
    client.force_login(UserFactory(role=role, unit=UnitFactory()))
    for url in [
        reverse("accounts:user_list"),
        reverse("accounts:user_create"),
        reverse("accounts:user_edit", args=[account.pk]),
        reverse("accounts:user_password_reset", args=[account.pk]),
        reverse("accounts:user_import"),
        reverse("accounts:user_import_template"),
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("accounts:user_password_reset", args=[account.pk])).status_code == 403


def test_user_list_searches_by_name_username_and_unit_and_filters_by_role(client: Client) -> None:
    _office(client)
    finance = UnitFactory(code="CZJ", name="市财政局")
    UserFactory(username="jxy_czj", display_name="王芳", role=Role.LIAISON, unit=finance)
    UserFactory(
        username="qt_tjj", display_name="李强", role=Role.LEAD_DEPT, unit=UnitFactory(name="市统计局")
    )

    def names(**params: str) -> set[str]:
        page = client.get(reverse("accounts:user_list"), params).context["page"]
        return {u.username for u in page}

    assert names(q="王芳") == {"jxy_czj"}
    assert names(q="财政") == {"jxy_czj"}
    assert names(q="qt_") == {"qt_tjj"}
    assert names(role=Role.LEAD_DEPT) == {"qt_tjj"}
    assert names(unit=str(finance.pk)) == {"jxy_czj"}


def test_user_list_queries_do_not_grow_with_the_number_of_accounts(
    client: Client, django_assert_max_num_queries: object
) -> None:
    _office(client)
    for _ in range(30):
        UserFactory(role=Role.OFFICIAL, unit=UnitFactory(), official=OfficialFactory())
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        response = client.get(reverse("accounts:user_list"), {"status": "all"})
    assert len(response.context["page"]) == 25


def test_office_creates_a_liaison_with_a_generated_password_shown_once(client: Client) -> None:
    office = _office(client)
    unit = UnitFactory(name="某县")
    response = client.post(
        reverse("accounts:user_create"),
        {
            "username": "jxy_mx",
            "display_name": "张三",
            "role": Role.LIAISON,
            "unit": unit.pk,
            "phone": "13800138000",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    password = _password_on(response.content.decode())
    user = User.objects.get(username="jxy_mx")
    assert (user.role, user.unit_id, user.phone, user.must_change_password) == (
        Role.LIAISON,
        unit.pk,
        "13800138000",
        True,
    )
    assert user.check_password(password)
    entry = AuditLog.objects.get(action=AuditAction.CREATE, object_id=str(user.pk))
    assert entry.actor == office
    assert password not in str(entry.changes) and "password" not in entry.changes


def test_a_liaison_without_a_unit_is_refused_with_a_message_on_the_unit_field(client: Client) -> None:
    _office(client)
    response = client.post(
        reverse("accounts:user_create"), {"username": "x1", "display_name": "张三", "role": Role.LIAISON}
    )
    assert response.status_code == 200
    assert "该角色须选择所属单位" in response.context["form"].errors["unit"][0]
    assert not User.objects.filter(username="x1").exists()


def test_a_typed_initial_password_must_pass_djangos_validators(client: Client) -> None:
    _office(client)
    response = client.post(
        reverse("accounts:user_create"),
        {"username": "x2", "display_name": "张三", "role": Role.LEADER, "password": "12345678"},
    )
    errors = " ".join(response.context["form"].errors["password"])
    assert "这个密码太常见了" in errors and "密码只包含数字" in errors
    assert not User.objects.filter(username="x2").exists()


def test_official_account_links_to_an_official_of_its_unit_only_once() -> None:
    office = UserFactory(role=Role.SYSADMIN)
    official = OfficialFactory()
    issued = services.account_create(
        actor=office, username="gb1", role=Role.OFFICIAL, display_name="干部", official_id=official.pk
    )
    assert (issued.user.unit_id, issued.user.official_id) == (official.unit_id, official.pk)
    with pytest.raises(ValidationError) as exc:
        services.account_create(actor=office, username="gb2", role=Role.OFFICIAL, official_id=official.pk)
    assert "该干部已有账户" in str(exc.value)
    with pytest.raises(ValidationError):
        services.account_create(
            actor=office,
            username="gb3",
            role=Role.OFFICIAL,
            official_id=OfficialFactory().pk,
            unit_id=UnitFactory().pk,
        )


def test_the_security_admin_changes_role_and_scope_and_it_is_audited_as_a_grant(client: Client) -> None:
    _secadmin(client)
    account = UserFactory(role=Role.LIAISON, unit=UnitFactory(), display_name="甲")
    lead = UnitFactory(name="市统计局")
    response = client.post(
        reverse("accounts:user_role", args=[account.pk]), {"role": Role.LEAD_DEPT, "unit": lead.pk}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.role, account.unit_id) == (Role.LEAD_DEPT, lead.pk)
    changes = AuditLog.objects.get(action=AuditAction.GRANT, object_id=str(account.pk)).changes
    assert changes["role"] == [Role.LIAISON, Role.LEAD_DEPT]


def test_the_system_admin_edits_name_and_phone_but_never_the_role(client: Client) -> None:
    _office(client)
    account = UserFactory(role=Role.LIAISON, unit=UnitFactory(), display_name="甲")
    response = client.post(
        reverse("accounts:user_edit", args=[account.pk]),
        {"display_name": "乙", "phone": "13812341234", "role": Role.OFFICE},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.display_name, account.phone, account.role) == ("乙", "13812341234", Role.LIAISON)
    assert client.get(reverse("accounts:user_role", args=[account.pk])).status_code == 403


@pytest.mark.parametrize("role", [Role.OFFICE, Role.AUDITOR, Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN])
def test_the_system_admin_cannot_open_a_privileged_account(role: Role) -> None:
    with pytest.raises(ValidationError, match="业务角色"):
        services.account_create(
            actor=UserFactory(role=Role.SYSADMIN), username="x", role=role, display_name="x"
        )


@pytest.mark.parametrize("role", [Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN, Role.OFFICE])
def test_no_role_grants_itself_rights(client: Client, role: Role) -> None:
    """Nobody changes their own role or grant, not even the security admin who gives them."""
    me = UserFactory(role=role)
    UserFactory(role=Role.SECADMIN)  # another security admin: the last one is kept anyway
    UserFactory(role=Role.OFFICE)
    client.force_login(me)
    assert client.get(reverse("accounts:user_role", args=[me.pk])).status_code == 403
    client.post(reverse("accounts:user_role", args=[me.pk]), {"role": Role.OFFICE})
    client.post(reverse("accounts:user_audit_grant", args=[me.pk]), {"granted": "1"})
    me.refresh_from_db()
    assert me.role == role and not me.audit_log_granted
    with pytest.raises((PermissionDenied, ValidationError)):
        services.account_role_assign(actor=me, user=me, role=Role.OFFICE, unit_id=None, official_id=None)
    with pytest.raises((PermissionDenied, ValidationError)):
        services.audit_grant_set(actor=me, user=me, granted=True)


def test_the_security_admin_grants_an_office_the_audit_log_and_takes_it_back_audited(client: Client) -> None:
    secadmin = _secadmin(client)
    office = UserFactory(role=Role.OFFICE)
    reader = Client()
    reader.force_login(office)
    assert reader.get(reverse("accounts:audit_log")).status_code == 403
    client.post(reverse("accounts:user_audit_grant", args=[office.pk]), {"granted": "1"})
    assert reader.get(reverse("accounts:audit_log")).status_code == 200
    client.post(reverse("accounts:user_audit_grant", args=[office.pk]), {"granted": "0"})
    assert reader.get(reverse("accounts:audit_log")).status_code == 403
    grants = AuditLog.objects.filter(action=AuditAction.GRANT, actor=secadmin, object_id=str(office.pk))
    assert [e.changes["audit_log_granted"] for e in grants.order_by("pk")] == [[False, True], [True, False]]
    with pytest.raises(ValidationError):
        services.audit_grant_set(actor=secadmin, user=UserFactory(role=Role.LEADER), granted=True)


def test_the_system_admin_cannot_reset_another_administrators_password() -> None:
    sysadmin = UserFactory(role=Role.SYSADMIN)
    for role in (Role.SECADMIN, Role.AUDITADMIN):
        with pytest.raises(ValidationError, match="命令行"):
            services.account_password_reset(actor=sysadmin, user=UserFactory(role=role))


def test_create_admin_command_makes_each_first_administrator_once_and_resets_on_request() -> None:
    out = io.StringIO()
    call_command("create_admin", "secadmin", "anquan", stdout=out)
    password = out.getvalue().split("：")[-1].strip()
    admin = User.objects.get(username="anquan")
    assert admin.role == Role.SECADMIN and admin.must_change_password and admin.check_password(password)
    with pytest.raises(CommandError, match="已有"):
        call_command("create_admin", "secadmin", "second", stdout=io.StringIO())
    out = io.StringIO()
    call_command("create_admin", "secadmin", "anquan", "--reset", stdout=out)
    admin.refresh_from_db()
    assert admin.check_password(out.getvalue().split("：")[-1].strip())


def test_reset_gives_a_new_password_that_must_be_changed_and_is_not_logged(client: Client) -> None:
    _office(client)
    account = UserFactory(role=Role.LIAISON, unit=UnitFactory())
    response = client.post(reverse("accounts:user_password_reset", args=[account.pk]))
    password = _password_on(response.content.decode())
    account.refresh_from_db()
    assert account.check_password(password) and not account.check_password("pw-Jixiao-2025")
    assert account.must_change_password
    entry = AuditLog.objects.get(action=AuditAction.PASSWORD_RESET)
    assert password not in str(entry.changes)


def test_the_system_admin_cannot_deactivate_itself(client: Client) -> None:
    admin = _office(client)
    response = client.post(reverse("accounts:user_set_active", args=[admin.pk]), {"active": "0"}, follow=True)
    assert "不能停用自己的账户" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_the_last_office_account_cannot_be_deactivated_or_demoted_even_by_a_superuser() -> None:
    admin = UserFactory(role=Role.LEADER, is_superuser=True)
    office = UserFactory(role=Role.OFFICE)
    with pytest.raises(ValidationError, match="最后一个考核办账户"):
        services.account_set_active(actor=admin, user=office, active=False)
    with pytest.raises(ValidationError, match="最后一个考核办账户"):
        services.account_role_assign(
            actor=admin, user=office, role=Role.LEADER, unit_id=None, official_id=None
        )
    UserFactory(role=Role.OFFICE)
    services.account_set_active(actor=admin, user=office, active=False)
    office.refresh_from_db()
    assert not office.is_active


def test_deactivated_user_cannot_log_in_and_is_kept_with_its_history(client: Client) -> None:
    office = _office(client)
    account = UserFactory(username="gone", role=Role.LIAISON, unit=UnitFactory())
    client.post(reverse("accounts:user_set_active", args=[account.pk]), {"active": "0"})
    account.refresh_from_db()
    assert not account.is_active
    assert AuditLog.objects.filter(
        actor=office, action=AuditAction.UPDATE, object_id=str(account.pk)
    ).exists()
    anonymous = Client()
    response = anonymous.post(reverse("accounts:login"), {"username": "gone", "password": "pw-Jixiao-2025"})
    assert response.status_code == 200  # the login form again, not a redirect
    client.post(reverse("accounts:user_set_active", args=[account.pk]), {"active": "1"})
    account.refresh_from_db()
    assert account.is_active


def test_account_services_refuse_non_office_actors() -> None:
    account = UserFactory(role=Role.LIAISON)
    with pytest.raises(PermissionDenied):
        services.account_password_reset(actor=UserFactory(role=Role.AUDITOR), user=account)


def test_must_change_password_sends_every_page_to_the_password_page_until_changed(client: Client) -> None:
    user = UserFactory(role=Role.LIAISON, unit=UnitFactory(), must_change_password=True)
    client.force_login(user)
    change = reverse("accounts:password_change")
    for url in [reverse("web:home"), reverse("organisation:unit_list"), reverse("results:ranking")]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == change, url
    page = client.get(change)
    assert page.status_code == 200 and "初始密码" in page.content.decode()
    weak = client.post(
        change, {"old_password": "pw-Jixiao-2025", "new_password1": "1234", "new_password2": "1234"}
    )
    assert weak.status_code == 200 and weak.context["form"].errors
    response = client.post(
        change,
        {
            "old_password": "pw-Jixiao-2025",
            "new_password1": "Mei-Hua-2026!",
            "new_password2": "Mei-Hua-2026!",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get(reverse("web:home")).status_code == 200
    assert AuditLog.objects.filter(action=AuditAction.PASSWORD, actor=user).exists()


def test_user_forced_to_change_password_can_still_log_out(client: Client) -> None:
    client.force_login(UserFactory(must_change_password=True))
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


def test_office_creates_a_liaison_who_logs_in_changes_the_password_and_sees_the_home_page(
    client: Client,
) -> None:
    unit = UnitFactory(name="某县人民政府", short_name="某县")
    _office(client)
    response = client.post(
        reverse("accounts:user_create"),
        {"username": "jxy_mx", "display_name": "张三", "role": Role.LIAISON, "unit": unit.pk},
    )
    password = _password_on(response.content.decode())
    liaison = Client()
    response = liaison.post(
        reverse("accounts:login"), {"username": "jxy_mx", "password": password}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:password_change")
    response = liaison.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": "Zhang-San-2026", "new_password2": "Zhang-San-2026"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("web:home")
    assert "某县人民政府" in response.content.decode()


def test_create_office_command_makes_the_first_office_once() -> None:
    out = io.StringIO()
    call_command("create_office", "kaohe", "--name", "市考核办", stdout=out)
    password = out.getvalue().split("：")[-1].strip()
    office = User.objects.get(username="kaohe")
    assert office.role == Role.OFFICE and office.must_change_password and office.check_password(password)
    with pytest.raises(CommandError, match="已有考核办账户"):
        call_command("create_office", "second", stdout=io.StringIO())
    assert not User.objects.filter(username="second").exists()


def test_generated_initial_passwords_get_a_cheap_hash_that_is_upgraded_at_first_login(client: Client) -> None:
    office = UserFactory(role=Role.SYSADMIN)
    issued = services.account_create(actor=office, username="gen", role=Role.LEADER, display_name="甲")
    typed = services.account_create(
        actor=office, username="typed", role=Role.LEADER, display_name="乙", password="Typed-Secret-2026"
    )
    iterations = int(issued.user.password.split("$")[1])
    assert iterations == INITIAL_HASH_ITERATIONS
    assert int(User.objects.get(username="typed").password.split("$")[1]) > INITIAL_HASH_ITERATIONS
    assert typed.password == "Typed-Secret-2026"
    client.post(reverse("accounts:login"), {"username": "gen", "password": issued.password})
    assert int(User.objects.get(username="gen").password.split("$")[1]) > INITIAL_HASH_ITERATIONS


def test_a_bad_form_reports_the_missing_name_and_the_missing_unit_together(client: Client) -> None:
    _office(client)
    response = client.post(reverse("accounts:user_create"), {"username": "x3", "role": Role.LIAISON})
    errors = response.context["form"].errors
    assert set(errors) == {"display_name", "unit"}
