"""Benchmark scenarios: one module per feature, each exposing ``scenarios(ctx)``.

A scenario module (``bench/scenarios/<name>.py``) defines::

    def scenarios(ctx: BenchContext) -> list[tuple[str, Callable[[], object]]]:
        ...

Each callable makes one request (or one service call) and asserts that it succeeded; the runner
(``bench/run.py``) warms it up once, counts its SQL queries once and times it ``--repeat`` times.
A scenario named ``X_raw_baseline`` is the hand-written raw SQL + ``json.dumps`` version of ``X``:
the runner reports ``X``'s median as a ratio of it.

A module may also define ``BUDGETS = {"scenario name": max_queries}``; the smoke test checks them.
"""

import importlib
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Scenario = tuple[str, Callable[[], object]]


@dataclass
class BenchContext:
    """What a scenario needs: a logged-in admin client and sample deals of the data set."""

    client: Any  # django.test.Client, logged in as ``user``
    user: Any  # the bench admin, who sees every deal
    pipeline: Any  # the default pipeline
    opportunity_ids: list[int]  # sample open, not archived deals of the default pipeline
    open_stage_ids: list[int] = field(default_factory=list)  # the default pipeline's open stages, in order
    closed_opportunity_ids: list[int] = field(default_factory=list)  # sample won/lost deals
    size: int = 0  # number of deals in the data set
    state: dict = field(default_factory=dict)  # scratch space a scenario may keep between calls


def scenario_modules() -> list[str]:
    """Names of every ``bench/scenarios/*.py`` module, sorted."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


def discover(ctx: BenchContext, only: list[str] | None = None) -> list[tuple[str, str, Callable, int | None]]:
    """Every scenario of every module as ``(module, name, callable, query budget or None)``."""
    found = []
    for module_name in scenario_modules():
        module = importlib.import_module(f"{__name__}.{module_name}")
        budgets = getattr(module, "BUDGETS", {})
        for name, fn in module.scenarios(ctx):
            if only and not any(pattern in name or pattern == module_name for pattern in only):
                continue
            found.append((module_name, name, fn, budgets.get(name)))
    return found


def raw_json(sql: str, params=()) -> str:
    """Run ``sql`` on the default connection and ``json.dumps`` its rows as a list of objects:
    the hand-written baseline an API page is compared with."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [col[0] for col in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return json.dumps(rows, default=str)
