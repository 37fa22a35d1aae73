"""Is a CJK font installed? PDFs (WeasyPrint, through fontconfig) print boxes for Chinese without one.

Production (``JIXIAO_REQUIRE_CJK_FONT``, on with ``JIXIAO_PRODUCTION=1``) refuses to start the web
server (the WSGI entry point) and ``jixiao worker`` without one; ``check --deploy`` reports it
(``jixiao.E002``). Noto CJK (Debian ``fonts-noto-cjk``) or a domestic font with a
Chinese charset (e.g. 方正, 思源) satisfies it; docs/operations.md "Fonts".
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

FC_LIST_TIMEOUT_SECONDS = 20

MISSING_FONT_MESSAGE = (
    "未找到中文（CJK）字体，生成的 PDF 中文将显示为方框：请安装 Noto CJK（Debian/Ubuntu: "
    "apt-get install fonts-noto-cjk）或国产中文字体，`fc-list :lang=zh` 应列出至少一种。"
    "No CJK font found (PDFs would print boxes for Chinese): install Noto CJK (fonts-noto-cjk) or "
    "another Chinese font so that `fc-list :lang=zh` lists one; JIXIAO_REQUIRE_CJK_FONT=0 skips this check."
)
NO_FONTCONFIG_MESSAGE = (
    "未找到 fontconfig 的 fc-list 命令，无法确认中文字体（PDF 依赖 fontconfig）。"
    "fontconfig's fc-list is missing: PDFs need fontconfig and a CJK font (apt-get install fontconfig fonts-noto-cjk)."
)


@lru_cache(maxsize=1)
def cjk_font_families() -> tuple[str, ...] | None:
    """The font families fontconfig knows for Chinese (``fc-list :lang=zh``); None without fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        result = subprocess.run(
            [fc_list, ":lang=zh", "family"],
            capture_output=True,
            text=True,
            timeout=FC_LIST_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    families = {line.strip() for line in result.stdout.splitlines() if line.strip()}
    return tuple(sorted(families))


def cjk_font_problems() -> list[str]:
    """Why PDFs could not print Chinese here, as bilingual sentences; empty when a font is found."""
    families = cjk_font_families()
    if families is None:
        return [NO_FONTCONFIG_MESSAGE]
    return [] if families else [MISSING_FONT_MESSAGE]
