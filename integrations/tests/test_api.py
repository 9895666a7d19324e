"""The REST API as an integrator uses it: tokens, lists, writes, concurrency, retries, errors."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.models import Organization
from contacts.tests.factories import OrganizationFactory
from integrations.models import ApiToken
from integrations.services import api_token_create
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import StageChange

pytestmark = pytest.mark.django_db


def client_for(user, *, read_only=False):
    _token, raw = api_token_create(user=user, name="test", read_only=read_only)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(rep):
    return client_for(rep)


# --- Authentication ------------------------------------------------------------------------------


def test_a_token_authenticates_and_records_when_it_was_used(rep, stages):
    token, raw = api_token_create(user=rep, name="ERP")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get("/api/v1/opportunities/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert raw.startswith("crm_") and token.key_hash != raw and raw not in token.key_hash


def test_no_token_a_wrong_one_a_revoked_one_or_an_expired_one_is_401(rep):
    assert APIClient().get("/api/v1/opportunities/").status_code in (401, 403)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer crm_nope")
    response = bad.get("/api/v1/opportunities/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"

    token, raw = api_token_create(user=rep, name="old")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert client.get("/api/v1/opportunities/").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None, revoked_at=timezone.now())
    assert client.get("/api/v1/opportunities/").status_code == 401


def test_a_read_only_token_reads_but_cannot_write(rep, stages):
    client = client_for(rep, read_only=True)
    deal = OpportunityFactory(owner=rep, stage=stages["New"])

    assert client.get(f"/api/v1/opportunities/{deal.pk}/").status_code == 200
    response = client.post(f"/api/v1/opportunities/{deal.pk}/move/", {"stage": stages["Qualifying"].pk})
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "This token is read-only."


def test_create_api_token_command_prints_a_working_token(rep, capsys):
    call_command("create_api_token", rep.username, "--name", "ERP sync", "--read-only")

    raw = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(name="ERP sync")
    assert token.read_only and token.user == rep and raw.startswith(token.prefix)


def test_the_token_page_shows_a_new_token_once_and_revokes(client, rep):
    client.force_login(rep)

    page = client.post("/integrations/tokens/", {"name": "Zapier"}).content.decode()
    token = ApiToken.objects.get(name="Zapier")
    assert 'data-testid="new-token"' in page and token.prefix in page
    assert 'data-testid="new-token"' not in client.get("/integrations/tokens/").content.decode()
    client.post(f"/integrations/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


# --- Lists ---------------------------------------------------------------------------------------


def make_deals(owner, stage, n, **kwargs):
    org = OrganizationFactory(owner=owner)
    return Opportunity.objects.bulk_create(
        Opportunity(
            name=f"Bulk {i}",
            organization=org,
            owner=owner,
            pipeline=stage.pipeline,
            stage=stage,
            amount=Decimal(100 + i),
            amount_base=Decimal(100 + i),
            probability=stage.probability,
            **kwargs,
        )
        for i in range(n)
    )


@pytest.mark.parametrize("rows", [5, 150])
def test_the_opportunity_list_query_count_does_not_grow_with_page_size(
    api, rep, stages, rows, django_assert_num_queries
):
    make_deals(rep, stages["New"], rows)
    api.get("/api/v1/stages/")  # the token's first use stamps last_used_at (once a minute at most)

    # token (with its user), the user's managed teams (visibility), count, one page with its joins,
    # the page's tags
    with django_assert_num_queries(5):
        response = api.get("/api/v1/opportunities/", {"page_size": 200})
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/organizations/",
        "/api/v1/contacts/",
        "/api/v1/pipelines/",
        "/api/v1/stages/",
        "/api/v1/lost-reasons/",
        "/api/v1/users/",
        "/api/v1/teams/",
        "/api/v1/opportunity-lines/",
        "/api/v1/webhooks/",
        "/api/v1/products/",
        "/api/v1/quotes/",
        "/api/v1/documents/",
        "/api/v1/activities/",
    ],
)
def test_every_list_answers_with_a_bounded_number_of_queries(api, rep, stages, url, django_assert_max_num_queries):
    make_deals(rep, stages["New"], 30)
    with django_assert_max_num_queries(6):
        response = api.get(url, {"page_size": 200})
    assert response.status_code == 200, response.content


def test_page_size_is_capped_at_200_and_pages_never_overlap(api, rep, stages):
    make_deals(rep, stages["New"], 210)

    first = api.get("/api/v1/opportunities/", {"page_size": 500, "ordering": "amount"}).json()
    assert len(first["results"]) == 200
    second = api.get(first["next"]).json()
    ids = [d["id"] for d in first["results"]] + [d["id"] for d in second["results"]]
    assert len(ids) == len(set(ids)) == 210


def test_opportunity_filters(api, rep, stages, lost_reason):
    low, high = make_deals(rep, stages["New"], 2)
    Opportunity.objects.filter(pk=high.pk).update(amount=Decimal("5000"))
    won = OpportunityFactory(owner=rep, stage=stages["Won"], amount=Decimal("7000"))

    def ids(**params):
        return {d["id"] for d in api.get("/api/v1/opportunities/", params).json()["results"]}

    assert ids(amount_min=1000) == {high.pk, won.pk}
    assert ids(status="won") == {won.pk}
    assert ids(stage=stages["New"].pk, amount_max=1000) == {low.pk}
    assert ids(organization=low.organization_id) == {low.pk, high.pk}
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    assert ids(updated_since=future) == set()


@pytest.mark.parametrize("endpoint", ["opportunities", "organizations", "contacts"])
def test_updated_since_takes_any_offset_and_refuses_implausible_years(api, rep, stages, endpoint):
    from contacts.tests.factories import ContactFactory

    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    ContactFactory(organization=deal.organization)
    url = f"/api/v1/{endpoint}/"
    # -18:12 is valid to Python but out of PostgreSQL's range: found by schemathesis as a 500.
    assert api.get(url, {"updated_since": "2000-06-21T04:26:37-18:12"}).json()["count"] >= 1
    refused = api.get(url, {"updated_since": "0292-06-21T04:26:37.333-18:12"})
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["updated_since"] == ["Enter a date between the years 1900 and 2999."]
    assert deal.pk


def test_a_bad_filter_is_a_400_naming_it(api):
    response = api.get("/api/v1/opportunities/", {"amount_min": "lots"})
    assert response.status_code == 400
    assert "amount_min" in response.json()["error"]["fields"]


def test_nobody_lists_or_reads_another_teams_deals(api, other_rep, stages):
    deal = OpportunityFactory(owner=other_rep, stage=stages["New"])

    assert deal.pk not in [d["id"] for d in api.get("/api/v1/opportunities/").json()["results"]]
    response = api.get(f"/api/v1/opportunities/{deal.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- Writes, ETags and idempotency ---------------------------------------------------------------


def test_create_with_an_idempotency_key_creates_once(api, rep, stages):
    org = OrganizationFactory(owner=rep)
    body = {"name": "Rinnovo licenze", "organization": org.pk, "amount": "1200.00", "stage": stages["Qualifying"].pk}

    first = api.post("/api/v1/opportunities/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    retry = api.post("/api/v1/opportunities/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")

    assert first.status_code == retry.status_code == 201, first.content
    assert first.json() == retry.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Opportunity.objects.filter(name="Rinnovo licenze").count() == 1
    deal = Opportunity.objects.get(name="Rinnovo licenze")
    assert deal.stage == stages["Qualifying"] and deal.stage_changes.count() == 1

    other = api.post("/api/v1/opportunities/", {**body, "amount": "1"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 422


def test_bad_input_is_a_400_naming_each_field_and_nothing_is_saved(api, rep):
    response = api.post("/api/v1/opportunities/", {"name": "", "amount": "abc", "probability": 140}, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"name", "amount", "probability"} <= set(fields)
    assert not Opportunity.objects.exists()


def test_a_deal_without_organization_or_contact_is_a_400_not_a_500(api):
    response = api.post("/api/v1/opportunities/", {"name": "Orphan"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_detail_has_an_etag_and_if_match_guards_writes(api, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    etag = api.get(f"/api/v1/opportunities/{deal.pk}/")["ETag"]
    assert etag == f'"{deal.pk}-1"'

    ok = api.patch(f"/api/v1/opportunities/{deal.pk}/", {"next_step": "Call"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["next_step"] == "Call"
    new_etag = ok["ETag"]

    opp_move = api.post(
        f"/api/v1/opportunities/{deal.pk}/move/", {"stage": stages["Qualifying"].pk}, HTTP_IF_MATCH=new_etag
    )
    assert opp_move.status_code == 200
    stale = api.patch(f"/api/v1/opportunities/{deal.pk}/", {"next_step": "Lost"}, format="json", HTTP_IF_MATCH=new_etag)
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    deal.refresh_from_db()
    assert deal.next_step == "Call"


def test_patching_the_stage_goes_through_the_stage_service(api, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])

    response = api.patch(f"/api/v1/opportunities/{deal.pk}/", {"stage": stages["Demo scheduled"].pk}, format="json")

    assert response.status_code == 200
    assert response.json()["probability"] == 25
    assert StageChange.objects.filter(opportunity=deal).count() == 2


def test_move_needs_a_lost_reason_and_records_history(api, rep, stages, lost_reason):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    url = f"/api/v1/opportunities/{deal.pk}/move/"

    refused = api.post(url, {"stage": stages["Lost"].pk})
    assert refused.status_code == 400
    assert "lost_reason" in refused.json()["error"]["fields"]

    moved = api.post(url, {"stage": stages["Lost"].pk, "lost_reason": lost_reason.pk})
    assert moved.status_code == 200 and moved.json()["status"] == "lost"
    history = api.get(f"/api/v1/opportunities/{deal.pk}/history/").json()
    assert [h["to_stage_name"] for h in history] == ["New", "Lost"]
    assert [h["from_stage_name"] for h in history] == [None, "New"]  # the schema says it may be null


def test_the_schema_says_what_can_be_null():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["components"]["schemas"]["StageChange"]["properties"]["from_stage_name"]["nullable"] is True


def test_a_move_with_a_stale_version_is_a_409(api, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    url = f"/api/v1/opportunities/{deal.pk}/move/"
    assert api.post(url, {"stage": stages["Qualifying"].pk, "version": 1}).status_code == 200

    response = api.post(url, {"stage": stages["Won"].pk, "version": 1})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_a_teammates_deal_is_visible_but_not_writable(api, teammate, stages):
    deal = OpportunityFactory(owner=teammate, stage=stages["New"])

    assert api.get(f"/api/v1/opportunities/{deal.pk}/").status_code == 200
    assert api.patch(f"/api/v1/opportunities/{deal.pk}/", {"name": "x"}, format="json").status_code == 403
    assert api.delete(f"/api/v1/opportunities/{deal.pk}/").status_code == 403


def test_delete_archives(api, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])

    assert api.delete(f"/api/v1/opportunities/{deal.pk}/").status_code == 204
    deal.refresh_from_db()
    assert deal.archived_at is not None


def test_pipeline_summary_equals_the_boards_numbers(api, rep, stages):
    OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal("400.00"), name="Tablets")
    OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal("100.00"), name="Printers")

    rows = api.get(f"/api/v1/pipelines/{stages['New'].pipeline_id}/summary/", {"q": "tab"}).json()

    demo = next(r for r in rows if r["stage"] == stages["Demo scheduled"].pk)
    assert demo == {
        "stage": stages["Demo scheduled"].pk,
        "stage_name": "Demo scheduled",
        "kind": "open",
        "count": 1,
        "amount": "400.00",
        "weighted": "100.00",
        "unconverted": {},
    }


def test_organizations_and_contacts_crud(api, rep):
    created = api.post("/api/v1/organizations/", {"name": "Acme Spa", "city": "Milano"}, format="json")
    assert created.status_code == 201, created.content
    org_id = created.json()["id"]
    bad = api.post("/api/v1/organizations/", {"name": "X", "vat_number": "IT123"}, format="json")
    assert bad.status_code == 400 and "vat_number" in bad.json()["error"]["fields"]

    contact = api.post("/api/v1/contacts/", {"first_name": "Anna", "last_name": "Verdi", "organization": org_id})
    assert contact.status_code == 201
    assert api.patch(f"/api/v1/organizations/{org_id}/", {"city": "Torino"}, format="json").json()["city"] == "Torino"
    assert Organization.objects.get(pk=org_id).owner == rep


def test_throttling_answers_429_with_retry_after(api, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    cache.clear()
    rates = dict(api_settings.DEFAULT_THROTTLE_RATES)
    from integrations.throttling import TokenOrUserRateThrottle

    TokenOrUserRateThrottle.THROTTLE_RATES = {**rates, "user": "3/minute"}
    try:
        codes = [api.get("/api/v1/stages/").status_code for _ in range(4)]
        last = api.get("/api/v1/stages/")
    finally:
        TokenOrUserRateThrottle.THROTTLE_RATES = rates
        cache.clear()
    assert codes[:3] == [200, 200, 200]
    assert last.status_code == 429 and int(last["Retry-After"]) > 0
    assert last.json()["error"]["code"] == "throttled"


def test_the_throttle_counts_per_window_and_opens_again_when_the_window_ends(api, settings, monkeypatch):
    """Three calls a minute: the fourth waits until the minute is over (Retry-After says how long),
    then the next minute has its own three."""
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    from integrations.throttling import TokenOrUserRateThrottle

    clock = {"now": 1_800_000_030.0}  # 30 s into a minute
    monkeypatch.setattr(TokenOrUserRateThrottle, "timer", lambda self: clock["now"])
    rates = dict(api_settings.DEFAULT_THROTTLE_RATES)
    monkeypatch.setattr(TokenOrUserRateThrottle, "THROTTLE_RATES", {**rates, "user": "3/minute"})
    cache.clear()
    try:
        assert [api.get("/api/v1/stages/").status_code for _ in range(3)] == [200, 200, 200]
        refused = api.get("/api/v1/stages/")
        assert refused.status_code == 429 and int(refused["Retry-After"]) == 30
        clock["now"] += 30
        assert api.get("/api/v1/stages/").status_code == 200
    finally:
        cache.clear()


def test_the_schema_validates_and_the_docs_are_served_offline(client, rep):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    client.force_login(rep)
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()
    assert client.get("/api/v1/redoc/").status_code == 200
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
