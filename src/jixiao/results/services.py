"""Running the engine on a cycle and storing an immutable scoring run (M11–M13).

``run_compute`` never builds the JSON bundle: frames from ``engine_io`` (COPY on PostgreSQL) go
straight into the engine; the run's digests are the columnar ones of ``jixiao.scoring.digests``
(the input digest computed in a thread while the engine runs); explanations are built a chunk of
entities at a time and streamed into ``results_entityresult`` (COPY on PostgreSQL). ``jixiao
export-bundle`` writes ``cycle_bundle`` and ``jixiao compute --bundle`` reads it through
``load_bundle``: both give the same typed input, hence the same digests, bit for bit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.db.models import Max

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.results import engine_io
from jixiao.results.models import EntityResult, ResultSubject, ScoringRun
from jixiao.schemes.models import Cycle
from jixiao.scoring.bundle import FORMAT, RESULTS_VERSION, VERSION, _clean
from jixiao.scoring.digests import DIGEST_SCHEME, input_digest, results_digest
from jixiao.scoring.engine import compute
from jixiao.scoring.explain import DETAIL_FRAMES, explain_all_with
from jixiao.scoring.scheme import Scheme
from jixiao.scoring.types import Results

WRITE_BATCH = 5_000
EXPLAIN_CHUNK = 2_000  # entities explained (and written) at a time: bounds the Python objects alive
Row = tuple[str, int, int | None, str, Any, dict[str, Any], Any, str, list[str], dict[str, Any]]
ROW_FIELDS = ("subject", "unit", "official", "category", "total", "components", "rank", "grade", "flags",
              "explanation")  # fmt: skip


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
    scheme, units, officials, facts = engine_io.load_cycle_input(cycle)
    return {
        "format": FORMAT,
        "version": VERSION,
        "cycle": cycle_meta(cycle),
        "scheme": scheme,
        "units": {"id": units.id.tolist(), "category": units.category.tolist()},
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
        },
    }


def _indicator_names(scheme: dict[str, Any]) -> dict[str, str]:
    return {
        node["code"]: node.get("name", node["code"])
        for category in scheme["categories"]
        for node in category.get("indicators", [])
    }


def _chunks(results: Results, size: int) -> Iterator[Results]:
    """Split ``results`` into consecutive runs of ``size`` entities (every frame's rows of them,
    in frame order): an entity's explanation only reads its own rows and its decision."""
    entities = results.entities
    ids = entities.get_column("entity")
    chunk_of = pl.DataFrame(
        {"entity": ids, "_chunk": pl.int_range(ids.len(), dtype=pl.Int64, eager=True) // size}
    )
    parts = {}
    for name in DETAIL_FRAMES:
        frame: pl.DataFrame = getattr(results, name)
        tagged = frame.join(chunk_of, on="entity", how="left", maintain_order="left")
        parts[name] = {
            key[0]: part.drop("_chunk")
            for key, part in tagged.partition_by("_chunk", as_dict=True, maintain_order=True).items()
        }
    for index, start in enumerate(range(0, entities.height, size)):
        yield Results(
            engine_version=results.engine_version,
            score_decimals=results.score_decimals,
            entities=entities.slice(start, size),
            decisions=results.decisions,
            **{name: parts[name].get(index, getattr(results, name).clear()) for name in DETAIL_FRAMES},
        )


def entity_rows(
    results: Results, scheme: Scheme, names: dict[str, str], size: int = EXPLAIN_CHUNK
) -> Iterator[list[Row]]:
    """Yield the ``EntityResult`` field values (``ROW_FIELDS``) a chunk of entities at a time."""
    for part in _chunks(results, size):
        rows: list[Row] = []
        explained = explain_all_with(part, scheme, _clean)  # pauses the cyclic GC itself
        for entity, explanation in explained.items():
            for indicator in explanation["indicators"]:
                # Names are for people; the digest covers the codes they stand for.
                indicator["name"] = names.get(indicator["indicator"], indicator["indicator"])
            prefix, pk = engine_io.parse_key(entity)
            official = prefix == "O"
            rows.append((
                ResultSubject.OFFICIAL.value if official else ResultSubject.UNIT.value,
                engine_io.parse_key(explanation["unit"])[1] if official else pk,
                pk if official else None,
                explanation["category"],
                explanation["total"],
                {c["component"]: c["score"] for c in explanation["components"]},
                explanation["rank"]["rank"],
                explanation["grade"]["label"] or "",
                list(explanation["flags"]),
                explanation,
            ))  # fmt: skip
        yield rows


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
    columns = ", ".join(
        f'"{f}_id"' if f in ("run", "unit", "official") else f'"{f}"' for f in ("run", *ROW_FIELDS)
    )
    connection.ensure_connection()
    sql = f"COPY {meta.db_table} ({columns}) FROM STDIN"
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for rows in chunks:
            for subject, unit, official, category, total, comps, rank, grade, flags, explanation in rows:
                copy.write_row((run.pk, subject, unit, official, category, total, _dumps(comps), rank,
                                grade, _dumps(flags), _dumps(explanation)))  # fmt: skip
            written += len(rows)
    return written


@transaction.atomic
def run_compute(*, cycle: Cycle, actor: User | None, note: str = "") -> ScoringRun:
    """Score ``cycle`` from the database and store a new run; earlier runs are never touched."""
    started = time.perf_counter()
    scheme_raw, units, officials, facts = engine_io.load_cycle_input(cycle)
    inp = engine_io.cycle_input(scheme_raw, units, officials, facts)
    del facts
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Polars, NumPy and hashlib release the GIL: the input digest overlaps the engine.
        pending = pool.submit(input_digest, inp, scheme_raw, cycle_meta(cycle))
        results = compute(inp)
        output_digest = results_digest(results)
        in_digest = pending.result()
    scheme = inp.scheme
    del inp
    # Lock the cycle row so two concurrent runs cannot take the same number.
    Cycle.objects.select_for_update().filter(pk=cycle.pk).first()
    number = (ScoringRun.objects.filter(cycle=cycle).aggregate(m=Max("number"))["m"] or 0) + 1
    run = ScoringRun.objects.create(
        cycle=cycle,
        number=number,
        engine_version=results.engine_version,
        created_by=actor if actor is not None and actor.pk else None,
        created_by_name=actor.get_username() if actor is not None else "cli",
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
    write_rows(run, entity_rows(results, scheme, _indicator_names(scheme_raw)))
    run.seconds = time.perf_counter() - started
    run.save(update_fields=["seconds"])
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
