"""The CJK font check (web/fonts.py): required in production, skipped in tests and the demo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from jixiao.web import checks, fonts

_CACHED = fonts.cjk_font_families  # the real, cached function (some tests replace it)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    _CACHED.cache_clear()
    yield
    _CACHED.cache_clear()


def test_not_required_outside_production() -> None:
    with override_settings(JIXIAO_REQUIRE_CJK_FONT=False):
        assert checks.check_cjk_font() == []


def test_a_missing_font_is_an_error_in_chinese_and_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_font_families", lambda: ())
    with override_settings(JIXIAO_REQUIRE_CJK_FONT=True):
        [error] = checks.check_cjk_font()
    assert error.id == "jixiao.E002"
    assert "未找到中文（CJK）字体" in error.msg
    assert "No CJK font found" in error.msg
    assert "fonts-noto-cjk" in error.msg


def test_no_fontconfig_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    assert fonts.cjk_font_families() is None
    assert fonts.cjk_font_problems() == [fonts.NO_FONTCONFIG_MESSAGE]


def test_a_font_found_by_fontconfig_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_font_families", lambda: ("Noto Sans CJK SC",))
    with override_settings(JIXIAO_REQUIRE_CJK_FONT=True):
        assert checks.check_cjk_font() == []


def test_fc_list_output_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Done:
        stdout = "Noto Sans CJK SC,Noto Sans CJK SC Regular\n\nAR PL UMing CN\n"

    monkeypatch.setattr(fonts.shutil, "which", lambda name: "/usr/bin/fc-list")
    monkeypatch.setattr(fonts.subprocess, "run", lambda *args, **kwargs: Done())
    assert fonts.cjk_font_families() == ("AR PL UMing CN", "Noto Sans CJK SC,Noto Sans CJK SC Regular")


def test_the_worker_refuses_to_start_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management import CommandError, call_command

    monkeypatch.setattr(fonts, "cjk_font_families", lambda: ())
    with override_settings(JIXIAO_REQUIRE_CJK_FONT=True), pytest.raises(CommandError, match="No CJK font"):
        call_command("worker", "--once")
