"""The deterministic demo generator: a prefecture (or a province) modelled on the sources.

``generate(scale="prefecture", seed=2025)`` runs :data:`STEPS` in order inside one transaction.
The same seed gives the same database content: every step draws from its own seeded
``random.Random`` (never the global one) and primary keys are allocated in a fixed order.
To grow the demo (indicator results, ballots, survey answers …) write a step function taking a
:class:`~jixiao.demo.pipeline.Context` and :func:`register_step` it; earlier steps are unaffected.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connections, models, transaction

from jixiao.demo import (
    accounts,
    facts,
    library,
    opinion,
    province_tracking,
    registry,
    schemes,
    supervision,
    year2026,
    year2026_tracking,
)
from jixiao.demo.pipeline import SCALES, Context, Step
from jixiao.organisation.models import Region, Unit, UnitCategory
from jixiao.schemes.models import Cycle, LibraryEntry

DEFAULT_SEED = 2025

STEPS: list[Step] = [
    Step("registry", registry.run, "区域、类别、功能区、单位、班子、干部、职务、任职"),
    Step("library", library.run, "“3+3+3”指标库"),
    Step("schemes", schemes.run, "周期、方案、构成、等次政策、四级指标"),
    Step("accounts", accounts.run, "演示账号"),
    Step("facts", facts.run, "指标完成情况、测评得分、测评票数、加减分与否决（两个年度）"),
    Step("evaluations", opinion.run_evaluations, "已结束的民主测评（匿名测评票）"),
    Step("surveys", opinion.run_surveys, "群众满意度调查与随时评（一年的回答）"),
    Step("year2026", year2026.run, "2026年度：框架、单位目标申报与四级联审、动态任务"),
    Step("year2026_tracking", year2026_tracking.run, "2026年度：月度进展与佐证材料、红黄绿灯、周纪实"),
    Step("supervision", supervision.run, "督查督办：各年度督查事项、进展与评定扣分"),
    Step(
        "province_tracking", province_tracking.run, "全省：2025年度单位申报指标（可选：月度进展与红黄绿灯）"
    ),
]


def register_step(step: Step, *, after: str | None = None) -> None:
    """Add ``step`` to the pipeline: at the end, or right after the step named ``after``."""
    if any(s.name == step.name for s in STEPS):
        raise ValueError(f"a step named {step.name!r} is already registered")
    if after is None:
        STEPS.append(step)
        return
    index = next(i for i, s in enumerate(STEPS) if s.name == after)
    STEPS.insert(index + 1, step)


# What makes a database "not empty" for the generator: any generated registry or scheme data.
_CONTENT_MODELS: tuple[type[models.Model], ...] = (Region, UnitCategory, Unit, Cycle, LibraryEntry)


def database_is_empty(using: str = "default") -> bool:
    """Return True when none of the generator's tables holds a row (users do not count)."""
    return not any(m._default_manager.using(using).exists() for m in _CONTENT_MODELS)


def reset_database(using: str = "default") -> None:
    """Empty every table (Django's ``flush``): generated data, users and the audit log."""
    connection = connections[using]
    if connection.in_atomic_block:
        # PostgreSQL refuses to TRUNCATE a table with deferred foreign-key checks still pending
        # in this transaction; run them now.
        connection.check_constraints()
    call_command("flush", interactive=False, database=using, verbosity=0)


def generate(
    *,
    scale: str = "prefecture",
    seed: int = DEFAULT_SEED,
    using: str = "default",
    steps: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
    flags: Iterable[str] = (),
) -> Context:
    """Run the pipeline (or only the named ``steps``) and return the context with counts and timings.

    ``flags`` ask steps for optional parts: ``"tracking"`` the province's monthly reports and
    lights (:mod:`jixiao.demo.province_tracking`, ~17 M rows), ``"declared"`` its declared leaves
    at a smaller scale (tests)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; known: {', '.join(SCALES)}")
    ctx = Context(
        seed=seed,
        scale=SCALES[scale],
        using=using,
        log=log or (lambda message: None),
        flags=frozenset(flags),
    )
    chosen = [s for s in STEPS if steps is None or s.name in steps]
    with transaction.atomic(using=using):
        for step in chosen:
            # A line before and after each step: the demo's first start must never sit silent.
            ctx.log(f"  {step.name}（{step.description}）…" if step.description else f"  {step.name} …")
            started = time.perf_counter()
            step.run(ctx)
            ctx.timings[step.name] = time.perf_counter() - started
            ctx.log(f"  {step.name}: {ctx.timings[step.name]:.1f} s")
        _reset_sequences(ctx)
    return ctx


def _reset_sequences(ctx: Context) -> None:
    """Explicit primary keys bypass PostgreSQL's sequences; move them past the new rows."""
    connection = connections[ctx.using]
    statements = connection.ops.sequence_reset_sql(
        no_style(), sorted(ctx.touched, key=lambda m: m._meta.label)
    )
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
