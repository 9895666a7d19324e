"""The benchmark generator writes valid data: every constraint holds and the stage policy is kept."""

import io

import pytest
from django.db.models import Count, Q

from bench.generate import generate
from opportunities.models import Opportunity
from pipeline.models import StageChange

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_generate_a_small_valid_data_set(pipeline):
    result = generate(open_deals=300, closed_deals=700, out=io.StringIO())

    assert Opportunity.objects.count() == 1000
    assert Opportunity.objects.filter(status="open").count() == 300
    assert not Opportunity.objects.filter(status="lost", lost_reason__isnull=True).exists()
    assert not Opportunity.objects.filter(~Q(status="open"), closed_at__isnull=True).exists()
    # Every deal's history starts with one entry row and ends in its current stage.
    firsts = StageChange.objects.filter(from_stage=None).values("opportunity").annotate(n=Count("id"))
    assert firsts.count() == 1000 and all(row["n"] == 1 for row in firsts)
    sample = Opportunity.objects.order_by("?")[:20]
    for deal in sample:
        assert deal.stage_changes.order_by("changed_at", "id").last().to_stage_id == deal.stage_id
        assert deal.probability == deal.stage.probability
    assert result["stage_changes"] == StageChange.objects.count()


def test_every_reference_of_the_generated_rows_resolves(pipeline):
    """The generator skips the per-row foreign-key checks for speed: check the references here."""
    from django.db import connection

    generate(open_deals=50, closed_deals=50, out=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid::regclass::text IN ('opportunities_opportunity', 'pipeline_stagechange', "
            "'contacts_contact', 'contacts_organization')"
        )
        for table, definition in cursor.fetchall():
            column = definition.split("(")[1].split(")")[0]
            target, target_column = definition.split("REFERENCES ")[1].split("(")
            target_column = target_column.split(")")[0]
            cursor.execute(
                f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {target} r WHERE r.{target_column} = t.{column})"
            )
            assert cursor.fetchone()[0] == 0, f"{table}.{column} points nowhere"
    assert Opportunity.objects.count() == 100


def test_the_generated_deals_come_with_their_totals_and_lost_from_stage(pipeline):
    """COPY runs with the triggers off: the generator computes the totals and the deals' derived
    columns as the services and the triggers would have."""
    from django.db.models import OuterRef, Subquery

    from opportunities.rollups import ROLLUPS, rollup_differences

    generate(open_deals=60, closed_deals=140, out=io.StringIO())

    for rollup in ROLLUPS:
        assert rollup_differences(rollup) == [], rollup.name
    last_lost = (
        StageChange.objects.filter(opportunity=OuterRef("pk"), to_stage__kind="lost")
        .order_by("-changed_at", "-id")
        .values("from_stage_id")[:1]
    )
    lost = Opportunity.objects.filter(status="lost").annotate(from_history=Subquery(last_lost))
    assert lost.exists()
    assert all(deal.lost_from_stage_id == deal.from_history for deal in lost)
