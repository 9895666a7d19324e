"""Migrations that are safe to apply while the previous release keeps serving (upgrades without
downtime), checked in ``make test`` (``manage.py migrations_safety_check``).

During an upgrade the new release's migrations run while the old release's web and worker
processes still serve requests. So a migration must not:

- break the running version: drop or rename a column or table it still reads, or add a NOT NULL
  column without a database default (its INSERTs do not name the column and would fail);
- lock a big table for long: build an index or validate a constraint while writes wait
  (on PostgreSQL use ``AddIndexConcurrently`` in a migration with ``atomic = False``), rewrite a
  table to change a column's type, or scan it to set NOT NULL.

Raw SQL cannot be judged here and is flagged for a person to review. A migration that was reviewed
(a small table, a two-step removal whose first release has shipped) says so with a reason:
``migration_safety = "why it is safe"`` on its ``Migration`` class. Migrations of releases already
out are listed in ``migration_safety_baseline.txt`` (they ran; they are not run again).
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, migrations
from django.db.migrations.loader import MigrationLoader
from django.db.models import ManyToManyField

BASELINE = Path(__file__).with_name("migration_safety_baseline.txt")


@dataclass(frozen=True)
class Problem:
    migration: str  # "app.0003_name"
    operation: str
    reason: str

    def __str__(self) -> str:
        return f"{self.migration}: {self.operation}: {self.reason}"


def baseline() -> set[str]:
    lines = BASELINE.read_text().splitlines() if BASELINE.exists() else []
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def operation_problems(operation, app_label: str, state) -> list[str]:
    """Why ``operation`` (applied on top of ``state``) is unsafe during a rolling upgrade; [] if safe."""
    op = operation
    if isinstance(op, migrations.AddField):
        field = op.field
        if isinstance(field, ManyToManyField) or field.null:
            return []
        if getattr(field, "db_default", None) is not None and field.has_db_default():
            return []
        return [
            f"adds NOT NULL column {op.model_name}.{op.name} without a database default: the running "
            "release's INSERTs fail (use null=True, or db_default=)"
        ]
    if isinstance(op, migrations.RemoveField):
        return [
            f"drops column {op.model_name}.{op.name} that the running release still reads (remove it in two releases)"
        ]
    if isinstance(op, migrations.DeleteModel):
        return [f"drops table {op.name} that the running release may still read (remove it in two releases)"]
    if isinstance(op, migrations.RenameField):
        return [f"renames column {op.model_name}.{op.old_name}: the running release reads the old name"]
    if isinstance(op, migrations.RenameModel | migrations.AlterModelTable):
        return [
            f"renames the table of {getattr(op, 'old_name', None) or op.name}: the running release reads the old name"
        ]
    if isinstance(op, migrations.AlterField):
        old = state.models[app_label, op.model_name_lower].fields.get(op.name)
        new = op.field
        if old is None:
            return []
        reasons = []
        if old.null and not new.null:
            reasons.append(f"sets NOT NULL on {op.model_name}.{op.name}: scans the table under a lock")
        old_field, new_field = old.clone(), new.clone()
        old_field.set_attributes_from_name(op.name)
        new_field.set_attributes_from_name(op.name)
        if old_field.column != new_field.column:
            reasons.append(f"renames column {op.model_name}.{op.name}: the running release reads the old name")
        elif _db_type(old_field) != _db_type(new_field):
            reasons.append(
                f"changes the type of {op.model_name}.{op.name} ({_db_type(old_field)} -> {_db_type(new_field)}): "
                "may rewrite the table under an exclusive lock"
            )
        elif (old.unique, old.db_index) != (new.unique, new.db_index) and (new.unique or new.db_index):
            reasons.append(f"indexes {op.model_name}.{op.name}: builds an index while writes wait")
        return reasons
    if isinstance(op, migrations.AddIndex) and not _is_concurrent(op):
        return [
            f"builds index {op.index.name} while writes to the table wait (use AddIndexConcurrently, atomic = False)"
        ]
    if isinstance(op, migrations.AddConstraint):
        return [f"adds constraint {op.constraint.name}: validates every row (and may build an index) under a lock"]
    if isinstance(op, migrations.AlterUniqueTogether | migrations.AlterIndexTogether) and op.option_value:
        return [f"changes {op.option_name} of {op.name}: builds an index while writes wait"]
    if isinstance(op, migrations.RunSQL):
        return ["runs raw SQL: review its locks and what the running release expects"]
    return []


def _is_concurrent(op) -> bool:
    try:
        from django.contrib.postgres.operations import AddIndexConcurrently
    except ImportError:  # psycopg missing: no PostgreSQL here
        return False
    return isinstance(op, AddIndexConcurrently)


def _db_type(field) -> str | None:
    return field.db_type(connection)


def _model_of(operation) -> str | None:
    for attribute in ("model_name_lower", "name_lower"):
        if hasattr(operation, attribute):
            return getattr(operation, attribute)
    return None


def migration_problems(migration, state, new_models: set | None = None) -> list[Problem]:
    """Problems of one migration, given the project state before it. ``new_models``: tables that
    this upgrade creates (empty, unknown to the running release), where anything goes; the
    migration's own ``CreateModel`` operations are added to it."""
    key = f"{migration.app_label}.{migration.name}"
    new_models = set() if new_models is None else new_models
    if str(getattr(migration, "migration_safety", "") or "").strip():
        return []
    problems = []
    state = state.clone()
    for operation in migration.operations:
        if isinstance(operation, migrations.CreateModel):
            new_models.add((migration.app_label, operation.name_lower))
        elif (migration.app_label, _model_of(operation)) not in new_models:
            for reason in operation_problems(operation, migration.app_label, state):
                problems.append(Problem(key, operation.describe(), reason))
        operation.state_forwards(migration.app_label, state)
    return problems


def project_migrations(loader: MigrationLoader) -> list[tuple[str, str]]:
    """Our apps' migrations (not Django's or third parties'), in dependency order."""
    base = Path(settings.BASE_DIR).resolve()
    ours = []
    for key in loader.graph.leaf_nodes():
        for node in loader.graph.forwards_plan(key):
            if node in ours:
                continue
            module = loader.graph.nodes[node].__module__
            path = Path(__import__(module, fromlist=["_"]).__file__).resolve()
            if base in path.parents and ".venv" not in path.parts:
                ours.append(node)
    return ours


def unsafe_migrations(*, include_baseline: bool = False) -> list[Problem]:
    """Every problem in our migrations that are not in the baseline."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    skip = set() if include_baseline else baseline()
    problems, new_models = [], set()
    for node in project_migrations(loader):
        if f"{node[0]}.{node[1]}" in skip:
            continue
        state = loader.project_state(node, at_end=False)
        problems.extend(migration_problems(loader.graph.nodes[node], state, new_models))
    return problems
