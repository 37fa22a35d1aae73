"""Starting the job runner as a child process (``jixiao demo`` runs it beside gunicorn)."""

from __future__ import annotations

import subprocess
import sys


def start_worker() -> subprocess.Popen[bytes]:
    """Start ``jixiao worker --exit-with-parent`` with this interpreter and environment; return it.

    The child stops when its parent process ends (the demo execs gunicorn, which keeps the pid),
    and Ctrl-C in the terminal reaches both (one process group)."""
    return subprocess.Popen([sys.executable, "-m", "jixiao.cli", "worker", "--exit-with-parent"])
