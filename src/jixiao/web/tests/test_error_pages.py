"""403, 404, 500 and CSRF failures are Chinese pages in the product's layout; the site has a favicon."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.urls import path, reverse

from jixiao.accounts.models import Role
from jixiao.config.urls import urlpatterns as base_patterns
from jixiao.organisation.tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

BRAND = "绩效考核平台"


def _boom(request: object) -> None:
    raise RuntimeError("deliberate failure")


urlpatterns = [*base_patterns, path("boom/", _boom)]


def test_a_refused_page_is_a_chinese_403_in_the_layout_with_the_users_navigation(client: Client) -> None:
    client.force_login(UserFactory(role=Role.LIAISON, unit=UnitFactory()))
    response = client.get(reverse("facts:score_list"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "无权访问" in html and BRAND in html
    assert reverse("results:ranking") in html  # the navigation is there
    assert "Forbidden" not in html


def test_an_unknown_page_is_a_chinese_404_in_the_layout(client: Client) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and BRAND in html
    assert "Not Found" not in html


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_is_a_chinese_500_in_the_layout(client: Client) -> None:
    client.raise_request_exception = False
    response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "系统出错" in html and BRAND in html
    assert "Server Error" not in html


def test_a_form_without_its_csrf_token_is_refused_with_a_chinese_page(client: Client) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期" in html and BRAND in html
    assert "CSRF verification failed" not in html


def test_every_page_links_the_svg_favicon(client: Client) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert 'rel="icon" href="/static/web/favicon.svg" type="image/svg+xml"' in html
    found = finders.find("web/favicon.svg")
    assert found is not None
    with open(found, encoding="utf-8") as handle:
        assert handle.read().startswith("<svg")
