"""Drafting a unit's targets: declared indicators, scoping, the burden cap, library pull-in,
weight problems and submission into review."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditLog, Role, User
from jixiao.declarations import drafting, library, submission
from jixiao.declarations.models import Declaration, DeclarationStatus, DeclarationVersion, DeclaredIndicator
from jixiao.declarations.snapshot import by_uid
from jixiao.declarations.tests.factories import (
    DeclarationFactory,
    DeclaredIndicatorFactory,
    Framework,
    MilestoneFactory,
    ReviewStageFactory,
    framework,
)
from jixiao.notifications.models import Notification
from jixiao.organisation.tests.factories import FunctionZoneFactory, UnitFactory, UserFactory
from jixiao.schemes.models import CycleStage, CycleStatus, LibraryKind
from jixiao.schemes.tests.factories import LibraryEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fw() -> Framework:
    return framework()


@pytest.fixture
def declaration(fw: Framework) -> Declaration:
    unit = UnitFactory(category=fw.scheme.category)
    d: Declaration = DeclarationFactory(cycle=fw.cycle, unit=unit)
    return d


@pytest.fixture
def liaison(declaration: Declaration) -> User:
    user: User = UserFactory(role=Role.LIAISON, unit=declaration.unit)
    return user


def _add(declaration: Declaration, liaison: User, parent: object, **kw: object) -> DeclaredIndicator:
    fields: dict[str, object] = {
        "name": "规上工业增加值增速",
        "weight": Decimal("100"),
        "target": Decimal("8"),
    }
    fields.update(kw)
    return drafting.indicator_create(
        actor=liaison,
        declaration=declaration,
        parent=parent,  # type: ignore[arg-type]  # a framework node from the fixture
        rule_type="completion",
        rule_params={"cap": 1.2},
        **fields,
    )


def test_liaison_adds_a_level_3_and_a_level_4_indicator_audited(
    fw: Framework, declaration: Declaration, liaison: User
) -> None:
    top = _add(declaration, liaison, fw.economy)
    sub = drafting.indicator_create(
        actor=liaison,
        declaration=declaration,
        parent=fw.economy,
        under=top,
        name="技改投资",
        weight=Decimal("100"),
        rule_type="completion",
        rule_params={},
        milestones=[drafting.MilestoneInput(due=fw_date(6, 30), expected_percent=Decimal("50"))],
    )
    assert sub.under == top and sub.milestones.count() == 1
    assert AuditLog.objects.filter(object_type="declarations.declaredindicator").count() == 2


def fw_date(month: int, day: int) -> object:
    import datetime as dt

    return dt.date(2026, month, day)


def test_level_4_must_hang_under_own_level_3(fw: Framework, declaration: Declaration, liaison: User) -> None:
    other = DeclaredIndicatorFactory(parent=fw.economy)
    with pytest.raises(ValidationError, match="四级指标只能挂在本单位的三级指标下"):
        drafting.indicator_create(
            actor=liaison,
            declaration=declaration,
            parent=fw.economy,
            under=other,
            name="x",
            weight=Decimal("100"),
            rule_type="completion",
            rule_params={},
        )


def test_parent_outside_the_units_framework_is_refused(declaration: Declaration, liaison: User) -> None:
    foreign = framework()
    with pytest.raises(ValidationError, match="不属于本单位类别的考核方案"):
        _add(declaration, liaison, foreign.economy)


def test_bad_rule_parameters_name_the_field(fw: Framework, declaration: Declaration, liaison: User) -> None:
    with pytest.raises(ValidationError) as exc:
        drafting.indicator_create(
            actor=liaison,
            declaration=declaration,
            parent=fw.economy,
            name="x",
            weight=Decimal("100"),
            rule_type="completion",
            rule_params={"cap": -1},
        )
    assert "rule_type" in exc.value.message_dict


def test_another_units_liaison_may_not_write(fw: Framework, declaration: Declaration) -> None:
    stranger = UserFactory(role=Role.LIAISON, unit=UnitFactory(category=fw.scheme.category))
    with pytest.raises(PermissionDenied):
        _add(declaration, stranger, fw.economy)


def test_auditor_may_not_write(fw: Framework, declaration: Declaration) -> None:
    with pytest.raises(PermissionDenied):
        _add(declaration, UserFactory(role=Role.AUDITOR), fw.economy)


def test_burden_cap_refuses_the_tenth_core_indicator(
    fw: Framework, declaration: Declaration, liaison: User
) -> None:
    for i in range(9):
        _add(declaration, liaison, fw.economy, name=f"指标{i}", weight=Decimal("10"))
    with pytest.raises(ValidationError, match="核心指标已达上限 9 项"):
        _add(declaration, liaison, fw.economy, name="第十项", weight=Decimal("10"))
    _add(declaration, liaison, fw.economy, name="非核心", weight=Decimal("10"), is_core=False)


def test_burden_cap_reads_the_scheme_option(fw: Framework, declaration: Declaration, liaison: User) -> None:
    fw.scheme.options = {drafting.CORE_CAP_OPTION: 1}
    fw.scheme.save()
    _add(declaration, liaison, fw.economy)
    with pytest.raises(ValidationError, match="上限 1 项"):
        _add(declaration, liaison, fw.economy, name="第二项")


def test_library_pull_in_adds_entries_with_their_rules_and_last_years_target(
    fw: Framework, declaration: Declaration, liaison: User
) -> None:
    entry = LibraryEntryFactory(kind=LibraryKind.BASIC, name="一般公共预算收入", rule_params={"cap": 1.1})
    # Last year's published declaration of the unit had the same library entry.
    last_fw = framework(cycle=None, unit=declaration.unit)
    last_fw.cycle.year = declaration.cycle.year - 1
    last_fw.cycle.save()
    last = DeclarationFactory(cycle=last_fw.cycle, unit=declaration.unit, published_version=1)
    DeclaredIndicatorFactory(
        declaration=last, parent=last_fw.economy, library_entry=entry, target=Decimal("12")
    )
    created = library.library_pull(
        actor=liaison, declaration=declaration, parent=fw.economy, entries=[entry], weight=Decimal("100")
    )
    assert [(c.name, c.rule_type, c.rule_params, c.last_year_target) for c in created] == [
        ("一般公共预算收入", "completion", {"cap": 1.1}, Decimal("12"))
    ]


def test_library_pull_in_refuses_another_zones_regional_entry(
    fw: Framework, declaration: Declaration, liaison: User
) -> None:
    entry = LibraryEntryFactory(kind=LibraryKind.REGIONAL, function_zone=FunctionZoneFactory())
    assert entry not in library.library_choices(declaration)
    with pytest.raises(ValidationError, match="不适用于本单位的功能区"):
        library.library_pull(
            actor=liaison, declaration=declaration, parent=fw.economy, entries=[entry], weight=Decimal("100")
        )


def test_weight_problems_block_submission(fw: Framework, declaration: Declaration, liaison: User) -> None:
    _add(declaration, liaison, fw.economy, weight=Decimal("60"))
    problems = drafting.declared_weight_problems(declaration)
    assert [(p.where, p.total) for p in problems] == [("经济发展", Decimal("60"))]
    with pytest.raises(ValidationError, match="权重须合计 100"):
        submission.declaration_submit(actor=liaison, declaration=declaration)
    assert not DeclarationVersion.objects.exists()


def test_submit_freezes_a_version_and_enters_the_first_review_stage(
    fw: Framework, declaration: Declaration, liaison: User
) -> None:
    first = ReviewStageFactory(cycle=fw.cycle, order=1, name="考核办初审")
    ReviewStageFactory(cycle=fw.cycle, order=2, name="分管领导")
    office = UserFactory(role=Role.OFFICE)
    indicator = _add(declaration, liaison, fw.economy)
    MilestoneFactory(indicator=indicator)
    version = submission.declaration_submit(actor=liaison, declaration=declaration, note="首次申报")
    declaration.refresh_from_db()
    assert (version.number, declaration.version, declaration.status, declaration.stage) == (
        1,
        1,
        DeclarationStatus.SUBMITTED,
        first,
    )
    item = by_uid(version.snapshot)[str(indicator.uid)]
    assert item["name"] == "规上工业增加值增速" and item["milestones"][0]["expected_percent"] == "50.00"
    assert Notification.objects.filter(recipient=office).count() == 1
    # Under review, the working copy is frozen.
    with pytest.raises(ValidationError, match="审核中"):
        _add(declaration, liaison, fw.people)


def test_submit_without_review_stages_approves_directly(
    fw: Framework, declaration: Declaration, liaison: User
) -> None:
    _add(declaration, liaison, fw.economy)
    submission.declaration_submit(actor=liaison, declaration=declaration)
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.APPROVED and declaration.approved_at is not None


def test_draft_is_refused_outside_the_declaration_stage(
    fw: Framework, declaration: Declaration, liaison: User
) -> None:
    fw.cycle.stage = CycleStage.REVIEW
    fw.cycle.save()
    with pytest.raises(ValidationError, match="不能修改申报指标"):
        _add(declaration, liaison, fw.economy)


def test_returned_declaration_is_resubmitted_during_review(
    fw: Framework, declaration: Declaration, liaison: User
) -> None:
    _add(declaration, liaison, fw.economy)
    declaration.status = DeclarationStatus.RETURNED
    declaration.save()
    fw.cycle.stage = CycleStage.REVIEW
    fw.cycle.save()
    version = submission.declaration_submit(actor=liaison, declaration=declaration)
    assert version.number == 1


def test_closed_cycle_is_read_only(fw: Framework, declaration: Declaration, liaison: User) -> None:
    fw.cycle.status = CycleStatus.CLOSED
    fw.cycle.save()
    with pytest.raises(ValidationError, match="已结束"):
        _add(declaration, liaison, fw.economy)


# --- pages ------------------------------------------------------------------------------------


def _post_indicator(client: Client, declaration: Declaration, fw: Framework, **extra: str) -> object:
    data = {
        "parent": str(fw.economy.pk),
        "name": "招商引资到位资金",
        "measure": "亿元",
        "target": "20",
        "weight": "100",
        "kind": "base",
        "is_core": "on",
        "rule_type": "completion",
        "rp__completion__cap": "1.2",
        "milestones__due": "2026-06-30",
        "milestones__percent": "50",
        "milestones__note": "半年过半",
        "order": "1",
    }
    data.update(extra)
    return client.post(reverse("declarations:indicator_create", args=[declaration.pk]), data)


def test_liaison_page_flow_add_and_submit(
    client: Client, fw: Framework, declaration: Declaration, liaison: User
) -> None:
    client.force_login(liaison)
    home = client.get(reverse("declarations:home"), {"year": fw.cycle.year})
    assert home.status_code == 200 and "本单位目标申报" in home.content.decode()
    form = client.get(
        reverse("declarations:indicator_create", args=[declaration.pk]), {"parent": fw.economy.pk}
    )
    assert form.status_code == 200 and "计分规则" in form.content.decode()
    response = _post_indicator(client, declaration, fw)
    assert response.status_code == 302
    indicator = DeclaredIndicator.objects.get(declaration=declaration)
    assert indicator.rule_params == {"cap": 1.2} and indicator.milestones.get().note == "半年过半"
    page = client.get(reverse("declarations:declaration_detail", args=[declaration.pk])).content.decode()
    assert "招商引资到位资金" in page and "经济发展" in page
    submitted = client.post(reverse("declarations:declaration_submit", args=[declaration.pk]), follow=True)
    assert "已提交第 1 版" in submitted.content.decode()


def test_bad_field_redisplays_the_form_keeping_input(
    client: Client, fw: Framework, declaration: Declaration, liaison: User
) -> None:
    client.force_login(liaison)
    response = _post_indicator(client, declaration, fw, weight="abc")
    body = response.content.decode()
    assert response.status_code == 200 and "“权重”须为数字" in body and "招商引资到位资金" in body


def test_burden_cap_message_on_the_page(
    client: Client, fw: Framework, declaration: Declaration, liaison: User
) -> None:
    fw.scheme.options = {drafting.CORE_CAP_OPTION: 0}
    fw.scheme.save()
    client.force_login(liaison)
    response = _post_indicator(client, declaration, fw)
    assert response.status_code == 200 and "核心指标已达上限 0 项" in response.content.decode()


def test_another_units_declaration_is_404(client: Client, fw: Framework, declaration: Declaration) -> None:
    stranger = UserFactory(role=Role.LIAISON, unit=UnitFactory(category=fw.scheme.category))
    client.force_login(stranger)
    indicator = DeclaredIndicatorFactory(declaration=declaration, parent=fw.economy)
    for url in (
        reverse("declarations:declaration_detail", args=[declaration.pk]),
        reverse("declarations:indicator_create", args=[declaration.pk]),
        reverse("declarations:indicator_edit", args=[indicator.pk]),
        reverse("declarations:version_list", args=[declaration.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_lead_department_reads_the_indicators_it_leads(
    client: Client, fw: Framework, declaration: Declaration
) -> None:
    lead_unit = UnitFactory()
    DeclaredIndicatorFactory(
        declaration=declaration, parent=fw.economy, lead_department=lead_unit, name="牵头指标"
    )
    client.force_login(UserFactory(role=Role.LEAD_DEPT, unit=lead_unit))
    page = client.get(reverse("declarations:led"), {"year": fw.cycle.year}).content.decode()
    assert "牵头指标" in page and declaration.unit.name in page
    assert client.get(reverse("declarations:declaration_detail", args=[declaration.pk])).status_code == 404


def test_liaison_starts_a_declaration_from_the_home_page(client: Client, fw: Framework) -> None:
    unit = UnitFactory(category=fw.scheme.category)
    client.force_login(UserFactory(role=Role.LIAISON, unit=unit))
    page = client.get(reverse("declarations:home"), {"year": fw.cycle.year})
    assert "开始申报" in page.content.decode()
    response = client.post(reverse("declarations:declaration_start") + f"?year={fw.cycle.year}")
    assert response.status_code == 302 and Declaration.objects.filter(unit=unit, cycle=fw.cycle).exists()


def test_office_list_page_scopes_and_paginates(
    client: Client, fw: Framework, declaration: Declaration
) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    page = client.get(reverse("declarations:home"), {"year": fw.cycle.year}).content.decode()
    assert declaration.unit.name in page and "填报中" in page


def test_delete_indicator_page(
    client: Client, fw: Framework, declaration: Declaration, liaison: User
) -> None:
    indicator = DeclaredIndicatorFactory(declaration=declaration, parent=fw.economy)
    client.force_login(liaison)
    assert client.get(reverse("declarations:indicator_delete", args=[indicator.pk])).status_code == 200
    client.post(reverse("declarations:indicator_delete", args=[indicator.pk]))
    assert not DeclaredIndicator.objects.filter(pk=indicator.pk).exists()


def test_library_page_pulls_in_entries(
    client: Client, fw: Framework, declaration: Declaration, liaison: User
) -> None:
    entry = LibraryEntryFactory(name="森林覆盖率")
    client.force_login(liaison)
    response = client.post(
        reverse("declarations:library_pull", args=[declaration.pk]),
        {"parent": fw.people.pk, "entries": [entry.pk], "weight": "100", "is_core": "on"},
    )
    assert response.status_code == 302
    assert DeclaredIndicator.objects.get(declaration=declaration).name == "森林覆盖率"


def test_scheme_form_sets_the_burden_cap(fw: Framework) -> None:
    from jixiao.schemes.forms import SchemeForm

    form = SchemeForm(
        data={"category": fw.scheme.category_id, "name": fw.scheme.name, "core_indicator_cap": "5"},
        instance=fw.scheme,
    )
    assert form.is_valid(), form.errors
    form.save()
    fw.scheme.refresh_from_db()
    assert drafting.core_cap(fw.scheme) == 5


def test_liaison_home_todo_says_returned(fw: Framework, declaration: Declaration, liaison: User) -> None:
    from jixiao.web.selectors import home_todos

    declaration.status = DeclarationStatus.RETURNED
    declaration.save()
    texts = [item.text for group in home_todos(user=liaison) for item in group.items]
    assert "目标申报：被退回，请修改后重新提交" in texts


def test_carry_over_keeps_uids_and_fills_last_years_target_and_actual(
    client: Client, fw: Framework, declaration: Declaration, liaison: User
) -> None:
    from jixiao.declarations.snapshot import snapshot_of

    last_fw = framework(unit=declaration.unit)
    last_fw.cycle.year = declaration.cycle.year - 1
    last_fw.cycle.save()
    last = DeclarationFactory(cycle=last_fw.cycle, unit=declaration.unit, published_version=1, version=1)
    top = DeclaredIndicatorFactory(declaration=last, parent=last_fw.economy, target=Decimal("7.5"))
    sub = DeclaredIndicatorFactory(declaration=last, parent=last_fw.economy, under=top, is_core=False)
    DeclarationVersion.objects.create(declaration=last, number=1, snapshot=snapshot_of(last))
    # Last year's annual value of the target, entered for the evaluation: this year's 上年实际.
    from jixiao.facts.models import IndicatorResult

    IndicatorResult.objects.create(cycle=last_fw.cycle, unit=declaration.unit, declared=top, value=7.93)
    client.force_login(liaison)
    client.post(reverse("declarations:carry_over", args=[declaration.pk]))
    rows = {r.uid: r for r in DeclaredIndicator.objects.filter(declaration=declaration)}
    assert set(rows) == {top.uid, sub.uid}
    assert rows[top.uid].parent == fw.economy and rows[top.uid].last_year_target == Decimal("7.5")
    assert rows[top.uid].last_year_actual == Decimal("7.93") and rows[sub.uid].last_year_actual is None
    assert rows[top.uid].target is None and rows[sub.uid].under == rows[top.uid]
    # A second time adds nothing (same uids).
    assert library.carry_over_last_year(actor=liaison, declaration=declaration) == 0


def test_a_target_with_monthly_reports_cannot_be_deleted_so_nothing_recorded_is_lost(
    fw: Framework, declaration: Declaration, liaison: User
) -> None:
    import datetime as dt

    from jixiao.tracking.models import ProgressReport

    indicator = _add(declaration, liaison, fw.economy)
    ProgressReport.objects.create(indicator=indicator, period=dt.date(2026, 3, 1), narrative="一季度进展")
    with pytest.raises(ValidationError, match="已有月度进展或年度数据"):
        drafting.indicator_delete(actor=liaison, indicator=indicator)
    assert DeclaredIndicator.objects.filter(pk=indicator.pk).exists()
    assert ProgressReport.objects.filter(indicator=indicator).count() == 1


def test_targets_show_without_trailing_zeros_on_the_detail_and_led_pages(
    client: Client, fw: Framework, declaration: Declaration, liaison: User
) -> None:
    lead_unit = UnitFactory()
    DeclaredIndicatorFactory(
        declaration=declaration, parent=fw.economy, lead_department=lead_unit, target=Decimal("56.5000")
    )
    client.force_login(liaison)
    page = client.get(reverse("declarations:declaration_detail", args=[declaration.pk])).content.decode()
    assert "56.5 " in page and "56.5000" not in page
    client.force_login(UserFactory(role=Role.LEAD_DEPT, unit=lead_unit))
    page = client.get(reverse("declarations:led"), {"year": fw.cycle.year}).content.decode()
    assert "56.5 " in page and "56.5000" not in page
