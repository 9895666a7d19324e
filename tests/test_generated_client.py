"""An integrator's scenario through a typed client generated from our own OpenAPI schema.

`openapi-python-client` (a dev dependency) turns the schema the running server publishes into a
Python package in a temporary directory, with no hand edits; the test imports it and drives a live
server with it: create a deal, patch it with nulls, move it, lose it with a reason, subscribe a
webhook. Every answer must parse into the model the schema promised (an undeclared status or a
body of another shape fails here, as it would in the integrator's code).
"""

import datetime
import importlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from accounts.tests.factories import UserFactory
from integrations.services import api_token_create

PACKAGE = "crm_client"


@pytest.fixture
def generated_client(live_server, tmp_path):
    """The client package generated from the live server's schema, imported (and forgotten after)."""
    response = httpx.get(
        f"{live_server.url}/api/v1/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}, timeout=30
    )
    assert response.status_code == 200
    schema = response.json()
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    # No post-hooks: the generator's default runs ruff on the output, which is not ours to lint.
    # A zip (the privacy export) is binary content to the generator, as a document download is.
    config = {
        "package_name_override": PACKAGE,
        "post_hooks": [],
        "content_type_overrides": {"application/zip": "application/octet-stream"},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(  # noqa: S603 (our own dev tool, from this virtualenv)
        [
            str(generator),
            "generate",
            "--path",
            "schema.json",
            "--config",
            "config.json",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
            "--fail-on-warning",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _ok(response, status, model):
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(response.parsed, model), response.parsed
    return response.parsed


def test_an_integrators_scenario_through_the_generated_client(generated_client, live_server, stages, lost_reason):
    from crm_client import AuthenticatedClient
    from crm_client.api.opportunities import (
        opportunities_create,
        opportunities_history_list,
        opportunities_list,
        opportunities_move_create,
        opportunities_partial_update,
        opportunities_retrieve,
    )
    from crm_client.api.organizations import organizations_create
    from crm_client.api.quote_lines import quote_lines_create
    from crm_client.api.quotes import quotes_create
    from crm_client.api.reports import reports_won_lost_retrieve
    from crm_client.api.webhooks import webhooks_create
    from crm_client.models import (
        DealStateEnum,
        Error,
        EventsEnum,
        MoveRequest,
        Opportunity,
        OpportunityRequest,
        Organization,
        OrganizationRequest,
        PaginatedOpportunityList,
        PatchedOpportunityRequest,
        Quote,
        QuoteLine,
        QuoteLineRequest,
        QuoteRequest,
        Webhook,
        WebhookRequest,
        WonLostReport,
    )

    user = UserFactory(username="integrator")
    _token, raw = api_token_create(user=user, name="generated client")
    client = AuthenticatedClient(base_url=live_server.url, token=raw, raise_on_unexpected_status=True, timeout=60)

    org = _ok(
        organizations_create.sync_detailed(client=client, body=OrganizationRequest(name="Acme S.r.l.")),
        201,
        Organization,
    )

    # Create with nulls where the schema says nullable: no contact, no close date, the stage's probability.
    created = opportunities_create.sync_detailed(
        client=client,
        body=OpportunityRequest(
            name="Rinnovo licenze",
            organization=org.id,
            contact=None,
            expected_close_date=None,
            probability=None,
            amount="1200.00",
            stage=stages["New"].id,
        ),
        idempotency_key="scenario-create-1",
    )
    deal = _ok(created, 201, Opportunity)
    assert deal.contact is None and deal.contact_name is None and deal.expected_close_date is None
    assert deal.organization_name == "Acme S.r.l." and deal.probability_is_manual is False
    etag = created.headers["ETag"]
    replayed = opportunities_create.sync_detailed(
        client=client,
        body=OpportunityRequest(
            name="Rinnovo licenze",
            organization=org.id,
            contact=None,
            expected_close_date=None,
            probability=None,
            amount="1200.00",
            stage=stages["New"].id,
        ),
        idempotency_key="scenario-create-1",
    )
    assert _ok(replayed, 201, Opportunity).id == deal.id and replayed.headers["Idempotent-Replayed"] == "true"

    # Patch: a hand-set probability and a close date, then back to nulls (the stage's default).
    patched = opportunities_partial_update.sync_detailed(
        deal.id,
        client=client,
        body=PatchedOpportunityRequest(probability=70, expected_close_date=datetime.date(2027, 3, 31)),
        if_match=etag,
    )
    deal = _ok(patched, 200, Opportunity)
    assert deal.probability == 70 and deal.probability_is_manual is True
    stale = opportunities_partial_update.sync_detailed(
        deal.id, client=client, body=PatchedOpportunityRequest(name="x"), if_match=etag
    )
    assert _ok(stale, 412, Error).error.code == "precondition_failed"
    deal = _ok(
        opportunities_partial_update.sync_detailed(
            deal.id,
            client=client,
            body=PatchedOpportunityRequest(probability=None, expected_close_date=None, contact=None),
            if_match=patched.headers["ETag"],
        ),
        200,
        Opportunity,
    )
    assert deal.probability == stages["New"].probability and deal.probability_is_manual is False
    assert deal.expected_close_date is None

    # Move, then lose with a reason.
    deal = _ok(
        opportunities_move_create.sync_detailed(
            deal.id, client=client, body=MoveRequest(stage=stages["Qualifying"].id, version=deal.version)
        ),
        200,
        Opportunity,
    )
    assert deal.stage == stages["Qualifying"].id
    no_reason = opportunities_move_create.sync_detailed(
        deal.id, client=client, body=MoveRequest(stage=stages["Lost"].id)
    )
    assert "lost_reason" in _ok(no_reason, 400, Error).error.fields.additional_properties
    deal = _ok(
        opportunities_move_create.sync_detailed(
            deal.id,
            client=client,
            body=MoveRequest(stage=stages["Lost"].id, lost_reason=lost_reason.id, lost_note="Budget tagliato"),
        ),
        200,
        Opportunity,
    )
    assert deal.status == DealStateEnum.LOST and deal.lost_reason == lost_reason.id and deal.probability == 0
    history = opportunities_history_list.sync_detailed(deal.id, client=client)
    assert [step.to_stage for step in history.parsed] == [stages[s].id for s in ("New", "Qualifying", "Lost")]

    # Lists and reports parse into their typed models; bad filters are typed errors.
    page = _ok(opportunities_list.sync_detailed(client=client, organization=org.id), 200, PaginatedOpportunityList)
    assert [d.id for d in page.results] == [deal.id]
    report = _ok(reports_won_lost_retrieve.sync_detailed(client=client), 200, WonLostReport)
    assert report.total.lost_count == 1
    missing = opportunities_retrieve.sync_detailed(10**12, client=client)
    assert _ok(missing, 404, Error).error.code == "not_found"

    # A quote with a line added through the API.
    quote = _ok(
        quotes_create.sync_detailed(client=client, body=QuoteRequest(organization=org.id, title="Offerta")), 201, Quote
    )
    line = _ok(
        quote_lines_create.sync_detailed(
            client=client, body=QuoteLineRequest(quote=quote.id, description="Canone annuo", unit_price="500.00")
        ),
        201,
        QuoteLine,
    )
    assert line.net_total == "500.00" and line.vat_rate == "22.00"

    # A webhook subscription created without `active` is active.
    hook = _ok(
        webhooks_create.sync_detailed(
            client=client,
            body=WebhookRequest(
                target_url="https://hooks.example.com/crm", secret="s" * 24, events=[EventsEnum.OPPORTUNITY_WON]
            ),
        ),
        201,
        Webhook,
    )
    assert hook.active is True
