"""scripts/backup.sh and scripts/restore.sh: a database with data, dumped, restored into an empty
database, has the same rows in every table; the uploaded files come back; a non-empty target is refused."""

import os
import shutil
import subprocess
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from activities.tests.factories import ActivityFactory
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


def _url(settings_dict, name) -> str:
    user, password = settings_dict["USER"], settings_dict["PASSWORD"]
    credentials = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{credentials}{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{name}"


def _row_counts(url) -> dict[str, int]:
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        tables = sorted(name for (name,) in cursor.fetchall())
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (names from the catalog)
            counts[table] = cursor.fetchone()[0]
    conn.close()
    return counts


@pytest.fixture
def restore_database():
    """An empty database beside the test database (h_<you>_restore), dropped afterwards."""
    settings_dict = connection.settings_dict
    name = settings_dict["NAME"].removeprefix("test_") + "_restore"
    admin = psycopg2.connect(_url(settings_dict, "postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield _url(settings_dict, name)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _run(script, *args, **env):
    return subprocess.run(  # noqa: S603 (our own scripts)
        [shutil.which("bash"), str(ROOT / "scripts" / script), *map(str, args)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_backup_restores_into_an_empty_database_with_every_row(tmp_path, rep, stages, restore_database):
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.fail("pg_dump / pg_restore missing: apt-get install postgresql-client")
    deals = [OpportunityFactory(owner=rep, stage=stages["New"]) for _ in range(5)]
    opportunity_move_stage(opportunity=deals[0], stage=stages["Qualifying"], user=rep)
    ActivityFactory(owner=rep, opportunity=deals[1])
    media = tmp_path / "media"
    (media / "documents").mkdir(parents=True)
    (media / "documents" / "offerta.pdf").write_bytes(b"%PDF-1.4 test")
    source = _url(connection.settings_dict, connection.settings_dict["NAME"])

    backup = _run("backup.sh", tmp_path / "backups", DATABASE_URL=source, MEDIA_ROOT=str(media))
    assert backup.returncode == 0, backup.stderr
    dump = Path(backup.stdout.strip().splitlines()[-1])
    (archive,) = (tmp_path / "backups").glob("media-*.tar.gz")
    assert dump.exists() and oct(dump.stat().st_mode & 0o777) == "0o600"

    restored_media = tmp_path / "restored-media"
    restore = _run("restore.sh", dump, archive, DATABASE_URL=restore_database, MEDIA_ROOT=str(restored_media))
    assert restore.returncode == 0, restore.stderr

    before, after = _row_counts(source), _row_counts(restore_database)
    assert before == after
    assert before["opportunities_opportunity"] == 5 and before["pipeline_stagechange"] >= 1
    assert len(before) > 30  # every table, not a few
    assert (restored_media / "documents" / "offerta.pdf").read_bytes() == b"%PDF-1.4 test"

    again = _run("restore.sh", dump, DATABASE_URL=restore_database)
    assert again.returncode != 0 and "not empty" in again.stderr
    assert _row_counts(restore_database) == after
