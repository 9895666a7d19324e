"""The migration safety check (core/migration_safety.py) that `make test` runs: it flags what
would lock a big table or break the release still running, and lets safe changes through."""

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently
from django.core.management import call_command
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

from core.migration_safety import baseline, migration_problems, project_migrations, unsafe_migrations


@pytest.fixture(scope="module")
def state():
    return MigrationLoader(None, ignore_no_migrations=True).project_state()


def check(state, *operations, **attributes):
    migration = type("Migration", (migrations.Migration,), {"operations": list(operations), **attributes})(
        "0999_under_test", "core"
    )
    return [problem.reason for problem in migration_problems(migration, state)]


def test_the_projects_new_migrations_are_safe():
    problems = unsafe_migrations()
    assert problems == [], "\n".join(map(str, problems))


def test_the_baseline_names_only_migrations_that_exist():
    existing = {f"{app}.{name}" for app, name in project_migrations(MigrationLoader(None, ignore_no_migrations=True))}
    assert baseline() <= existing
    assert "core.0001_initial" in baseline()


@pytest.mark.parametrize(
    ("operation", "complaint"),
    [
        (migrations.AddField("outboxevent", "source", models.CharField(max_length=20, default="x")), "NOT NULL column"),
        (migrations.RemoveField("outboxevent", "last_error"), "drops column"),
        (migrations.DeleteModel("outboxevent"), "drops table"),
        (migrations.RenameField("outboxevent", "topic", "kind"), "renames column"),
        (migrations.AlterField("outboxevent", "topic", models.TextField()), "changes the type"),
        (migrations.AlterField("outboxevent", "last_error", models.TextField(null=False, db_column="err")), "renames"),
        (migrations.AlterField("outboxevent", "delivered_at", models.DateTimeField()), "sets NOT NULL"),
        (migrations.AddIndex("outboxevent", models.Index(fields=["topic"], name="outbox_topic_idx")), "builds index"),
        (
            migrations.AddConstraint(
                "outboxevent", models.CheckConstraint(condition=models.Q(attempts__lt=100), name="outbox_few_attempts")
            ),
            "validates every row",
        ),
        (migrations.RunSQL("UPDATE core_outboxevent SET attempts = 0"), "raw SQL"),
    ],
)
def test_unsafe_operations_are_flagged(state, operation, complaint):
    (reason,) = check(state, operation)
    assert complaint in reason


@pytest.mark.parametrize(
    "operation",
    [
        migrations.AddField("outboxevent", "source", models.CharField(max_length=20, null=True)),
        migrations.AddField("outboxevent", "source", models.CharField(max_length=20, db_default="web")),
        migrations.AlterField("outboxevent", "topic", models.CharField("kind of event", max_length=100, help_text="x")),
        migrations.AlterField("outboxevent", "delivered_at", models.DateTimeField(null=True, blank=True)),
        AddIndexConcurrently("outboxevent", models.Index(fields=["topic"], name="outbox_topic_idx")),
        migrations.RunPython(migrations.RunPython.noop),
    ],
)
def test_safe_operations_pass(state, operation):
    assert check(state, operation) == []


def test_a_new_table_may_be_built_freely_and_a_reviewed_migration_says_why(state):
    created = migrations.CreateModel("Probe", [("id", models.BigAutoField(primary_key=True))])
    indexed = migrations.AddIndex("probe", models.Index(fields=["id"], name="probe_id_idx"))
    assert check(state, created, indexed) == []
    removal = migrations.RemoveField("outboxevent", "last_error")
    assert check(state, removal, migration_safety="the release before stopped reading it") == []
    assert check(state, removal, migration_safety="  ") != []


def test_the_command_fails_on_an_unsafe_migration(monkeypatch):
    from django.core.management.base import CommandError

    from core import migration_safety

    call_command("migrations_safety_check")  # the project as it is: passes
    monkeypatch.setattr(migration_safety, "baseline", lambda: set())  # as if nothing was released yet
    monkeypatch.setattr(
        migration_safety,
        "project_migrations",
        lambda loader: [("opportunities", "0009_deal_totals_triggers")],  # a migration with raw SQL
    )
    with pytest.raises(CommandError, match="1 unsafe migration operation"):
        call_command("migrations_safety_check")
