"""Automation rules (issue 18): every trigger, condition and action; once per event; no loops; a
failing rule leaves the others alone; the rules run from the outbox, never in the move's request."""

import datetime
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity
from activities.services import activity_create
from automations.models import ActionKind, Recipient, Rule, RuleAction, RuleRun, RunStatus, Trigger
from automations.services import MAX_DEPTH, rule_save, rules_on_event, rules_time_based
from contacts.tests.factories import ContactFactory
from core.exceptions import ValidationError
from core.models import OutboxEvent
from core.outbox import outbox_deliver_pending
from customfields.models import CustomField
from mail.models import EmailMessage
from notifications.models import Notification
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage, opportunity_update
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def make_rule(author, *, actions=(), team=None, **fields):
    """A rule saved through the service (so it is checked as the pages check it)."""
    fields.setdefault("name", "Regola")
    fields.setdefault("enabled", True)
    team = team if team is not None else author.team
    return rule_save(user=author, team=team, actions=[RuleAction(**a) for a in actions], **fields)


def task(subject="Prepare the demo", **extra):
    return {"kind": ActionKind.CREATE_ACTIVITY, "text": subject, "activity_kind": "task", "due_days": 2, **extra}


def tasks_of(deal):
    return list(Activity.objects.filter(opportunity=deal).values_list("subject", flat=True))


