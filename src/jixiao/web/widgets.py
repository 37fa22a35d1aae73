"""Form widgets and fields shared by every app: searchable (grouped) selects and small tables.

A searchable select is an ordinary ``<select>`` marked ``data-searchable``; ``web/searchable.js``
turns it into a type-to-filter box (Tom Select, vendored under ``static/vendor``). Without
JavaScript it stays a plain select, grouped with ``<optgroup>``, so nothing depends on the script.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

SEARCH_PLACEHOLDER = _("输入名称或代码搜索")


def searchable(widget: forms.Widget, *, placeholder: str = "") -> forms.Widget:
    """Mark ``widget`` (a select) as searchable and return it."""
    widget.attrs["data-searchable"] = "1"
    widget.attrs["data-placeholder"] = placeholder or str(SEARCH_PLACEHOLDER)
    widget.attrs["data-no-results"] = str(_("没有匹配的选项"))
    widget.attrs["data-clear-title"] = str(_("清除"))
    widget.attrs["data-remove-title"] = str(_("移除"))
    return widget


class SearchableSelect(forms.Select):
    """A single select that the browser lets the user filter by typing."""

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__(attrs, choices)
        searchable(self)


class SearchableSelectMultiple(forms.SelectMultiple):
    """A multiple select that the browser lets the user filter by typing."""

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__(attrs, choices)
        searchable(self)


class _GroupedIterator(ModelChoiceIterator):  # type: ignore[type-arg]  # generic only in the stubs
    """Yield ``(group label, [(value, label), …])`` for consecutive objects of one group."""

    field: GroupedModelChoiceField

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for group, objects in groupby(self.queryset, key=self.field.group_by):
            yield (group, [self.choice(obj) for obj in objects])


class GroupedModelChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A model choice rendered in ``<optgroup>`` groups (unit → official, category → indicator).

    ``group_by`` returns an object's group label; the queryset must be ordered so that each
    group's objects are consecutive. Validation is unchanged (by primary key in the queryset)."""

    iterator = _GroupedIterator

    def __init__(
        self,
        queryset: Any,
        *,
        group_by: Callable[[Any], str],
        label_of: Callable[[Any], str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.group_by = group_by
        self.label_of = label_of
        kwargs.setdefault("widget", SearchableSelect)
        super().__init__(queryset, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return self.label_of(obj) if self.label_of is not None else super().label_from_instance(obj)


class NumberWithUnit(forms.TextInput):
    """A number input followed by its unit (分, %, 得分率 …). A text input with a decimal keypad,
    not ``type=number``: the server checks the value and names the field, and a browser's number
    input would silently drop what it cannot parse."""

    def __init__(self, unit: Any = "", attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"inputmode": "decimal", "size": "10", **(attrs or {})})
        self.unit = unit

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> Any:
        html = super().render(name, value, attrs, renderer)
        if not self.unit:
            return html
        return format_html('<span class="with-unit">{} <span class="unit">{}</span></span>', html, self.unit)


@dataclass(frozen=True)
class RowColumn:
    """One column of a :class:`RowsField`: its key, header, cell field and unit."""

    key: str
    label: Any
    field: forms.Field
    unit: Any = ""


# Without JavaScript this many blank rows follow the filled ones, so rows can still be added.
BLANK_ROWS = 2


class RowsWidget(forms.Widget):
    """A small table of rows (steps, tiers, grade → rate …) with add/remove buttons.

    Each column is submitted as repeated inputs named ``<name>__<key>``; a row whose cells are all
    blank is dropped. ``web/forms.js`` adds and removes rows; without it two blank rows are shown."""

    def __init__(self, columns: tuple[RowColumn, ...], attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.columns = columns

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[list[str]] | None:
        if not any(f"{name}__{c.key}" in data for c in self.columns):
            return None
        cells = [[str(v).strip() for v in data.getlist(f"{name}__{c.key}")] for c in self.columns]
        count = max((len(col) for col in cells), default=0)
        rows = [[col[i] if i < len(col) else "" for col in cells] for i in range(count)]
        return [row for row in rows if any(row)]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return not any(f"{name}__{c.key}" in data for c in self.columns)

    def _cell(self, name: str, column: RowColumn, value: Any, label: str) -> SafeString:
        field_name = f"{name}__{column.key}"
        choices = getattr(column.field, "choices", None)
        if choices is not None:
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (v, mark_safe(" selected") if str(v) == str(value) else "", lbl)  # a constant
                    for v, lbl in choices
                ),
            )
            control = format_html('<select name="{}" aria-label="{}">{}</select>', field_name, label, options)
        else:
            control = format_html(
                '<input type="text" name="{}" value="{}" inputmode="decimal" size="8" aria-label="{}">',
                field_name,
                _format_cell(value),
                label,
            )
        if column.unit:
            control = format_html('{} <span class="unit">{}</span>', control, column.unit)
        return format_html("<td>{}</td>", control)

    def _row(self, name: str, values: list[Any]) -> SafeString:
        cells = format_html_join(
            "",
            "{}",
            ((self._cell(name, c, v, str(c.label)),) for c, v in zip(self.columns, values, strict=False)),
        )
        remove = format_html(
            '<td><button type="button" class="btn small secondary" data-row-remove title="{0}">{0}</button></td>',
            _("删除此行"),
        )
        return format_html('<tr data-row="1">{}{}</tr>', cells, remove)

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> Any:
        rows = [list(r) for r in (value or []) if isinstance(r, list | tuple)]
        blank = ["" for _c in self.columns]
        body = format_html_join("", "{}", ((self._row(name, r),) for r in [*rows, *([blank] * BLANK_ROWS)]))
        head = format_html_join(
            "",
            "<th>{}{}</th>",
            ((c.label, format_html(" ({})", c.unit) if c.unit else "") for c in self.columns),
        )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html(
            '<div class="rows-table" data-rows="{}" id="{}"><table class="grid compact"><thead><tr>{}<th></th></tr>'
            "</thead><tbody>{}</tbody></table>"
            "<template data-row-template>{}</template>"
            '<p><button type="button" class="btn small secondary" data-row-add>{}</button></p></div>',
            name,
            final_attrs.get("id", ""),
            head,
            body,
            self._row(name, blank),
            _("添加一行"),
        )


def _format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class RowsField(forms.Field):
    """A list of rows, each cleaned column by column; an error names the row and the column."""

    def __init__(self, columns: tuple[RowColumn, ...], *, min_rows: int = 0, **kwargs: Any) -> None:
        self.columns = columns
        self.min_rows = min_rows
        kwargs.setdefault("widget", RowsWidget(columns))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        problems: list[str] = []
        for number, raw in enumerate(value or [], start=1):
            cleaned: list[Any] = []
            for column, text in zip(self.columns, raw, strict=False):
                try:
                    cleaned.append(column.field.clean(text))
                except forms.ValidationError as exc:
                    problems.extend(
                        str(_("第 %(row)s 行“%(column)s”：%(msg)s"))
                        % {"row": number, "column": column.label, "msg": msg}
                        for msg in exc.messages
                    )
                    cleaned.append(None)
            rows.append(tuple(cleaned))
        if problems:
            raise forms.ValidationError(problems)
        return rows

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if value and len(value) < self.min_rows:
            raise forms.ValidationError(_("至少填写 %(n)s 行") % {"n": self.min_rows})

    def bound_data(self, data: Any, initial: Any) -> Any:
        return initial if data is None else data
