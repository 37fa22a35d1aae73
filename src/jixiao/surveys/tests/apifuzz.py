"""Schemathesis against the service API's OpenAPI, in-process through Django's WSGI handler.

Shared by the test suite (a bounded run, ``test_api_fuzz.py``) and ``bench/fuzz_api.py`` (a longer
run that prints the figures). No network: schemathesis talks to the WSGI application object, and
the run is deterministic (``derandomize``) so a failure found in CI reproduces locally.

Each generated case is sent once per caller: a valid token of the unit, a token of another unit and
no token. The only assertion is the one the issue asks for: no answer is a 5xx, whatever the input
(schema-conforming or not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

SCHEMA_PATH = "/api/surveys/openapi.json"

# Generated strings seldom hold what broke the product (a NUL made PostgreSQL refuse the insert, a
# 100 KB note bloated every page), so one string of some cases is spiked with one of these.
POISONS: tuple[str | None, ...] = (None, None, "\x00", "a\x00b", "\x1b[31m", "\x7f", "长" * 20_000)


@dataclass
class FuzzReport:
    operations: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)

    @property
    def server_error_count(self) -> int:
        return len(self.server_errors)


def fuzz_api(
    *, callers: Mapping[str, Mapping[str, str]], examples_per_operation: int, negative: bool = True
) -> FuzzReport:
    """Run every operation of the OpenAPI with generated cases; return what was sent and answered.

    ``callers`` maps a caller's name to the headers it sends (e.g. its ``Authorization``).
    """
    report = FuzzReport()
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if negative else [GenerationMode.POSITIVE]
    # The WSGI handler closes the database connection after each request; inside a test that is
    # the test's transaction, so keep it open as Django's test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, WSGIHandler())
        for result in schema.get_all_operations():
            operation = result.ok()
            report.operations.append(operation.label)
            for mode in modes:
                _fuzz_operation(operation, mode, callers, examples_per_operation, report)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return report


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    callers: Mapping[str, Mapping[str, str]],
    examples: int,
    report: FuzzReport,
) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        # Record-and-continue: no shrinking (a 5xx is kept with its input instead), no health
        # checks (the negative strategies filter heavily by design).
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        poison=st.sampled_from(POISONS),
        where=st.integers(min_value=0, max_value=31),
    )
    def run(case: Any, poison: str | None, where: int) -> None:
        if poison is not None:
            _spike(case, poison, where)
        for name, headers in callers.items():
            report.requests += 1
            try:
                status = case.call(headers=dict(headers)).status_code
            except Exception as exc:  # the handler itself failed (e.g. rendering the 500 page)
                status, detail = 500, f"{type(exc).__name__}: {exc}"
            else:
                detail = ""
            report.statuses[status] = report.statuses.get(status, 0) + 1
            if status >= 500:
                report.server_errors.append(
                    f"{operation.label} [{mode.value}, {name}] → {status} {detail}: {case.as_curl_command()}"
                )

    run()


def _spike(case: Any, poison: str, where: int) -> None:
    """Append ``poison`` to one string of the case's JSON body or query (chosen by ``where``)."""
    slots: list[tuple[dict[str, Any], str]] = [
        (container, key)
        for container in (case.body, case.query)
        if isinstance(container, dict)
        for key, value in container.items()
        if isinstance(value, str)
    ]
    if slots:
        container, key = slots[where % len(slots)]
        container[key] = container[key] + poison
