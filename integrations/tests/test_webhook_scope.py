"""Who a webhook tells what: only records its owner may see (at fan-out and again at sending), only
events after it was subscribed, never through a redirect, and only to the address that was checked.

Receivers are real HTTP servers on 127.0.0.1; writes go through the API as a user would make them; the
outbox is drained and the deliveries sent by the same tasks the worker runs."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from contacts.tests.factories import OrganizationFactory
from core.models import OutboxEvent
from core.outbox import event_emit
from core.tasks import outbox_dispatch
from integrations.models import WebhookDelivery
from integrations.tasks import webhook_deliveries_send
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
SECRET = "s3cret-shared-with-the-receiver"


class Receiver:
    """A real HTTP server in a thread that records every request. ``answer`` is what it replies:
    ``(status, headers, body)``."""

    def __init__(self, answer=(204, {}, b"")):
        self.received = []
        self.answer = answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append({"path": self.path, "headers": self.headers, "body": body})
                status, headers, reply = receiver.answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self):
        return [json.loads(r["body"]) for r in self.received if r["body"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receivers listen on 127.0.0.1
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def api_as(user):
    """An API client for ``user`` as a new request would load them (their teams read afresh)."""
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def subscribe(user, url, events):
    response = api_as(user).post(
        "/api/v1/webhooks/", {"target_url": url, "secret": SECRET, "events": events}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def drain():
    """What the worker does: deliver the outbox (the fan-out), then send the due deliveries."""
    outbox_dispatch()
    webhook_deliveries_send()


def delivery_log(user, hook_id):
    response = api_as(user).get(f"/api/v1/webhooks/{hook_id}/deliveries/")
    assert response.status_code == 200
    return response.json()["results"]


# --- Finding 1: a subscription only hears about records its owner may see -------------------------


def test_another_teams_subscriber_hears_nothing_of_nord_writes(receivers, rep, teammate, other_rep, stages):
    sud, nord = receivers(), receivers()
    events = ["opportunity.updated", "organization.created"]
    sud_hook = subscribe(other_rep, sud.url, events)
    nord_hook = subscribe(teammate, nord.url, events)
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Rinnovo Segreto")

    nord_api = api_as(rep)
    assert nord_api.patch(f"/api/v1/opportunities/{deal.pk}/", {"amount": "98765.00"}, format="json").status_code == 200
    assert nord_api.post("/api/v1/organizations/", {"name": "Nordica Srl"}, format="json").status_code == 201
    drain()

    assert sud.received == []
    assert delivery_log(other_rep, sud_hook) == []
    assert not WebhookDelivery.objects.filter(subscription_id=sud_hook).exists()
    got = {b["event"]: b["data"] for b in nord.bodies()}
    assert got["opportunity.updated"]["opportunity"]["name"] == "Rinnovo Segreto"
    assert got["organization.created"]["organization"]["name"] == "Nordica Srl"
    assert [d["status"] for d in delivery_log(teammate, nord_hook)] == ["delivered", "delivered"]


def test_visibility_lost_between_fan_out_and_sending_means_not_sent(receivers, rep, teammate, other_team, stages):
    nord = receivers()
    hook = subscribe(teammate, nord.url, ["opportunity.updated"])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    response = api_as(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"name": "Ora Segreto"}, format="json")
    assert response.status_code == 200
    outbox_dispatch()  # fanned out while the teammate could see the deal
    assert WebhookDelivery.objects.filter(subscription_id=hook, status="pending").count() == 1

    teammate.team = other_team  # moved to another team before the worker sends
    teammate.save()
    webhook_deliveries_send()

    assert nord.received == []
    delivery = WebhookDelivery.objects.get(subscription_id=hook)
    assert delivery.status == "skipped" and delivery.attempts == 0 and delivery.payload == {}
    assert delivery_log(teammate, hook) == []


def test_the_log_hides_deliveries_about_records_no_longer_visible(receivers, rep, teammate, other_team, stages):
    nord = receivers()
    hook = subscribe(teammate, nord.url, ["opportunity.updated"])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    api_as(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"name": "Ieri visibile"}, format="json")
    drain()
    assert len(delivery_log(teammate, hook)) == 1

    teammate.team = other_team
    teammate.save()

    assert delivery_log(teammate, hook) == []


def test_an_inactive_owner_receives_nothing(receivers, rep, teammate, stages):
    nord = receivers()
    subscribe(teammate, nord.url, ["opportunity.updated"])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    teammate.is_active = False
    teammate.save()
    api_as(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"name": "Per nessuno"}, format="json")
    drain()

    assert nord.received == []
    assert not WebhookDelivery.objects.exists()


def test_an_event_that_names_no_record_is_delivered_to_nobody(receivers, crm_admin):
    admin_receiver = receivers()
    subscribe(crm_admin, admin_receiver.url, ["opportunity.updated", "contact.created"])
    event_emit("opportunity.updated", {"opportunity": {"name": "senza id"}})
    event_emit("contact.created", {"person": {"id": 1}})
    drain()

    assert admin_receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_an_organization_seen_through_a_deal_is_heard_about(receivers, rep, other_rep, stages):
    """The same rule as the pages: Sud sees a Nord-owned company it does business with."""
    sud = receivers()
    org = OrganizationFactory(owner=rep, name="Cliente Comune")
    OpportunityFactory(owner=other_rep, organization=org, stage=stages["New"])
    subscribe(other_rep, sud.url, ["organization.updated"])
    api_as(rep).patch(f"/api/v1/organizations/{org.pk}/", {"city": "Bari"}, format="json")
    drain()

    assert [b["data"]["organization"]["name"] for b in sud.bodies()] == ["Cliente Comune"]


# --- Finding 13: only events after the subscription; no backlog after seeding ---------------------


def test_a_new_subscription_gets_nothing_of_earlier_events(receivers, rep, teammate, stages):
    nord = receivers()
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Storico")
    api_as(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"name": "Storico 2"}, format="json")
    # Not drained yet: the worker is behind (or the broker was down) when the teammate subscribes.
    subscribe(teammate, nord.url, ["opportunity.created", "opportunity.updated"])
    drain()
    assert nord.received == []

    api_as(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"name": "Nuovo"}, format="json")
    drain()
    assert [b["data"]["opportunity"]["name"] for b in nord.bodies()] == ["Nuovo"]


def test_seed_demo_leaves_no_pending_outbox_event(db):
    call_command("seed_demo", deals=12, stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert OutboxEvent.objects.exists()
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()


# --- Finding 6: no redirects, short excerpts, the checked address --------------------------------


def test_a_redirect_is_a_failed_attempt_and_not_followed(receivers, rep, stages):
    inside = receivers(answer=(200, {}, b"INTERNAL-METADATA-SECRET"))
    redirecting = receivers(answer=(302, {"Location": inside.url}, b"REDIRECT-BODY-SECRET"))
    hook = subscribe(rep, redirecting.url, ["opportunity.created"])
    OpportunityFactory(owner=rep, stage=stages["New"])
    drain()

    assert len(redirecting.received) == 1
    assert inside.received == []
    [entry] = delivery_log(rep, hook)
    assert entry["status"] == "pending" and entry["attempts"] == 1 and entry["response_status"] == 302
    assert entry["response_body"] == ""
    assert "SECRET" not in json.dumps(entry) and "redirect" in entry["error"]


def test_the_log_keeps_only_a_short_printable_excerpt(receivers, rep, stages):
    noisy = receivers(answer=(500, {}, b"\x1b[31mbroken\x00\n" + b"x" * 5000))
    hook = subscribe(rep, noisy.url, ["opportunity.created"])
    OpportunityFactory(owner=rep, stage=stages["New"])
    drain()

    [entry] = delivery_log(rep, hook)
    assert entry["response_status"] == 500
    assert len(entry["response_body"]) <= 200 and entry["response_body"].isprintable()
    assert entry["response_body"].startswith("[31mbroken")


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_connected(settings, rep, stages, monkeypatch):
    """DNS rebinding: the first answer is public (the check passes), a second lookup would say
    127.0.0.1. Only the first answer is used, for the check and for the connection."""
    webhook_hook = api_as(rep).post(
        "/api/v1/webhooks/",
        {"target_url": "http://hooks.example.com:8080/in", "secret": SECRET, "events": ["opportunity.created"]},
        format="json",
    )
    assert webhook_hook.status_code == 201
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    lookups, connected = [], []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    def create_connection(address, *args, **kwargs):
        connected.append(address)
        raise OSError("no network in tests")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    OpportunityFactory(owner=rep, stage=stages["New"])
    drain()

    assert lookups == ["hooks.example.com"]
    assert connected == [("93.184.216.34", 8080)]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "no network" in delivery.error


def test_the_host_name_is_sent_to_the_pinned_address(receivers, rep, stages, monkeypatch):
    receiver = receivers()
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        return real_getaddrinfo("127.0.0.1" if host == "hooks.example.com" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    subscribe(rep, f"http://hooks.example.com:{receiver.port}/in?x=1", ["opportunity.created"])
    OpportunityFactory(owner=rep, stage=stages["New"])
    drain()

    [request] = receiver.received
    assert request["headers"]["Host"] == f"hooks.example.com:{receiver.port}"
    assert request["path"] == "/in?x=1"
    assert WebhookDelivery.objects.get().status == "delivered"


def test_the_delivery_log_costs_the_same_queries_whatever_its_length(
    receivers, rep, teammate, stages, django_assert_num_queries
):
    nord = receivers()
    hook = subscribe(teammate, nord.url, ["opportunity.created"])
    url = f"/api/v1/webhooks/{hook}/deliveries/"
    OpportunityFactory(owner=rep, stage=stages["New"])
    drain()
    # the subscription, the reader's teams, the page's count and the page (the user is authenticated
    # by the test client: no session query)
    client = api_as(teammate)
    with django_assert_num_queries(4):
        assert len(client.get(url).json()["results"]) == 1
    for _ in range(5):
        OpportunityFactory(owner=rep, stage=stages["New"])
    drain()
    client = api_as(teammate)
    with django_assert_num_queries(4):
        assert len(client.get(url).json()["results"]) == 6
