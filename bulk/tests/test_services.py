"""Bulk actions change each record through its own service, refuse (with a count and a reason) the
records the caller may not change, and run big jobs in the worker, safely twice."""

import pytest
from django.urls import reverse

from bulk.models import BulkJob
from bulk.services import bulk_job_create, bulk_job_run
from contacts.tests.factories import OrganizationFactory
from core.exceptions import ValidationError
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from opportunities.tests.test_rollups import assert_totals_agree
from pipeline.models import StageChange

pytestmark = pytest.mark.django_db


def test_stage_move_writes_one_history_row_per_deal_and_keeps_totals(manager, rep, other_rep, stages, settings):
    settings.CRM_BULK_INLINE_LIMIT = 5  # 12 deals: the worker (eager here) runs it
    mine = [OpportunityFactory(owner=rep) for _ in range(12)]
    OpportunityFactory(owner=other_rep)  # not visible to the manager: not even counted
    before = StageChange.objects.count()
    job = bulk_job_create(
        user=manager, kind="deal", action="stage", params={"stage": stages["Demo scheduled"].pk}, query=""
    )
    job.refresh_from_db()
    assert job.total == 12
    # The run happens after commit (the worker); pytest's transaction never commits, so run it here.
    bulk_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.changed_count, job.refused_count) == ("done", 12, 0)
    assert StageChange.objects.count() == before + 12
    assert set(Opportunity.objects.filter(pk__in=[d.pk for d in mine]).values_list("stage", flat=True)) == {
        stages["Demo scheduled"].pk
    }
    assert_totals_agree()
    # Running the job again does nothing: it is done.
    assert bulk_job_run(job_id=job.pk) is None
    assert StageChange.objects.count() == before + 12


def test_refuses_what_the_caller_may_not_change_with_a_count(rep, teammate, stages):
    own = [OpportunityFactory(owner=rep) for _ in range(3)]
    theirs = [OpportunityFactory(owner=teammate) for _ in range(2)]  # visible (same team), not editable
    job = bulk_job_create(
        user=rep,
        kind="deal",
        action="stage",
        params={"stage": stages["Demo scheduled"].pk},
        ids=[d.pk for d in own + theirs],
    )
    assert (job.status, job.total, job.changed_count, job.refused_count) == ("done", 5, 3, 2)
    assert list(job.refusals.values()) == [2]
    assert "only its owner and their managers" in next(iter(job.refusals))
    assert Opportunity.objects.filter(pk__in=[d.pk for d in theirs], stage=stages["Demo scheduled"]).count() == 0


def test_lost_stage_needs_one_reason_for_all(manager, rep, stages, lost_reason):
    deals = [OpportunityFactory(owner=rep) for _ in range(3)]
    with pytest.raises(ValidationError) as exc:
        bulk_job_create(
            user=manager, kind="deal", action="stage", params={"stage": stages["Lost"].pk}, ids=[d.pk for d in deals]
        )
    assert "lost_reason" in exc.value.error_dict
    job = bulk_job_create(
        user=manager,
        kind="deal",
        action="stage",
        params={"stage": stages["Lost"].pk, "lost_reason": lost_reason.pk},
        ids=[d.pk for d in deals],
    )
    assert job.changed_count == 3
    assert set(Opportunity.objects.filter(pk__in=[d.pk for d in deals]).values_list("status", "lost_reason")) == {
        ("lost", lost_reason.pk)
    }


def test_owner_change_only_to_assignable_users(manager, rep, teammate, other_rep):
    deals = [OpportunityFactory(owner=rep) for _ in range(2)]
    with pytest.raises(ValidationError) as exc:
        bulk_job_create(
            user=manager, kind="deal", action="owner", params={"owner": other_rep.pk}, ids=[d.pk for d in deals]
        )
    assert "owner" in exc.value.error_dict
    job = bulk_job_create(
        user=manager, kind="deal", action="owner", params={"owner": teammate.pk}, ids=[d.pk for d in deals]
    )
    assert job.changed_count == 2
    assert set(Opportunity.objects.filter(pk__in=[d.pk for d in deals]).values_list("owner", flat=True)) == {
        teammate.pk
    }


