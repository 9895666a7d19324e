"""Time every benchmark scenario on data sets of several sizes, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python -m bench.run --sizes 10000 100000

(``make bench`` does this for 10k, 100k and 1M deals.) For each size the runner generates the data
set with ``bench.generate`` (or reuses it when the database already holds that size), runs
VACUUM ANALYZE, discovers the ``bench/scenarios/*.py`` modules, warms every scenario up once,
counts its SQL queries once, then times ``--repeat`` runs, the scenarios taking turns so that a
noisy neighbour slows all of them alike. Results go to ``bench/results/<date>.json`` and into
``BENCHMARKS.md`` between markers; EXPLAIN plans of the heavy queries to
``bench/results/explain-<size>.txt``.

A size is a number of deals (``100000``: half open, half closed, at most 100,000 open) or an
explicit ``OPEN+CLOSED`` pair (``100000+900000``). The database must be a benchmark one (its name
contains ``bench``): the generator wipes the deals.
"""

import argparse
import datetime
import json
import math
import os
import platform
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
MARKER_TABLE = "bench_dataset"
LIST_PAGE_SIZE = 100
SAMPLE = 50
RESULTS_START, RESULTS_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


# --- sizes and safety ---------------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    """``"100000"`` → half open (at most 100,000), the rest closed; ``"5000+20000"`` → as given."""
    text = text.strip().lower().replace("_", "")
    if "+" in text:
        open_text, closed_text = text.split("+", 1)
        return _count(open_text), _count(closed_text)
    total = _count(text)
    open_deals = min(total // 2, 100_000)
    return open_deals, total - open_deals


def _count(text: str) -> int:
    multiplier = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = int(float(text.rstrip("km")) * multiplier)
    if number < 0:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    return number


def size_label(open_deals: int, closed_deals: int) -> str:
    return f"{open_deals + closed_deals:,} deals ({open_deals:,} open, {closed_deals:,} won/lost)"


def is_bench_database(name: str) -> bool:
    """Only a database meant to be wiped: a benchmark one, or pytest's throwaway test database."""
    return "bench" in name.lower() or name.startswith("test_")


def _require_bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        raise SystemExit("bench.run needs PostgreSQL: set DATABASE_URL=postgres://…/crm_bench")
    name = parsed.path.lstrip("/")
    if "bench" not in name.lower():
        raise SystemExit(
            f"Refusing to run on database {name!r}: the generator wipes every deal. "
            "Use a database whose name contains 'bench' (e.g. crm_bench)."
        )
    return url


def _create_database_if_missing(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    try:
        psycopg2.connect(url).close()
        return
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    admin = psycopg2.connect(parsed._replace(path="/postgres").geturl())
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def configure_environment() -> None:
    """Production-like settings for the timed process: no DEBUG, persistent connections."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.base")
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("DB_CONN_MAX_AGE", "3600")


# --- the data set -------------------------------------------------------------------------------


def dataset_ensure(*, open_deals: int, closed_deals: int, seed: int = 7, vacuum: bool = True, out=sys.stdout):
    """Generate the data set unless the database already holds it; returns seconds spent generating
    (``None`` when reused)."""
    from django.db import connection

    from bench.generate import generate
    from opportunities.models import Opportunity

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (open_deals integer, closed_deals integer, seed integer, "
            "generated_at timestamptz, seconds double precision)"
        )
        cursor.execute(f"SELECT open_deals, closed_deals, seed FROM {MARKER_TABLE}")
        marker = cursor.fetchone()
    if marker == (open_deals, closed_deals, seed) and Opportunity.objects.count() == open_deals + closed_deals:
        out.write(f"Reusing the data set of {size_label(open_deals, closed_deals)}\n")
        return None
    out.write(f"Generating {size_label(open_deals, closed_deals)}…\n")
    out.flush()
    result = generate(open_deals=open_deals, closed_deals=closed_deals, seed=seed, out=out)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MARKER_TABLE}")
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s, %s, now(), %s)",
            [open_deals, closed_deals, seed, result["seconds"]],
        )
        if vacuum:  # COPY leaves the visibility map empty: index-only scans need a VACUUM
            cursor.execute("VACUUM ANALYZE")
    return result["seconds"]


def context_build(*, seed: int = 7):
    """The logged-in admin client and sample deals the scenarios use."""
    from django.test import Client

    from accounts.models import User
    from opportunities.models import Opportunity
    from pipeline.models import Pipeline

    from .scenarios import BenchContext

    user = User.objects.get(username="bench-admin")
    client = Client()
    client.force_login(user)
    pipeline = Pipeline.objects.get(is_default=True)
    open_stage_ids = list(pipeline.stages.filter(kind="open").order_by("order").values_list("id", flat=True))
    deals = Opportunity.objects.filter(pipeline=pipeline, archived_at__isnull=True).order_by("id")
    rng = random.Random(seed)
    open_ids = list(deals.filter(status="open").values_list("id", flat=True)[:2000])
    closed_ids = list(deals.exclude(status="open").values_list("id", flat=True)[:2000])
    return BenchContext(
        client=client,
        user=user,
        pipeline=pipeline,
        opportunity_ids=rng.sample(open_ids, min(SAMPLE, len(open_ids))),
        open_stage_ids=open_stage_ids,
        closed_opportunity_ids=rng.sample(closed_ids, min(SAMPLE, len(closed_ids))),
        size=Opportunity.objects.count(),
    )


# --- timing -------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def run_scenarios(ctx, *, repeat: int, only=None, explain: bool = True, out=sys.stdout) -> dict:
    """Warm up, count queries, time ``repeat`` runs of every discovered scenario, and explain."""
    from django.test.utils import override_settings

    from crm.celery import app as celery_app

    # As in production, side effects are queued for a worker after commit, not delivered inside the
    # timed request (the test settings deliver them eagerly).
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with override_settings(CRM_LIST_PAGE_SIZE=LIST_PAGE_SIZE):
            return _run_scenarios(ctx, repeat=repeat, only=only, explain=explain, out=out)
    finally:
        celery_app.conf.task_always_eager = eager


def _run_scenarios(ctx, *, repeat: int, only, explain: bool, out) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from . import explain as explain_mod
    from .scenarios import discover

    found = discover(ctx, only)
    results: dict[str, dict] = {}
    captured: dict[str, list[str]] = {}
    live = []
    for module, name, fn, budget in found:
        row = {"module": module, "name": name, "budget": budget, "error": None, "times_ms": []}
        results[name] = row
        try:
            fn()  # warm-up: caches, first-connection costs, the move's initial read
            with CaptureQueriesContext(connection) as queries:
                fn()
            row["queries"] = len(queries.captured_queries)
            captured[name] = [q["sql"] for q in queries.captured_queries]
            live.append((name, fn))
        except Exception as exc:  # one broken scenario must not hide the others' figures
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
            out.write(f"  {name}: ERROR {row['error']}\n")

    for _ in range(repeat):  # scenarios take turns: machine noise hits all of them alike
        for name, fn in live:
            if results[name]["error"]:
                continue
            try:
                started = time.perf_counter()
                fn()
                results[name]["times_ms"].append((time.perf_counter() - started) * 1000)
            except Exception as exc:
                results[name]["error"] = f"{type(exc).__name__}: {exc}"[:300]

    for row in results.values():
        times = row.pop("times_ms")
        row["runs"] = len(times)
        row["p50_ms"] = round(percentile(times, 50), 2) if times else None
        row["p95_ms"] = round(percentile(times, 95), 2) if times else None
        row["min_ms"] = round(min(times), 2) if times else None
    for name, row in results.items():
        baseline = results.get(f"{name}_raw_baseline")
        if baseline and row["p50_ms"] and baseline.get("p50_ms"):
            row["ratio"] = round(row["p50_ms"] / baseline["p50_ms"], 2)
    for row in results.values():
        out.write(
            f"  {row['name']:<40} p50 {row['p50_ms']!s:>9} ms  p95 {row['p95_ms']!s:>9} ms  "
            f"queries {row.get('queries', '-')!s:>3}  ratio {row.get('ratio', '')}\n"
        )

    plans = []
    if explain:
        for name, queries in captured.items():
            report = explain_mod.explain_scenario(name, queries)
            plans.append(report)
            results[name]["seq_scan"] = report["seq_scan"]
            results[name]["heaviest_query_ms"] = report["heaviest_ms"]
    return {"scenarios": list(results.values()), "explain": plans}


def run_size(
    *, open_deals: int, closed_deals: int, repeat: int, seed: int = 7, only=None, explain=True, vacuum=True, out=None
):
    """Everything for one data set size: ensure the data, build the context, run the scenarios."""
    out = out or sys.stdout
    generated = dataset_ensure(open_deals=open_deals, closed_deals=closed_deals, seed=seed, vacuum=vacuum, out=out)
    ctx = context_build(seed=seed)
    out.write(f"Running the scenarios on {size_label(open_deals, closed_deals)}, {repeat} repetitions\n")
    out.flush()
    load = os.getloadavg()[0]
    result = run_scenarios(ctx, repeat=repeat, only=only, explain=explain, out=out)
    return {
        "load_average": round((load + os.getloadavg()[0]) / 2, 1),
        "open": open_deals,
        "closed": closed_deals,
        "total": open_deals + closed_deals,
        "generated_seconds": generated,
        "repeat": repeat,
        **result,
    }


# --- reporting ----------------------------------------------------------------------------------


def machine_info() -> dict:
    from django import get_version
    from django.db import connection

    info = {"python": platform.python_version(), "django": get_version(), "platform": platform.platform()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
        model = re.search(r"Model name:\s*(.+)", lscpu)
        info["cpu"] = model.group(1).strip() if model else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    info["cpus"] = os.cpu_count()
    try:
        meminfo = Path("/proc/meminfo").read_text()
        info["ram_gb"] = round(int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) / 1024 / 1024, 1)
    except (OSError, AttributeError):
        info["ram_gb"] = None
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        info["postgresql"] = cursor.fetchone()[0]
        for setting in ("shared_buffers", "work_mem"):
            cursor.execute(f"SHOW {setting}")
            info[setting] = cursor.fetchone()[0]
    return info


def _fmt(value, suffix=""):
    return "–" if value is None else f"{value:,.1f}{suffix}" if isinstance(value, float) else f"{value}{suffix}"


def markdown_block(run: dict, size: dict) -> str:
    """The Markdown section of one size: figures, then the EXPLAIN verdicts."""
    m = run["machine"]
    generated = (
        f"generated in {size['generated_seconds']:.0f} s"
        if size["generated_seconds"] is not None
        else "data set reused"
    )
    lines = [
        f"### {size_label(size['open'], size['closed'])}",
        "",
        f"{run['date']} · `{run['command']}` · {size['repeat']} runs each, {generated} · "
        f"{m.get('cpu')} ({m.get('cpus')} CPUs), {m.get('ram_gb')} GB RAM, PostgreSQL {m.get('postgresql')} · "
        f"load average {size.get('load_average', '?')} while measuring",
        "",
        "| scenario | p50 ms | p95 ms | SQL queries | budget | × raw baseline | seq scan of deals |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in size["scenarios"]:
        if row["error"]:
            lines.append(f"| {row['name']} | error: {row['error'].replace('|', '/')} | | | | | |")
            continue
        seq = {True: "**yes**", False: "no", None: "–"}[row.get("seq_scan")]
        queries = row.get("queries", "–")
        if row.get("budget") is not None and isinstance(queries, int) and queries > row["budget"]:
            queries = f"**{queries}** (over budget)"
        lines.append(
            f"| {row['name']} | {_fmt(row['p50_ms'])} | {_fmt(row['p95_ms'])} | {queries} | "
            f"{_fmt(row.get('budget'))} | {_fmt(row.get('ratio'))} | {seq} |"
        )
    flagged = [p["scenario"] for p in size["explain"] if p["seq_scan"] and p["must_use_indexes"]]
    if size["explain"]:
        lines += [
            "",
            "EXPLAIN (ANALYZE, BUFFERS) of the deal and history queries: "
            + (
                f"**sequential scan of the deal table in {', '.join(flagged)}**."
                if flagged
                else "no board, list or report query scans the deal table."
            ),
        ]
    return "\n".join(lines) + "\n"


def _size_key(block: str) -> int:
    match = re.search(r"### ([\d,]+) deals", block)
    return int(match.group(1).replace(",", "")) if match else 0


def write_markdown(run: dict, path: Path = BENCHMARKS_MD) -> None:
    """Replace the sections of the sizes just measured between the markers of ``path``; sections of
    other sizes (from earlier runs) stay."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{RESULTS_START}\n{RESULTS_END}\n"
    if RESULTS_START not in text:
        text += f"\n{RESULTS_START}\n{RESULTS_END}\n"
    head, rest = text.split(RESULTS_START, 1)
    body, tail = rest.split(RESULTS_END, 1)
    sections = ["### " + b.strip() + "\n" for b in re.split(r"^### ", body, flags=re.M) if b.strip()]
    blocks = {_size_key(section): section for section in sections}
    for size in run["sizes"]:
        blocks[size["total"]] = markdown_block(run, size)
    body = "\n".join(blocks[key] for key in sorted(blocks))
    path.write_text(f"{head}{RESULTS_START}\n{body}{RESULTS_END}{tail}")


def write_results(run: dict, results_dir: Path = RESULTS_DIR) -> Path:
    from . import explain as explain_mod

    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = run["date"].replace(":", "").replace(" ", "T")
    for size in run["sizes"]:
        (results_dir / f"explain-{size['total']}.txt").write_text(explain_mod.plans_text(size["explain"]))
    path = results_dir / f"{stamp}.json"
    path.write_text(json.dumps(run, indent=2, default=str))
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10000", "100000", "100000+900000"], help="data set sizes")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of every scenario")
    parser.add_argument("--only", nargs="*", help="scenario names (or parts of names, or modules) to run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN plans")
    parser.add_argument("--no-markdown", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--markdown", type=Path, default=BENCHMARKS_MD)
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes]

    url = _require_bench_database_url()
    _create_database_if_missing(url)
    configure_environment()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    run = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine_info(),
        "sizes": [],
    }
    for open_deals, closed_deals in sizes:
        run["sizes"].append(
            run_size(
                open_deals=open_deals,
                closed_deals=closed_deals,
                repeat=args.repeat,
                seed=args.seed,
                only=args.only,
                explain=not args.no_explain,
            )
        )
    path = write_results(run)
    print(f"Results: {path.relative_to(ROOT)}")
    if not args.no_markdown:
        write_markdown(run, args.markdown)
        print(f"Updated {args.markdown.name}")


if __name__ == "__main__":
    main()
