"""The benchmark suite runs end to end on a tiny data set, so its code cannot rot between the runs
on big ones; and every page's query count stays within its budget whatever the number of deals."""

import io
import json

import pytest

from bench.run import parse_size, percentile, run_size, write_markdown, write_results


@pytest.mark.postgres
@pytest.mark.django_db
def test_smoke_run_writes_figures_plans_and_markdown(pipeline, tmp_path):
    out = io.StringIO()
    size = run_size(open_deals=120, closed_deals=80, repeat=2, vacuum=False, out=out)

    broken = {row["name"]: row["error"] for row in size["scenarios"] if row["error"]}
    assert not broken, broken
    names = {row["name"] for row in size["scenarios"]}
    assert {"deal_list_html", "deal_detail_html", "pipeline_summary", "move_service"} <= names
    for row in size["scenarios"]:
        assert row["runs"] == 2 and row["p50_ms"] > 0 and row["p95_ms"] >= row["p50_ms"]
        assert row["queries"] >= 1
        if row["budget"] is not None:
            assert row["queries"] <= row["budget"], row
        if row["name"].endswith("_raw_baseline"):
            assert "ratio" in next(r for r in size["scenarios"] if r["name"] == row["name"][: -len("_raw_baseline")])
    assert any(report["queries"] >= 1 for report in size["explain"])  # deal queries were explained

    run = {"date": "2026-01-01 00:00 UTC", "command": "pytest", "machine": {"cpu": "test"}, "sizes": [size]}
    path = write_results(run, tmp_path)
    assert json.loads(path.read_text())["sizes"][0]["total"] == 200
    assert "Execution Time" in (tmp_path / "explain-200.txt").read_text()

    markdown = tmp_path / "BENCHMARKS.md"
    markdown.write_text(
        "# Benchmarks\n\nHand-written notes.\n\n<!-- bench:results:start -->\n<!-- bench:results:end -->\n"
    )
    write_markdown(run, markdown)
    write_markdown({**run, "date": "2026-01-02 00:00 UTC"}, markdown)  # a re-run replaces its size's section
    text = markdown.read_text()
    assert "Hand-written notes." in text
    assert text.count("### 200 deals") == 1 and "2026-01-02" in text and "| deal_list_html |" in text


@pytest.mark.postgres
@pytest.mark.django_db
def test_query_counts_do_not_grow_with_the_number_of_deals(pipeline):
    def counts(open_deals, closed_deals):
        size = run_size(
            open_deals=open_deals, closed_deals=closed_deals, repeat=0, explain=False, vacuum=False, out=io.StringIO()
        )
        return {row["name"]: row.get("queries") for row in size["scenarios"]}

    small = counts(30, 20)
    assert all(small.values()), small
    assert counts(300, 200) == small


def test_sizes_and_percentiles():
    assert parse_size("10000") == (5000, 5000)
    assert parse_size("1m") == (100_000, 900_000)
    assert parse_size("100000+900000") == (100_000, 900_000)
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([float(i) for i in range(1, 21)], 95) == 19.0


def test_the_boards_union_and_the_kept_totals_are_explained():
    from bench.explain import is_heavy

    assert is_heavy('(SELECT "id" FROM "opportunities_opportunity" LIMIT 21) UNION ALL (SELECT "id" FROM x)')
    assert is_heavy('SELECT SUM("deals") FROM "opportunities_stagetotal"')
    assert is_heavy('SELECT "month" FROM "opportunities_closedmonth"')
    assert not is_heavy('UPDATE "opportunities_opportunity" SET "position" = 1')
