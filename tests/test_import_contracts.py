"""The project's own import-linter contract (crm/import_contracts.py) finds circles across apps,
which import-linter's acyclic_siblings cannot see (our apps have no common parent package)."""

import grimp

from crm.import_contracts import AcyclicModulesContract


def graph_of(*imports):
    graph = grimp.ImportGraph()
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import")
    return graph


def contract(**options):
    return AcyclicModulesContract(name="test", session_options={}, contract_options={"depth": "2", **options})


def test_a_circle_between_two_apps_services_breaks_it():
    graph = graph_of(
        ("pipeline.services", "opportunities.services"),
        ("opportunities.services", "pipeline.services"),
        ("opportunities.services", "opportunities.models"),
    )
    check = contract().check(graph, verbose=False)
    assert not check.kept
    assert check.metadata["cycles"] == [["opportunities.services", "pipeline.services"]]


def test_a_longer_circle_through_submodules_is_found_at_module_level():
    graph = graph_of(
        ("a.services", "b.selectors.deals"),
        ("b.selectors.deals", "c.models"),
        ("c.models", "a.services"),
    )
    check = contract().check(graph, verbose=False)
    assert check.metadata["cycles"] == [["a.services", "b.selectors", "c.models"]]


def test_one_way_imports_keep_it():
    graph = graph_of(("a.views", "a.services"), ("a.services", "b.services"), ("b.services", "b.models"))
    assert contract().check(graph, verbose=False).kept


def test_ignored_imports_and_skipped_modules_are_left_out():
    graph = graph_of(
        ("a.services", "b.services"),
        ("b.services", "a.services"),
        ("a.tests.factories", "b.tests.factories"),
        ("b.tests.factories", "a.tests.factories"),
    )
    kept = AcyclicModulesContract(
        name="test",
        session_options={},
        contract_options={"depth": "2", "skip": ["tests"], "ignore_imports": ["b.services -> a.services"]},
    ).check(graph, verbose=False)
    assert kept.kept, kept.metadata
