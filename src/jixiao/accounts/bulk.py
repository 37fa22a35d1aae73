"""Creating many accounts from one Excel sheet (批量开通账户), typically every unit's liaison.

The template lists one liaison row per active unit that has no active liaison yet. The import
reads the sheet with the registry's calamine reader (``organisation.excel.reader``: the one place
that normalises cells), checks every row and reports each problem by sheet, row and column; if any
row is wrong nothing is written. Otherwise it creates the accounts in one transaction with
generated usernames and initial passwords, and returns those passwords once
(:mod:`jixiao.accounts.credentials` hands them to the system admin).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record, snapshot
from jixiao.accounts.models import BUSINESS_ROLES, AuditAction, Role, User
from jixiao.accounts.passwords import password_generate, set_initial_password
from jixiao.accounts.services import AUDITED_FIELDS, UNIT_ROLES, require_system_admin
from jixiao.organisation.excel.reader import RawSheet, UnreadableWorkbook, read_workbook
from jixiao.organisation.excel.validate import RowError
from jixiao.organisation.models import Official, Unit
from jixiao.web.workbooks import safe_workbook, text_cap

SHEET = "账户"
NOTES_SHEET = "说明"
COL_UNIT_CODE = "单位代码"
COL_UNIT_NAME = "单位名称"
COL_NAME = "姓名"
COL_PHONE = "手机号"
COL_ROLE = "角色"
HEADERS = (COL_UNIT_CODE, COL_UNIT_NAME, COL_NAME, COL_PHONE, COL_ROLE)
MAX_ROWS = 5000  # more accounts than any prefecture or province has staff for
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
NAME_MAX = text_cap(User, "display_name")  # follows the model field

# Generated usernames: a short pinyin prefix per role, then the unit code (jxy_u0001, qt_u0102 …).
USERNAME_PREFIX = {
    Role.OFFICE: "kh",
    Role.LIAISON: "jxy",
    Role.LEAD_DEPT: "qt",
    Role.LEADER: "ld",
    Role.OFFICIAL: "gb",
    Role.AUDITOR: "sj",
}
_NOT_USERNAME = re.compile(r"[^a-z0-9_.+-]")


@dataclass(frozen=True)
class Credential:
    """One created account as it is printed for the person: plain strings only."""

    username: str
    password: str
    display_name: str
    role: str  # Chinese label
    unit_code: str
    unit_name: str
    phone: str


@dataclass(frozen=True)
class ImportOutcome:
    errors: list[RowError]
    created: list[Credential]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Row:
    number: int
    role: Role
    unit: tuple[int, str, str] | None  # pk, code, name
    display_name: str
    phone: str
    official_id: int | None


def _role_labels() -> dict[str, Role]:
    """The roles a sheet may give: the business roles the system admin opens accounts with (the
    privileged ones come only from the security admin, one account at a time)."""
    return {str(label): Role(value) for value, label in Role.choices if value in BUSINESS_ROLES}


def template_xlsx() -> bytes:
    """Return the account sheet, prefilled with one liaison row per active unit without an active
    liaison (name and phone left for the system admin to fill in), and a notes sheet."""
    has_liaison = User.objects.filter(unit_id=OuterRef("pk"), role=Role.LIAISON, is_active=True)
    units = (
        Unit.objects.filter(is_active=True)
        .exclude(Exists(has_liaison))
        .order_by("category__order", "category__code", "code")
        .values_list("code", "name")
    )
    buffer = io.BytesIO()
    workbook = safe_workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    ws = workbook.add_worksheet(SHEET)
    for col, (title, width) in enumerate(zip(HEADERS, (14, 28, 12, 14, 16), strict=True)):
        ws.set_column(col, col, width, text)
        ws.write_string(0, col, title, header)
    labels = list(_role_labels())
    ws.data_validation(1, 4, MAX_ROWS, 4, {"validate": "list", "source": labels})
    ws.freeze_panes(1, 0)
    liaison = str(Role.LIAISON.label)
    for row, (code, name) in enumerate(units, start=1):
        ws.write_row(row, 0, [code, name, "", "", liaison])
    notes = workbook.add_worksheet(NOTES_SHEET)
    notes.set_column(0, 0, 100)
    for row, line in enumerate(
        [
            _("每行开通一个账户。已列出尚无绩效员的单位各一行，可补充姓名和手机号，也可增删行。"),
            _("单位代码和单位名称填其一即可（都填时须一致）；考核办、分管领导、审计/纪检可不填单位。"),
            _("牵头单位角色填其牵头的部门；领导干部角色的姓名须与该单位在职干部的姓名一致。"),
            _("姓名：绩效员可留空（显示为“单位简称绩效员”），其他角色必填。手机号可留空，填写时为 11 位。"),
            _("角色可选：%(roles)s。") % {"roles": "、".join(labels)},
            _("导入时先检查全部行：只要有一处错误就不开通任何账户，并列出错误所在的行和列。"),
            _("用户名和初始密码由系统生成，导入后可下载一次（PDF 与 Excel）；用户首次登录须修改密码。"),
        ]
    ):
        notes.write_string(row, 0, line)
    workbook.close()
    return buffer.getvalue()


def _pick_sheet(sheets: dict[str, RawSheet]) -> RawSheet | None:
    if SHEET in sheets:
        return sheets[SHEET]
    return next((s for name, s in sheets.items() if name != NOTES_SHEET), None)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse(source: str | IO[bytes]) -> tuple[list[_Row], list[RowError]]:
    """Read and check the sheet; return the rows and every problem found (all rows are checked)."""
    try:
        sheet = _pick_sheet(read_workbook(source))
    except UnreadableWorkbook as exc:
        return [], [RowError(p.sheet, p.row, p.column, p.message) for p in exc.problems]
    if sheet is None:
        return [], [RowError("", None, "", _("工作簿中没有工作表"))]
    if not any(sheet.headers) and not sheet.row_numbers:
        return [], [RowError(sheet.name, None, "", _("工作表是空的，没有可导入的内容"))]
    index = {h: i for i, h in enumerate(sheet.headers) if h}
    missing = [h for h in (COL_NAME, COL_ROLE) if h not in index]
    if COL_UNIT_CODE not in index and COL_UNIT_NAME not in index:
        missing.append(f"{COL_UNIT_CODE}/{COL_UNIT_NAME}")
    if missing:
        return [], [RowError(sheet.name, 1, h, _("缺少此列")) for h in missing]
    if not sheet.row_numbers:
        return [], [RowError(sheet.name, None, "", _("表中没有数据行"))]
    if len(sheet.row_numbers) > MAX_ROWS:
        return [], [RowError(sheet.name, None, "", _("一次最多导入 %(n)s 行") % {"n": MAX_ROWS})]

    def column(header: str) -> list[str]:
        i = index.get(header)
        return [_text(v) for v in sheet.columns[i]] if i is not None else [""] * len(sheet.row_numbers)

    codes, unit_names, names = column(COL_UNIT_CODE), column(COL_UNIT_NAME), column(COL_NAME)
    phones, roles = column(COL_PHONE), column(COL_ROLE)
    units = list(Unit.objects.values_list("pk", "code", "name", "short_name"))
    by_code = {u[1]: u for u in units}
    name_count = Counter(u[2] for u in units)
    by_name = {u[2]: u for u in units}
    labels = _role_labels()
    wanted = {n for n, r in zip(names, roles, strict=True) if labels.get(r) == Role.OFFICIAL and n}
    officials: dict[tuple[int, str], list[int]] = {}
    for pk, unit_id, name in Official.objects.filter(is_active=True, name__in=wanted).values_list(
        "pk", "unit_id", "name"
    ):
        officials.setdefault((unit_id, name), []).append(pk)
    linked = set(User.objects.filter(official__isnull=False).values_list("official_id", flat=True))

    rows: list[_Row] = []
    errors: list[RowError] = []
    for i, number in enumerate(sheet.row_numbers):

        def error(header: str, message: str, number: int = number) -> None:
            errors.append(RowError(sheet.name, number, header, message))

        role = labels.get(roles[i])
        if role is None:
            error(
                COL_ROLE, _("角色“%(v)s”无效，应为：%(roles)s") % {"v": roles[i], "roles": "、".join(labels)}
            )
        unit = None
        if codes[i]:
            found = by_code.get(codes[i])
            if found is None:
                error(COL_UNIT_CODE, _("没有代码为“%(v)s”的单位") % {"v": codes[i]})
            elif unit_names[i] and unit_names[i] != found[2]:
                error(
                    COL_UNIT_NAME, _("与单位代码不符：代码 %(c)s 是“%(n)s”") % {"c": codes[i], "n": found[2]}
                )
            else:
                unit = found
        elif unit_names[i]:
            if name_count[unit_names[i]] > 1:
                error(COL_UNIT_NAME, _("有多个单位名为“%(v)s”，请填写单位代码") % {"v": unit_names[i]})
            elif unit_names[i] not in by_name:
                error(COL_UNIT_NAME, _("没有名为“%(v)s”的单位") % {"v": unit_names[i]})
            else:
                unit = by_name[unit_names[i]]
        elif role in UNIT_ROLES:
            error(COL_UNIT_CODE, _("%(role)s须填写单位代码或单位名称") % {"role": role.label})
        name = names[i]
        if len(name) > NAME_MAX:
            error(COL_NAME, _("姓名不超过 %(n)s 个字符") % {"n": NAME_MAX})
        elif not name and role is not None and role != Role.LIAISON:
            error(COL_NAME, _("请填写姓名"))
        phone = phones[i]
        if phone and not PHONE_RE.match(phone):
            error(COL_PHONE, _("请填写 11 位手机号"))
        official_id = None
        if role == Role.OFFICIAL and unit is not None and name:
            matches = officials.get((unit[0], name), [])
            if not matches:
                error(COL_NAME, _("“%(u)s”没有名为“%(n)s”的在职干部") % {"u": unit[2], "n": name})
            elif len(matches) > 1:
                error(
                    COL_NAME,
                    _("“%(u)s”有多位干部名为“%(n)s”，请在账户页面逐个开通") % {"u": unit[2], "n": name},
                )
            elif matches[0] in linked:
                error(COL_NAME, _("该干部已有账户"))
            else:
                official_id = matches[0]
                linked.add(official_id)
        if role is None or (role in UNIT_ROLES and unit is None):
            continue
        if unit is not None and role not in UNIT_ROLES:
            unit = None  # the office, leaders and auditors see every unit and keep none
        if not name and unit is not None:
            name = _("%(unit)s绩效员") % {"unit": by_code[unit[1]][3] or unit[2]}
        rows.append(_Row(number, role, unit[:3] if unit else None, name, phone, official_id))
    return rows, errors


def _usernames(rows: list[_Row]) -> list[str]:
    taken = {u.lower() for u in User.objects.values_list("username", flat=True)}
    out: list[str] = []
    for row in rows:
        base = USERNAME_PREFIX[row.role]
        if row.unit is not None:
            code = _NOT_USERNAME.sub("", row.unit[1].lower())
            base = f"{base}_{code}" if code else base
        n = 1
        candidate = base if row.unit is not None else f"{base}01"
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}" if row.unit is not None else f"{base}{n:02d}"
        taken.add(candidate)
        out.append(candidate)
    return out


@transaction.atomic
def accounts_import(*, actor: User, source: str | IO[bytes], filename: str = "") -> ImportOutcome:
    """Check the sheet and, when every row is right, create its accounts with generated usernames
    and initial passwords (to be changed at first login). Returns the problems, or the created
    accounts with their passwords in clear — the only time they exist outside the user's hands."""
    require_system_admin(actor)
    rows, errors = parse(source)
    if errors:
        return ImportOutcome(sorted(errors, key=lambda e: (e.row or 0, e.column)), [])
    created: list[Credential] = []
    users: list[User] = []
    for row, username in zip(rows, _usernames(rows), strict=True):
        user = User(
            username=username,
            role=row.role,
            display_name=row.display_name,
            unit_id=row.unit[0] if row.unit else None,
            official_id=row.official_id,
            phone=row.phone,
        )
        password = password_generate()
        set_initial_password(user, password)
        users.append(user)
        created.append(
            Credential(
                username=username,
                password=password,
                display_name=row.display_name,
                role=str(row.role.label),
                unit_code=row.unit[1] if row.unit else "",
                unit_name=row.unit[2] if row.unit else "",
                phone=row.phone,
            )
        )
    try:
        with transaction.atomic():  # a savepoint: the refusal below leaves the import's transaction usable
            User.objects.bulk_create(users)
    except IntegrityError:
        # Usernames were picked from an unlocked read: another office user created one of them in
        # the meantime. Nothing is written; importing again picks fresh names.
        return ImportOutcome(
            [RowError("", None, "", _("有账号在导入期间被他人同时创建，未写入任何账号，请重新导入"))], []
        )
    for user in User.objects.filter(username__in=[c.username for c in created]):
        audit_record(actor=actor, action=AuditAction.CREATE, obj=user, changes=snapshot(user, AUDITED_FIELDS))
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        object_type="accounts.user",
        object_repr=filename[:200],
        changes={"file": filename, "created": len(created)},
    )
    return ImportOutcome([], created)