@pytest.fixture
def receiver(settings):
    """A real HTTP server in a thread answering ``receiver.status`` (204 by default)."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(server.status)
            self.end_headers()
            self.wfile.write(b"receiver says no" if server.status >= 400 else b"")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.status = 204
    server.received = received
    server.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --- triggers --------------------------------------------------------------------------------------


def test_entering_a_stage_creates_the_task_due_in_two_days_for_the_owner(manager, rep, stages):
    make_rule(manager, trigger=Trigger.STAGE_ENTERED, trigger_stage=stages["Demo scheduled"], actions=[task()])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_move_stage(opportunity=deal, stage=stages["Qualifying"], user=rep)
    outbox_deliver_pending()
    assert tasks_of(deal) == []  # another stage: nothing

    before = timezone.now()
    opportunity_move_stage(opportunity=deal, stage=stages["Demo scheduled"], user=rep)
    assert tasks_of(deal) == []  # not in the request's transaction: after the commit, from the outbox
    outbox_deliver_pending()
    activity = Activity.objects.get(opportunity=deal)
    assert activity.subject == "Prepare the demo" and activity.owner == rep and activity.kind == "task"
    assert datetime.timedelta(days=2) <= activity.due_at - before < datetime.timedelta(days=2, minutes=1)
    run = RuleRun.objects.get()
    assert run.status == RunStatus.DONE and run.opportunity == deal and "Prepare the demo" in run.result


def test_a_created_deal_fires_the_creation_rule(manager, rep, stages):
    make_rule(manager, trigger=Trigger.CREATED, actions=[task("Call the new lead")])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    assert tasks_of(deal) == ["Call the new lead"]


def test_won_creates_the_kick_off_call(manager, rep, stages):
    make_rule(manager, trigger=Trigger.WON, actions=[task("Kick-off call", activity_kind="call")])
    deal = OpportunityFactory(owner=rep, stage=stages["Pending commitment"])
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)
    outbox_deliver_pending()
    assert Activity.objects.get(opportunity=deal).kind == "call"


def test_lost_for_price_notifies_the_manager_and_other_reasons_do_not(manager, rep, stages, lost_reason):
    from pipeline.models import LostReason

    make_rule(
        manager,
        trigger=Trigger.LOST,
        trigger_lost_reason=lost_reason,
        actions=[{"kind": ActionKind.NOTIFY, "text": "Lost on price", "recipient": Recipient.MANAGER}],
    )
    other_reason = LostReason.objects.exclude(pk=lost_reason.pk).first()
    cheap = OpportunityFactory(owner=rep, stage=stages["New"], name="Troppo caro")
    elsewhere = OpportunityFactory(owner=rep, stage=stages["New"], name="Altrove")
    opportunity_move_stage(opportunity=cheap, stage=stages["Lost"], user=rep, lost_reason=lost_reason)
    opportunity_move_stage(opportunity=elsewhere, stage=stages["Lost"], user=rep, lost_reason=other_reason)
    outbox_deliver_pending()
    told = Notification.objects.get(user=manager, kind="rule")
    assert told.text == "Lost on price: Troppo caro" and told.url == cheap.get_absolute_url()


def test_a_field_change_fires_only_for_that_field(manager, rep, teammate, stages):
    make_rule(manager, trigger=Trigger.FIELD_CHANGED, trigger_field="owner", actions=[task("Introduce yourself")])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_update(opportunity=deal, user=manager, data={"next_step": "Chiamare"})
    outbox_deliver_pending()
    assert tasks_of(deal) == []
    opportunity_update(opportunity=deal, user=manager, data={"owner": teammate})
    outbox_deliver_pending()
    assert Activity.objects.get(opportunity=deal).owner == teammate


def test_rotten_fires_once_per_rotting_episode_in_one_query_per_rule(manager, rep, stages, django_assert_num_queries):
    rule = make_rule(manager, trigger=Trigger.ROTTEN, actions=[task("Wake it up")])
    Rule.objects.filter(pk=rule.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    fresh = OpportunityFactory(owner=rep, stage=stages["New"])
    rotten = OpportunityFactory(owner=rep, stage=stages["New"])
    now = timezone.now()
    Opportunity.objects.filter(pk=rotten.pk).update(rots_at=now - datetime.timedelta(hours=1))
    Opportunity.objects.filter(pk=fresh.pk).update(rots_at=now + datetime.timedelta(days=3))

    assert rules_time_based(now=now) == 1
    assert tasks_of(rotten) == ["Wake it up"] and tasks_of(fresh) == []
    # Nothing new: the rule costs one query (plus the rules' own two), whatever the deals.
    with django_assert_num_queries(3):
        assert rules_time_based(now=now) == 0
    # A new episode (an activity done, rotten again later) fires again.
    Opportunity.objects.filter(pk=rotten.pk).update(rots_at=now + datetime.timedelta(minutes=30))
    assert rules_time_based(now=now + datetime.timedelta(hours=1)) == 1
    assert tasks_of(rotten) == ["Wake it up", "Wake it up"]


def test_an_overdue_activity_fires_once(manager, rep, stages):
    rule = make_rule(
        manager,
        trigger=Trigger.ACTIVITY_OVERDUE,
        actions=[{"kind": ActionKind.NOTIFY, "text": "Overdue", "recipient": Recipient.MANAGER}],
    )
    Rule.objects.filter(pk=rule.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    activity_create(user=rep, subject="Chiamata", opportunity=deal, due_at=timezone.now() + datetime.timedelta(hours=1))
    later = timezone.now() + datetime.timedelta(hours=2)
    assert rules_time_based(now=later) == 1
    assert rules_time_based(now=later) == 0
    assert Notification.objects.filter(user=manager, kind="rule").count() == 1


# --- conditions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ({"amount_min": Decimal("500")}, True),
        ({"amount_min": Decimal("5000")}, False),
        ({"amount_max": Decimal("500")}, False),
        ({"amount_max": Decimal("5000")}, True),
        ({"type": "new_business"}, True),
        ({"type": "existing_business"}, False),
        ({"lead_source": "referral"}, True),
        ({"lead_source": "website"}, False),
        ({"custom_field": "settore", "custom_value": "sanità"}, True),
        ({"custom_field": "settore", "custom_value": "edilizia"}, False),
    ],
)
def test_each_condition_on_the_deal(manager, rep, stages, condition, matches):
    CustomField.objects.create(entity="deal", key="settore", label_it="Settore", label_en="Sector", type="text")
    make_rule(manager, trigger=Trigger.WON, actions=[task("Go")], **condition)
    deal = OpportunityFactory(
        owner=rep,
        stage=stages["New"],
        amount=Decimal("1000"),
        type="new_business",
        lead_source="referral",
        custom_fields={"settore": "sanità"},
    )
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)
    outbox_deliver_pending()
    assert (tasks_of(deal) == ["Go"]) is matches


def test_pipeline_stage_owner_and_team_conditions(crm_admin, manager, rep, teammate, other_rep, stages, classic_stages):
    won = Trigger.WON
    make_rule(crm_admin, team=None, name="pipeline", trigger=won, pipeline=stages["New"].pipeline, actions=[task("P")])
    make_rule(crm_admin, team=None, name="owner", trigger=won, owner=teammate, actions=[task("O")])
    make_rule(crm_admin, team=None, name="team", trigger=won, owner_team=other_rep.team, actions=[task("T")])
    make_rule(
        crm_admin, team=None, name="stage", trigger=Trigger.CREATED, stage=stages["Qualifying"], actions=[task("S")]
    )
    mine = OpportunityFactory(owner=rep, stage=stages["New"])
    classic = OpportunityFactory(owner=teammate, stage=classic_stages["Prospecting"])
    theirs = OpportunityFactory(owner=other_rep, stage=classic_stages["Prospecting"])
    qualifying = OpportunityFactory(owner=rep, stage=stages["Qualifying"])
    opportunity_move_stage(opportunity=mine, stage=stages["Won"], user=rep)
    opportunity_move_stage(opportunity=classic, stage=classic_stages["Closed won"], user=teammate)
    opportunity_move_stage(opportunity=theirs, stage=classic_stages["Closed won"], user=other_rep)
    outbox_deliver_pending()
    assert tasks_of(mine) == ["P"]
    assert tasks_of(classic) == ["O"]
    assert tasks_of(theirs) == ["T"]
    assert tasks_of(qualifying) == ["S"]


def test_a_managers_rule_never_touches_another_teams_deals(manager, rep, other_rep, stages):
    make_rule(manager, trigger=Trigger.CREATED, actions=[task("Only Nord")])
    ours = OpportunityFactory(owner=rep, stage=stages["New"])
    theirs = OpportunityFactory(owner=other_rep, stage=stages["New"])
    outbox_deliver_pending()
    assert tasks_of(ours) == ["Only Nord"] and tasks_of(theirs) == []


# --- actions ---------------------------------------------------------------------------------------


def test_a_task_for_a_named_user_and_a_notification_to_a_named_user(manager, rep, teammate, stages):
    make_rule(
        manager,
        trigger=Trigger.CREATED,
        actions=[
            task("Help out", recipient=Recipient.USER, user=teammate),
            {"kind": ActionKind.NOTIFY, "text": "New deal", "recipient": Recipient.USER, "user": teammate},
            {"kind": ActionKind.NOTIFY, "text": "Yours", "recipient": Recipient.OWNER},
        ],
    )
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    assert Activity.objects.get(opportunity=deal).owner == teammate
    assert Notification.objects.get(user=teammate).text == f"New deal: {deal.name}"
    assert Notification.objects.get(user=rep).text == f"Yours: {deal.name}"


def test_set_fields_owner_probability_next_step_and_custom(manager, rep, teammate, stages):
    CustomField.objects.create(entity="deal", key="priorita", label_it="Priorità", label_en="Priority", type="text")
    make_rule(
        manager,
        trigger=Trigger.STAGE_ENTERED,
        trigger_stage=stages["Demo scheduled"],
        actions=[
            {"kind": ActionKind.SET_FIELD, "field": "owner", "user": teammate},
            {"kind": ActionKind.SET_FIELD, "field": "probability", "value": "40"},
            {"kind": ActionKind.SET_FIELD, "field": "next_step", "value": "Preparare la demo"},
            {"kind": ActionKind.SET_FIELD, "field": "custom:priorita", "value": "alta"},
        ],
    )
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_move_stage(opportunity=deal, stage=stages["Demo scheduled"], user=rep)
    outbox_deliver_pending()
    deal.refresh_from_db()
    assert deal.owner == teammate and deal.probability == 40 and deal.probability_is_manual
    assert deal.next_step == "Preparare la demo" and deal.custom_fields["priorita"] == "alta"
    assert RuleRun.objects.get().status == RunStatus.DONE


def test_move_stage_goes_through_the_stage_service(manager, rep, stages):
    make_rule(
        manager,
        trigger=Trigger.CREATED,
        actions=[{"kind": ActionKind.MOVE_STAGE, "stage": stages["Qualifying"]}],
    )
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    deal.refresh_from_db()
    assert deal.stage == stages["Qualifying"] and deal.probability == stages["Qualifying"].probability
    history = list(deal.stage_changes.order_by("changed_at", "id").values_list("to_stage__name", "changed_by"))
    assert history == [("New", rep.pk), ("Qualifying", manager.pk)]


def test_webhook_posts_the_deal(manager, rep, stages, receiver):
    make_rule(manager, name="Hook", trigger=Trigger.WON, actions=[{"kind": ActionKind.WEBHOOK, "url": receiver.url}])
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Venduto")
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)
    outbox_deliver_pending()
    assert receiver.received[0]["opportunity"]["name"] == "Venduto"
    assert receiver.received[0]["rule"]["name"] == "Hook"
    assert "204" in RuleRun.objects.get().result


def test_send_email_from_a_template_to_the_deals_contact(manager, rep, stages):
    from mail.services import email_template_save

    template = email_template_save(user=manager, name="Grazie", subject="Grazie, {contact_first_name}", body="{deal}")
    make_rule(manager, trigger=Trigger.WON, actions=[{"kind": ActionKind.SEND_EMAIL, "template": template}])
    contact = ContactFactory(owner=rep, first_name="Lucia", email="lucia@example.com")
    deal = OpportunityFactory(
        owner=rep, stage=stages["New"], contact=contact, organization=contact.organization, name="Fornitura"
    )
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)
    outbox_deliver_pending()
    email = EmailMessage.objects.get(opportunity=deal)  # queued for the worker to send, as the compose page does
    assert email.subject == "Grazie, Lucia" and email.to == ["lucia@example.com"] and email.text_body == "Fornitura"
    assert email.sent_by == manager and email.send_status == "pending"


# --- once, loops, failures -------------------------------------------------------------------------


def test_an_event_delivered_twice_fires_the_rule_once(manager, rep, stages):
    make_rule(manager, trigger=Trigger.WON, actions=[task("Kick-off call")])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)
    outbox_deliver_pending()
    rules_on_event(OutboxEvent.objects.get(topic="opportunity.won"))  # a worker retried it
    assert tasks_of(deal) == ["Kick-off call"] and RuleRun.objects.count() == 1


def test_a_rules_own_change_does_not_fire_it_again(manager, rep, stages):
    # Whenever the next step changes, change it: without protection this would never end.
    make_rule(
        manager,
        trigger=Trigger.FIELD_CHANGED,
        trigger_field="next_step",
        actions=[{"kind": ActionKind.SET_FIELD, "field": "next_step", "value": "Richiamare"}],
    )
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_update(opportunity=deal, user=rep, data={"next_step": "Scrivere"})
    for _round in range(5):
        outbox_deliver_pending()
    runs = list(RuleRun.objects.order_by("id").values_list("status", "depth"))
    assert runs == [(RunStatus.DONE, 0), (RunStatus.SKIPPED, 1)]
    deal.refresh_from_db()
    assert deal.next_step == "Richiamare"


def test_a_chain_of_rules_stops_at_the_maximum_depth(manager, rep, stages):
    # A → B → C → D → …: each rule's move fires the next one.
    path = ["New", "Qualifying", "Demo scheduled", "Pending commitment", "In negotiation"]
    for here, there in zip(path, path[1:], strict=False):
        make_rule(
            manager,
            name=f"{here} → {there}",
            trigger=Trigger.STAGE_ENTERED,
            trigger_stage=stages[here],
            actions=[{"kind": ActionKind.MOVE_STAGE, "stage": stages[there]}],
        )
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    for _round in range(6):
        outbox_deliver_pending()
    runs = list(RuleRun.objects.order_by("id").values_list("rule__name", "status", "depth"))
    assert [status for _name, status, _depth in runs] == [RunStatus.DONE] * MAX_DEPTH + [RunStatus.STOPPED]
    assert runs[-1][2] == MAX_DEPTH
    deal.refresh_from_db()
    assert deal.stage.name == path[MAX_DEPTH]


def test_a_failing_webhook_is_logged_and_the_other_rules_still_fire(manager, rep, stages, receiver):
    receiver.status = 500
    make_rule(
        manager,
        name="A broken hook",
        trigger=Trigger.WON,
        actions=[task("Before the hook"), {"kind": ActionKind.WEBHOOK, "url": receiver.url}, task("After")],
    )
    make_rule(manager, name="Kick-off", trigger=Trigger.WON, actions=[task("Kick-off call")])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)
    outbox_deliver_pending()
    failed = RuleRun.objects.get(rule__name="A broken hook")
    assert failed.status == RunStatus.FAILED and "500" in failed.error and "receiver says no" in failed.error
    assert sorted(tasks_of(deal)) == ["Before the hook", "Kick-off call"]  # the rest of the broken rule stops
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True, topic__startswith="opportunity.").exists()


def test_a_refused_action_is_logged_not_raised(manager, rep, stages):
    make_rule(manager, trigger=Trigger.CREATED, actions=[{"kind": ActionKind.MOVE_STAGE, "stage": stages["Lost"]}])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    run = RuleRun.objects.get()
    assert run.status == RunStatus.FAILED and "why the deal was lost" in run.error
    deal.refresh_from_db()
    assert deal.stage == stages["New"]


def test_a_switched_off_rule_does_nothing(manager, rep, stages):
    make_rule(manager, enabled=False, trigger=Trigger.CREATED, actions=[task()])
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    assert tasks_of(deal) == [] and not RuleRun.objects.exists()


# --- who defines what ------------------------------------------------------------------------------


def test_a_manager_defines_rules_for_their_team_only_and_a_rep_not_at_all(manager, rep, other_rep, stages):
    with pytest.raises(ValidationError):
        make_rule(manager, team=other_rep.team, trigger=Trigger.CREATED)
    with pytest.raises(ValidationError):
        make_rule(rep, trigger=Trigger.CREATED)
    with pytest.raises(ValidationError):  # an activity for someone the manager may not give work to
        make_rule(manager, trigger=Trigger.CREATED, actions=[task(recipient=Recipient.USER, user=other_rep)])
    with pytest.raises(ValidationError):
        make_rule(manager, trigger=Trigger.STAGE_ENTERED)  # which stage?


# --- the request does not pay for the rules --------------------------------------------------------


def _move(client, deal, stage):
    client.force_login(deal.owner)
    deal.refresh_from_db()
    response = client.post(
        reverse("pipeline:move", args=[deal.pk]), {"stage": stage.pk, "version": deal.version}, **JSON
    )
    assert response.status_code == 200, response.content


def test_a_move_with_twenty_active_rules_keeps_its_query_budget(
    client, manager, rep, stages, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first = OpportunityFactory(owner=rep, stage=stages["New"])
    second = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    # The session's first request reads more (the user into the cache): measure from the second.
    with django_capture_on_commit_callbacks(execute=False):
        _move(client, OpportunityFactory(owner=rep, stage=stages["New"]), stages["Qualifying"])
    with CaptureQueriesContext(connection) as baseline, django_capture_on_commit_callbacks(execute=False):
        _move(client, first, stages["Demo scheduled"])
    for index in range(20):
        make_rule(
            manager,
            name=f"R{index}",
            trigger=Trigger.STAGE_ENTERED,
            trigger_stage=stages["Demo scheduled"],
            actions=[task(f"T{index}")],
        )
    with (
        django_assert_num_queries(len(baseline.captured_queries)),
        django_capture_on_commit_callbacks(execute=False),
    ):
        _move(client, second, stages["Demo scheduled"])
    assert not RuleRun.objects.exists()  # nothing ran in the request
    outbox_deliver_pending()
    assert RuleRun.objects.filter(opportunity=second).count() == 20
