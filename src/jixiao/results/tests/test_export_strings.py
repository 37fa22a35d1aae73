"""The results export writes every name as text: a unit named like a formula stays a string."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UserFactory
from jixiao.results.services import run_compute
from jixiao.results.tests.test_compute import cycle_with_facts  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://127.0.0.1/x","点击")'


def test_a_unit_named_like_a_formula_is_exported_as_text_never_as_a_formula(
    cycle_with_facts: dict,  # noqa: F811 - the fixture imported above
    client: Client,
) -> None:
    unit = cycle_with_facts["units"][0]
    unit.name, unit.short_name = EVIL, "+1 科"
    unit.save()
    run = run_compute(cycle=cycle_with_facts["cycle"], actor=None)
    client.force_login(UserFactory(role=Role.AUDITOR))
    response = client.get(reverse("results:export"), {"run": run.pk})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if c.data_type == "s"}
    assert EVIL in texts or "+1 科" in texts
