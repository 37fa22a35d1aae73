"""Running the engine on a cycle and storing an immutable scoring run (M11–M13).

``run_compute`` never builds the JSON bundle: frames from ``engine_io`` (COPY on PostgreSQL) go
straight into the engine; the run's digests are the columnar ones of ``jixiao.scoring.digests``
(the input digest computed in a thread while the engine runs). The run keeps its results
columnar: one lean ``EntityResult`` row per entity (total, components, rank, grade, flags; COPY on
PostgreSQL) and a ``RunDetail`` with the results frames as Parquet plus the decisions and the
scheme, from which ``selectors.entity_explanation`` explains an entity on demand. ``jixiao
export-bundle`` writes ``cycle_bundle`` and ``jixiao compute --bundle`` reads it through
``load_bundle``: both give the same typed input, hence the same digests, bit for bit.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Field, Max
from django.urls import reverse
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.bound_insert import insert_bound
from jixiao.jobs.models import Job
from jixiao.jobs.services import JobOutcome
from jixiao.ledger.services import PackedInput, input_pack, ledger_record_run
from jixiao.results import engine_io
from jixiao.results.models import EntityResult, ResultSubject, RunDetail, ScoringRun
from jixiao.schemes.lifecycle import assert_cycle_editable
from jixiao.schemes.models import Cycle
from jixiao.scoring.bundle import FORMAT, RESULTS_VERSION, VERSION, _clean
from jixiao.scoring.digests import DIGEST_SCHEME, input_digest, results_digest
from jixiao.scoring.engine import compute
from jixiao.scoring.errors import ScoringError
from jixiao.scoring.explain import finite
from jixiao.scoring.types import DECLARED_COLUMNS, Facts, Officials, Results, Units

WRITE_BATCH = 5_000
PARQUET_ROW_GROUP = 16_384
FLAGS = ("last_place", "last_place_twice", "top_twice")  # the entities frame's flag_* columns
Row = tuple[str, int, int | None, str, Any, dict[str, Any], Any, str, list[str]]
ROW_FIELDS = ("subject", "unit", "official", "category", "total", "components", "rank", "grade", "flags")


def _columns(frame: pl.DataFrame) -> dict[str, list[Any]]:
    return {name: frame.get_column(name).to_list() for name in frame.columns}


def cycle_meta(cycle: Cycle) -> dict[str, Any]:
    """The bundle's free ``cycle`` metadata (part of the input digest)."""
    return {"year": cycle.year, "name": cycle.name}


def cycle_bundle(cycle: Cycle) -> dict[str, Any]:
    """Return the self-contained cycle bundle (docs/bundle.schema.json) built from the database.

    ``jixiao export-bundle`` writes exactly this dict; ``load_bundle`` of it gives the input that
    ``run_compute`` scored, so its input digest is the run's and an auditor can recompute
    published results from published inputs.
    """
    scheme, units, officials, facts, declared = engine_io.load_run_input(cycle)
    return bundle_of(cycle_meta(cycle), scheme, units, officials, facts, declared)


