"""An import-linter contract type (pyproject.toml, ``lint-imports``): no import circle between the
modules of the project, across apps too.

import-linter's own ``acyclic_siblings`` looks for circles among the children of one package; our
apps are top-level packages with no common parent, so a circle such as ``pipeline.services`` ->
``opportunities.services`` -> ``pipeline.services`` would pass it. This contract squashes every
module to its first ``depth`` name parts (``opportunities.api.views`` -> ``opportunities.api``) and
reports each strongly connected group of two or more (leaving out tests and migrations if told)."""

from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AcyclicModulesContract(Contract):
    type_name = "acyclic_modules"

    depth = fields.IntegerField(minimum=1, default=2)
    # Modules with one of these names in their path are left out (tests share factories freely).
    skip = fields.SetField(subfield=fields.StringField(), required=False)
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)

    def check(self, graph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph, ignore_imports=self.ignore_imports, unmatched_alerting=AlertLevel.ERROR
        )
        depth = self.depth

        def squash(module: str) -> str:
            return ".".join(module.split(".")[:depth])

        skip = set(self.skip or ())

        def skipped(module: str) -> bool:
            return bool(skip.intersection(module.split(".")))

        edges: dict[str, dict[str, tuple[str, str]]] = {}
        for importer in sorted(m for m in graph.modules if not skipped(m)):
            for imported in sorted(m for m in graph.find_modules_directly_imported_by(importer) if not skipped(m)):
                a, b = squash(importer), squash(imported)
                if a != b:
                    edges.setdefault(a, {}).setdefault(b, (importer, imported))
        cycles = _strongly_connected(edges)
        examples = [
            [
                edges[a][b]
                for a in cycle
                for b in cycle
                if b in edges.get(a, {})  # one import for each arrow inside the circle
            ]
            for cycle in cycles
        ]
        return ContractCheck(
            kept=not cycles,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"cycles": cycles, "examples": examples},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle, imports in zip(check.metadata["cycles"], check.metadata["examples"], strict=True):
            output.print_error(f"These modules import each other in a circle: {', '.join(cycle)}")
            for importer, imported in imports:
                output.print_error(f"    {importer} -> {imported}")
            output.new_line()


def _strongly_connected(edges: dict[str, dict]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of two or more modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, {}))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)
