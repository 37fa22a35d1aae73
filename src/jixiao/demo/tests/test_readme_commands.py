"""Every command form the README shows works in a fresh shell: a minimal PATH (no ~/.local/bin, no
activated virtualenv, no uv) and an empty home. ``make`` lines must resolve to programs that exist;
``.venv/bin/jixiao`` lines must answer ``--help``."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
README = ROOT / "README.md"
SECTIONS = ("## Two commands", "## The `jixiao` command")
MINIMAL_PATH = "/usr/bin:/bin"


def _shell_lines() -> list[str]:
    """The command lines of the ``sh`` blocks in the README's command sections."""
    text = README.read_text(encoding="utf-8")
    lines: list[str] = []
    for title in SECTIONS:
        start = text.index(title)
        end = text.find("\n## ", start + len(title))
        section = text[start : end if end > 0 else None]
        for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
            lines += [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line]


def _fresh_env(home: Path) -> dict[str, str]:
    env = {"PATH": MINIMAL_PATH, "HOME": str(home), "LANG": "C.UTF-8"}
    # Keep the test run's database and static root out of the developer's var/ directory.
    env["JIXIAO_VAR_DIR"] = str(home / "var")
    return env


def _forms() -> tuple[list[str], list[str]]:
    """The make targets and the jixiao subcommands the README shows (each once, in order)."""
    targets: list[str] = []
    subcommands: list[str] = []
    for line in _shell_lines():
        words = shlex.split(line.replace("|", " "))
        if words[0] == "make" and words[1] not in targets:
            targets.append(words[1])
        elif words[0].startswith("PORT=") and words[1] == "make" and words[2] not in targets:
            targets.append(words[2])
        elif words[0] == ".venv/bin/jixiao" and words[1] not in subcommands:
            subcommands.append(words[1])
        else:
            assert words[0] in ("make", ".venv/bin/jixiao") or words[0].startswith("PORT="), line
    return targets, subcommands


def test_the_readme_shows_only_commands_that_need_no_uv_on_the_path() -> None:
    targets, subcommands = _forms()
    assert {"demo", "test"} <= set(targets)
    assert {"demo", "generate", "compute", "import-facts"} <= set(subcommands)
    assert "uv run" not in "\n".join(_shell_lines())


def test_each_make_target_resolves_to_programs_that_exist_in_a_fresh_shell(tmp_path: Path) -> None:
    targets, _ = _forms()
    for target in targets:
        dry = subprocess.run(
            ["make", "-n", target],
            cwd=ROOT,
            env=_fresh_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert dry.returncode == 0, (target, dry.stderr)
        run = [line for line in dry.stdout.splitlines() if line.startswith(".venv/bin/")]
        assert run, (target, dry.stdout)
        for line in run:
            program = ROOT / line.split()[0]
            assert program.is_file() and os.access(program, os.X_OK), line


@pytest.mark.parametrize("subcommand", _forms()[1])
def test_each_readme_jixiao_command_answers_help_in_a_fresh_shell(subcommand: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(ROOT / ".venv/bin/jixiao"), subcommand, "--help"],
        cwd=ROOT,
        env=_fresh_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