def bundle_of(
    cycle: dict[str, Any],
    scheme: dict[str, Any],
    units: Units,
    officials: Officials,
    facts: Facts,
    declared: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """The cycle bundle of this input (the stored input of a run gives the same bundle)."""
    zone = units.zone.tolist() if len(units.zone) else [""] * len(units.id)
    return {
        "format": FORMAT,
        "version": VERSION,
        "cycle": cycle,
        "scheme": scheme,
        "units": {"id": units.id.tolist(), "category": units.category.tolist(), "zone": zone},
        "officials": {
            "id": officials.id.tolist(),
            "unit": officials.unit.tolist(),
            "layer": officials.layer.tolist(),
            "category": officials.category.tolist(),
        },
        "facts": {
            "indicator_results": _columns(facts.indicator_results),
            "ratings": _columns(facts.ratings),
            "votes": _columns(facts.votes),
            "adjustments": _columns(facts.adjustments),
            "previous": _columns(facts.previous),
            "routine": _columns(facts.routine),
        },
        "declared": _columns(declared if declared is not None else pl.DataFrame(schema=DECLARED_COLUMNS)),
    }


def indicator_names(scheme: dict[str, Any]) -> dict[str, str]:
    """Indicator codes of a scheme dict → their names (for explanations)."""
    return {
        node["code"]: node.get("name", node["code"])
        for category in scheme["categories"]
        for node in category.get("indicators", [])
    }


def frame_parquet(frame: pl.DataFrame) -> bytes:
    """Return ``frame`` as Parquet (zstd), sorted by entity (stable: keeps each entity's row order).

    Small row groups with statistics: a filtered read touches only the groups of the entity.
    """
    buffer = io.BytesIO()
    frame.sort("entity", maintain_order=True).write_parquet(
        buffer, compression="zstd", statistics=True, row_group_size=PARQUET_ROW_GROUP
    )
    return buffer.getvalue()


def run_detail(run: ScoringRun | None, results: Results, scheme_raw: dict[str, Any]) -> RunDetail:
    """Return the (unsaved) ``RunDetail`` of ``run``: the results frames and what explains them
    (``run`` may be set later: the frames are written before the run exists)."""
    # One frame at a time: writing them in parallel saves 0.5 s at province scale but adds 1.3 GiB
    # to the peak RSS (every sorted copy alive at once).
    blobs = {name: frame_parquet(getattr(results, name)) for name in RunDetail.FRAMES}
    return RunDetail(run=run, decisions=_clean(dict(results.decisions)), scheme=scheme_raw, **blobs)


def entity_rows(results: Results, size: int = WRITE_BATCH) -> Iterator[list[Row]]:
    """Yield the ``EntityResult`` field values (``ROW_FIELDS``) ``size`` entities at a time."""
    components = (
        finite(results.components)
        .group_by("entity", maintain_order=True)
        .agg(pl.col("component"), pl.col("score"))
    )
    scores = dict(zip(
        components.get_column("entity").to_list(),
        map(dict, map(zip, components.get_column("component").to_list(),
                      components.get_column("score").to_list())),
        strict=True,
    ))  # fmt: skip
    entities = finite(results.entities).select(
        "entity", "category", "unit", "total", "rank", "grade", *(f"flag_{f}" for f in FLAGS)
    )
    for start in range(0, entities.height, size):
        rows: list[Row] = []
        for entity, category, unit, total, rank, grade, *flags in entities.slice(start, size).iter_rows():
            prefix, pk = engine_io.parse_key(entity)
            official = prefix == "O"
            rows.append((
                ResultSubject.OFFICIAL.value if official else ResultSubject.UNIT.value,
                engine_io.parse_key(unit)[1] if official else pk,
                pk if official else None,
                category,
                total,
                scores.get(entity, {}),
                rank,
                grade or "",
                [name for name, flag in zip(FLAGS, flags, strict=True) if flag],
            ))  # fmt: skip
        yield rows


def entity_frame(results: Results) -> pl.DataFrame:
    """The ``EntityResult`` columns of every entity (``ROW_FIELDS`` with the JSON fields as their
    text, the ids as pks), built column-wise: the values :func:`entity_rows` yields, without a
    Python loop over the 108,000 entities of a province."""
    comps = finite(results.components).select("entity", "component", "score")
    # repr is json.dumps' float text (the stored jsonb keeps its digits): one list comprehension.
    texts = ["null" if x is None else repr(x) for x in comps.get_column("score").to_list()]
    keys = {c: _dumps(c) for c in comps.get_column("component").unique().to_list()}
    objects = (
        comps.with_columns(
            pl.concat_str(
                pl.col("component").replace_strict(keys, return_dtype=pl.String()),
                pl.lit(":"),
                pl.Series("text", texts, dtype=pl.String()),
            ).alias("pair")
        )
        .group_by("entity", maintain_order=True)
        .agg(pl.col("pair").str.join(","))
        .select("entity", pl.concat_str(pl.lit("{"), "pair", pl.lit("}")).alias("components"))
    )
    entities = finite(results.entities).select(
        "entity", "category", "unit", "total", "rank", "grade", *(f"flag_{f}" for f in FLAGS)
    )
    official = pl.col("entity").str.starts_with("O")
    pk = pl.col("entity").str.slice(1).cast(pl.Int64)
    flags = pl.concat_str(
        [pl.when(pl.col(f"flag_{f}").fill_null(False)).then(pl.lit(_dumps(f))) for f in FLAGS],
        separator=",",
        ignore_nulls=True,
    )
    return entities.join(objects, on="entity", how="left", maintain_order="left").select(
        pl.when(official)
        .then(pl.lit(ResultSubject.OFFICIAL.value))
        .otherwise(pl.lit(ResultSubject.UNIT.value))
        .alias("subject"),
        pl.when(official).then(pl.col("unit").str.slice(1).cast(pl.Int64)).otherwise(pk).alias("unit"),
        pl.when(official).then(pk).alias("official"),
        "category",
        "total",
        pl.col("components").fill_null("{}"),
        "rank",
        pl.col("grade").fill_null(""),
        pl.concat_str(pl.lit("["), flags.fill_null(""), pl.lit("]")).alias("flags"),
    )


def write_frame(run: ScoringRun, frame: pl.DataFrame) -> int:
    """Insert :func:`entity_frame`'s rows: one CSV COPY on PostgreSQL, ``bulk_create`` elsewhere."""
    if connection.vendor != "postgresql":
        rows = [(*row[:5], json.loads(row[5]), *row[6:8], json.loads(row[8])) for row in frame.iter_rows()]
        return write_rows(run, iter([rows]))
    meta = EntityResult._meta
    fields = [meta.get_field(f) for f in ("run", *ROW_FIELDS, "stored_explanation")]
    columns = ", ".join(f'"{f.column}"' for f in fields if isinstance(f, Field))
    data = frame.select(
        pl.lit(run.pk).alias("run"), pl.all(), pl.lit("{}").alias("stored_explanation")
    ).write_csv(include_header=False, null_value="\\N")
    connection.ensure_connection()
    sql = f"COPY {meta.db_table} ({columns}) FROM STDIN (FORMAT csv, NULL '\\N')"
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(data)
    return frame.height


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_rows(run: ScoringRun, chunks: Iterator[list[Row]]) -> int:
    """Insert the rows: COPY on PostgreSQL (JSON columns as text), ``bulk_create`` elsewhere."""
    written = 0
    if connection.vendor != "postgresql":
        for rows in chunks:
            EntityResult.objects.bulk_create(
                [EntityResult(run=run, **{f if f not in ("unit", "official") else f"{f}_id": v
                                          for f, v in zip(ROW_FIELDS, row, strict=True)}) for row in rows],
                batch_size=WRITE_BATCH,
            )  # fmt: skip
            written += len(rows)
        return written
    meta = EntityResult._meta
    fields = [meta.get_field(f) for f in ("run", *ROW_FIELDS, "stored_explanation")]
    columns = ", ".join(f'"{f.column}"' for f in fields if isinstance(f, Field))
    connection.ensure_connection()
    sql = f"COPY {meta.db_table} ({columns}) FROM STDIN"
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for rows in chunks:
            for subject, unit, official, category, total, comps, rank, grade, flags in rows:
                copy.write_row((run.pk, subject, unit, official, category, total, _dumps(comps), rank,
                                grade, _dumps(flags), "{}"))  # fmt: skip
            written += len(rows)
    return written


Progress = Callable[[int, str], None]


def _silent(percent: int, stage: str) -> None:
    """The progress callback of a run nobody watches."""


def run_compute(
    *, cycle: Cycle, actor: User | None, note: str = "", progress: Progress = _silent
) -> ScoringRun:
    """Score ``cycle`` from the database and store a new run; earlier runs are never touched.
    Raises CycleLocked (a ValidationError) when the cycle is closed.

    ``progress(percent, stage)`` is called at each stage (a background job shows it). The reads
    and the writes are two transactions with the engine between them, so the stages can be seen
    from outside and a long computation holds no lock; the run records the digest of exactly the
    input it scored.
    """
    assert_cycle_editable(cycle)
    started = time.perf_counter()
    progress(5, _("读取方案与考核数据"))
    with transaction.atomic():
        scheme_raw, units, officials, facts, declared = engine_io.load_run_input(cycle)
    progress(30, _("计算得分与等次"))
    inp = engine_io.cycle_input(scheme_raw, units, officials, facts, declared)
    with ThreadPoolExecutor(max_workers=1) as pool, ThreadPoolExecutor(max_workers=1) as after:
        # Polars, NumPy, hashlib and the Parquet writer release the GIL: the input digest and the
        # packed input (kept with the run so verify can recompute it bit for bit) overlap the engine.
        pending = pool.submit(input_digest, inp, scheme_raw, cycle_meta(cycle))
        pending_pack = pool.submit(
            input_pack,
            cycle=cycle_meta(cycle),
            scheme=scheme_raw,
            units=units,
            officials=officials,
            facts=facts,
            declared=declared,
        )
        del facts
        results = compute(inp)
        progress(60, _("生成结果摘要"))
        # The rows to store and the Parquet frames are written while the results are hashed.
        stored = after.submit(_stored_parts, results, scheme_raw)
        output_digest = results_digest(results)
        in_digest = pending.result()
        packed = pending_pack.result()
        parts = stored.result()
    del inp
    progress(70, _("写入计分结果"))
    with transaction.atomic():
        return _store_run(
            cycle=cycle,
            actor=actor,
            note=note,
            results=results,
            scheme_raw=scheme_raw,
            in_digest=in_digest,
            output_digest=output_digest,
            started=started,
            packed=packed,
            parts=parts,
        )


def _stored_parts(results: Results, scheme_raw: dict[str, Any]) -> tuple[pl.DataFrame, RunDetail]:
    """The ``EntityResult`` rows (:func:`entity_frame`) and the run's unsaved ``RunDetail``."""
    return entity_frame(results), run_detail(None, results, scheme_raw)


def _store_run(
    *,
    cycle: Cycle,
    actor: User | None,
    note: str,
    results: Results,
    scheme_raw: dict[str, Any],
    in_digest: str,
    output_digest: str,
    started: float,
    packed: PackedInput | None = None,
    parts: tuple[pl.DataFrame, RunDetail] | None = None,
) -> ScoringRun:
    # The cycle may have been closed while the engine ran; lock its row so two concurrent runs
    # cannot take the same number either.
    # Lock first, then check: a close that commits in between must be seen.
    Cycle.objects.select_for_update().filter(pk=cycle.pk).first()
    assert_cycle_editable(cycle)
    number = (ScoringRun.objects.filter(cycle=cycle).aggregate(m=Max("number"))["m"] or 0) + 1
    run = ScoringRun.objects.create(
        cycle=cycle,
        number=number,
        engine_version=results.engine_version,
        created_by=actor if actor is not None and actor.pk else None,
        created_by_name=actor.get_username() if actor is not None else "",  # "" = the console
        input_digest=in_digest,
        output_digest=output_digest,
        parameters={
            "score_decimals": results.score_decimals,
            "bundle_format": FORMAT,
            "bundle_version": VERSION,
            "results_version": RESULTS_VERSION,
            "digest": DIGEST_SCHEME,
        },
        note=note,
        entity_count=results.entities.height,
    )
    frame, detail = parts if parts is not None else _stored_parts(results, scheme_raw)
    write_frame(run, frame)
    detail.run = run
    insert_bound(detail)  # 39 MiB of Parquet: bound, not escaped into the SQL
    run.seconds = time.perf_counter() - started
    run.save(update_fields=["seconds"])
    if packed is not None:
        ledger_record_run(run=run, packed=packed)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=run,
        changes={
            "input_digest": run.input_digest,
            "output_digest": run.output_digest,
            "entities": run.entity_count,
        },
    )
    return run


class ComputeRefused(ValidationError):
    """The pre-flight check or the engine refused the cycle; the messages are Chinese."""


def compute_job(*, job: Job, progress: Progress) -> JobOutcome:
    """The scoring job (jobs.services.HANDLERS): pre-flight, then :func:`run_compute`.

    Errors refuse the run (the page checked them before queueing, but the data may have changed
    since); the warnings were acknowledged by whoever started the job."""
    from jixiao.results.preflight import describe_scoring_error, preflight

    assert job.cycle is not None
    cycle = job.cycle
    progress(2, _("计分前检查"))
    errors = [p.message for p in preflight(cycle, engine=False) if p.is_error]
    if errors:
        raise ComputeRefused(errors)
    try:
        run = run_compute(
            cycle=cycle, actor=job.created_by, note=str(job.params.get("note", "")), progress=progress
        )
    except ScoringError as exc:
        raise ComputeRefused(describe_scoring_error(exc, cycle)) from exc
    message = _("第 %(number)d 次计分：%(n)d 个对象，用时 %(s).1f 秒") % {
        "number": run.number,
        "n": run.entity_count,
        "s": run.seconds,
    }
    return JobOutcome(message, reverse("results:ranking") + f"?run={run.pk}")
