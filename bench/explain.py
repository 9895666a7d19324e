"""EXPLAIN (ANALYZE, BUFFERS) of the queries a scenario ran, flagging sequential scans of the deals.

The runner captures the SQL of one run of every scenario; the queries that read deals or their
history are explained here on the same data set. A ``Seq Scan on opportunities_opportunity`` in a
board, list or report query means a page that slows down as the years of deals pile up.
"""

import re

from django.db import connection

DEAL_TABLE = "opportunities_opportunity"
# The deals, their history, and the totals the database keeps of them (read instead of the deals).
HEAVY_TABLES = (DEAL_TABLE, "pipeline_stagechange", "opportunities_stagetotal", "opportunities_closedmonth")
SEQ_SCAN = re.compile(rf"Seq Scan on {DEAL_TABLE}\b")
EXECUTION_TIME = re.compile(r"Execution Time: ([0-9.]+) ms")
# Scenarios whose queries must never scan the whole deal table (the board, list and report).
MUST_USE_INDEXES = re.compile(r"board|list|report|won|lost|funnel|forecast|summary")


def explain(sql: str) -> dict:
    """Run ``EXPLAIN (ANALYZE, BUFFERS)`` of one captured ``sql`` (its parameters already inlined)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    match = EXECUTION_TIME.search(plan)
    return {
        "sql": sql,
        "ms": float(match.group(1)) if match else None,
        "seq_scan": bool(SEQ_SCAN.search(plan)),
        "plan": plan,
    }


def is_heavy(sql: str) -> bool:
    """A read of deals or of their history: what grows with the years."""
    head = sql.lstrip(" \n(").upper()  # a UNION of parenthesised SELECTs (the board's cards) too
    return head.startswith(("SELECT", "WITH")) and any(table in sql for table in HEAVY_TABLES)


def explain_scenario(name: str, queries: list[str]) -> dict:
    """The plans of ``name``'s heavy queries, heaviest first, and whether any scans the deal table."""
    plans = []
    for sql in dict.fromkeys(q for q in queries if is_heavy(q)):  # each distinct query once
        try:
            plans.append(explain(sql))
        except Exception as exc:  # a query that cannot be re-run alone is reported, not fatal
            plans.append({"sql": sql, "ms": None, "seq_scan": False, "plan": f"EXPLAIN failed: {exc}"})
    plans.sort(key=lambda p: -(p["ms"] or 0))
    seq_scan = any(p["seq_scan"] for p in plans)
    return {
        "scenario": name,
        "queries": len(plans),
        "heaviest_ms": plans[0]["ms"] if plans else None,
        "seq_scan": seq_scan,
        "must_use_indexes": bool(MUST_USE_INDEXES.search(name)) and not name.endswith("_raw_baseline"),
        "plans": plans,
    }


def plans_text(reports: list[dict]) -> str:
    """Every plan, readable, for ``bench/results/explain-<size>.txt``."""
    parts = []
    for report in reports:
        for plan in report["plans"]:
            flag = "  <-- Seq Scan on the deal table" if plan["seq_scan"] else ""
            parts.append(f"=== {report['scenario']} ({plan['ms']} ms){flag}\n{plan['sql']}\n\n{plan['plan']}\n")
    return "\n".join(parts)
