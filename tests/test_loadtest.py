"""The load-test runner's own rules (the load test itself is `make load`, not part of the suite)."""

import pytest

from loadtest.run import END, START, database_name, markdown, write_section

STATS = [
    {"name": "board", "requests": 150, "failures": 0, "p50": 170.0, "p95": 400.0, "rps": 2.5},
    {"name": "API: opportunity list", "requests": 152, "failures": 0, "p50": 31.0, "p95": 85.0, "rps": 2.6},
    {"name": "board: move a card", "requests": 111, "failures": 0, "p50": 61.0, "p95": 140.0, "rps": 1.9},
    {"name": "Aggregated", "requests": 445, "failures": 0, "p50": 68.0, "p95": 350.0, "rps": 7.5},
]


def test_it_refuses_a_database_it_could_not_safely_drop():
    assert database_name("postgres://postgres@127.0.0.1:5432/crm_load") == "crm_load"
    for name in ("crm", "test", "crm_bench"):
        with pytest.raises(SystemExit, match="Refusing"):
            database_name(f"postgres://postgres@127.0.0.1:5432/{name}")


def test_the_figures_replace_only_the_load_section_of_benchmarks(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Results\n\nbench figures\n", encoding="utf-8")
    body = markdown(STATS, users=8, duration=60, deals=2000, workers=3)

    write_section(body, path)
    first = path.read_text(encoding="utf-8")
    write_section(body.replace("| 170 |", "| 180 |"), path)
    second = path.read_text(encoding="utf-8")

    assert first.startswith("# Benchmarks\n\n## Results\n\nbench figures\n")
    assert "## Load test" in first and first.count(START) == 1 and first.count(END) == 1
    assert "| board | 150 | 0 | 170 | 400 | 2.5 |" in first
    assert "| board | 150 | 0 | 180 | 400 | 2.5 |" in second and second.count("## Load test") == 1
    assert second.split(START)[0] == first.split(START)[0]


def test_two_instances_are_compared_with_one_as_ratios_in_their_own_section(tmp_path):
    from loadtest.run import NODES_END, NODES_START, comparison_markdown

    faster = [{**row, "p95": row["p95"] / 2, "rps": row["rps"] * 2} for row in STATS]
    body = comparison_markdown({1: STATS, 2: faster}, users=50, duration=60, deals=2000, workers=3)
    assert "| board | 400 | 200 | 0.50 | 2.5 | 5.0 | 0 | 0 |" in body
    assert "| all requests | 350 | 175 | 0.50 |" in body

    path = tmp_path / "BENCHMARKS.md"
    write_section(markdown(STATS, users=8, duration=60, deals=2000, workers=3), path)
    write_section(body, path, markers=(NODES_START, NODES_END), title="## Two", intro="Both.")
    text = path.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(NODES_START) == 1 and "## Two\n\nBoth.\n\n" in text
    assert "| board | 150 | 0 | 170 | 400 | 2.5 |" in text  # the one-instance section is untouched


def test_node_counts_are_one_or_a_few():
    import argparse

    from loadtest.run import node_counts

    assert node_counts("1,2") == [1, 2] and node_counts("2") == [2]
    for bad in ("", "two", "0", "1,99"):
        with pytest.raises(argparse.ArgumentTypeError):
            node_counts(bad)