def test_set_field_and_bad_value_names_the_field(rep):
    deals = [OpportunityFactory(owner=rep) for _ in range(2)]
    with pytest.raises(ValidationError) as exc:
        bulk_job_create(
            user=rep,
            kind="deal",
            action="field",
            params={"field": "probability", "value": "140"},
            ids=[d.pk for d in deals],
        )
    assert "value" in exc.value.error_dict
    job = bulk_job_create(
        user=rep, kind="deal", action="field", params={"field": "probability", "value": "35"}, ids=[d.pk for d in deals]
    )
    assert job.changed_count == 2
    assert set(Opportunity.objects.filter(pk__in=[d.pk for d in deals]).values_list("probability", flat=True)) == {35}
    again = bulk_job_create(
        user=rep, kind="deal", action="field", params={"field": "probability", "value": "35"}, ids=[d.pk for d in deals]
    )
    assert (again.changed_count, again.unchanged_count) == (0, 2)


def test_archive_organizations_refuses_those_with_deals(rep):
    empty = OrganizationFactory(owner=rep)
    busy = OpportunityFactory(owner=rep).organization
    job = bulk_job_create(user=rep, kind="organization", action="archive", params={}, ids=[empty.pk, busy.pk])
    assert (job.changed_count, job.refused_count) == (1, 1)
    empty.refresh_from_db()
    assert empty.archived_at is not None


def test_a_stalled_job_continues_from_its_cursor(rep, stages):
    deals = [OpportunityFactory(owner=rep) for _ in range(4)]
    job = bulk_job_create(
        user=rep,
        kind="deal",
        action="stage",
        params={"stage": stages["Demo scheduled"].pk},
        ids=[d.pk for d in deals],
        run=False,
    )
    BulkJob.objects.filter(pk=job.pk).update(cursor=2)  # the first two were done by a worker that died
    bulk_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.changed_count) == ("done", 2)
    assert Opportunity.objects.filter(stage=stages["Demo scheduled"]).count() == 2


def test_pages_all_matching_over_the_threshold(
    client, manager, rep, stages, settings, django_capture_on_commit_callbacks
):
    settings.CRM_BULK_INLINE_LIMIT = 2
    for _ in range(3):
        OpportunityFactory(owner=rep, name="Alpha")
    OpportunityFactory(owner=rep, name="Beta")
    client.force_login(manager)
    confirm = client.post(reverse("bulk:confirm", args=["deal"]), {"action": "owner", "all": "1", "query": "q=Alpha"})
    assert confirm.status_code == 200
    assert b"reaches 3 records" in confirm.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("bulk:apply", args=["deal"]),
            {"action": "owner", "all": "1", "query": "q=Alpha", "owner": manager.pk},
        )
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    page = client.get(job.get_absolute_url())
    assert page.status_code == 200
    job.refresh_from_db()
    assert (job.status, job.changed_count) == ("done", 3)
    assert Opportunity.objects.filter(owner=manager).count() == 3


def test_page_bad_input_is_a_message_not_a_500(client, rep):
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("bulk:apply", args=["deal"]), {"action": "field", "ids": [deal.pk], "field": "nope"}, follow=True
    )
    assert response.status_code == 200
    assert b"Choose a field to set." in response.content


def test_export_the_selection(client, rep):
    deals = [OpportunityFactory(owner=rep, name=f"Export {i}") for i in range(3)]
    client.force_login(rep)
    response = client.post(
        reverse("bulk:apply", args=["deal"]), {"action": "export", "ids": [deals[0].pk, deals[2].pk]}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"Export 0" in body and b"Export 2" in body and b"Export 1" not in body


def test_list_shows_the_bulk_bar(client, rep):
    OpportunityFactory(owner=rep)
    client.force_login(rep)
    for name in ("opportunities:list", "contacts:organization_list", "contacts:contact_list"):
        response = client.get(reverse(name))
        assert b'data-testid="bulk-bar"' in response.content or name == "contacts:contact_list"
