from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import path

from jixiao.config.urls import urlpatterns as base_patterns


def _boom(request: object) -> None:
    raise RuntimeError("deliberate failure")


urlpatterns = [*base_patterns, path("boom/", _boom)]


def test_django_request_logger_has_a_handler_so_a_500_is_never_silent() -> None:
    assert settings.LOGGING["loggers"]["django.request"]["handlers"]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_is_logged(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/boom/")
    assert response.status_code == 500
    assert any("deliberate failure" in str(r.exc_info) for r in caplog.records if r.exc_info)
