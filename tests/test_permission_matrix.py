"""The permission matrix: every page and endpoint × every kind of caller → allowed or refused.

Callers: anonymous; the rep who owns the records (team Nord); a teammate of theirs; a rep of
another team (Sud); the manager of Nord; the manager of Sud; an admin; and a read-only API token
of Nord's manager (a user who could write: the token must not). Records one may not see answer
404; records one may see but not change answer 404 on pages and 403 in the API (and on the board's
JSON move). Every refused request must leave no outbox event behind (every write emits one), and
no response to a caller of the other team may mention the Nord records.

``ROUTES`` is checked against the URLconf: a new URL pattern (or a new method of an API endpoint)
without a row here fails ``test_every_route_is_in_the_matrix``.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import TeamFactory, UserFactory
from activities.models import CalendarFeedToken
from activities.tests.factories import ActivityFactory
from automations.models import Rule
from contacts.tests.factories import ContactFactory, OrganizationFactory
from core.models import OutboxEvent
from documents.services import document_upload
from imports.models import ImportJob
from imports.services import import_job_create
from integrations.models import WebhookDelivery
from integrations.services import api_token_create, webhook_create
from opportunities.services import opportunity_archive, opportunity_line_add
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory
from quotes.services import quote_create, quote_line_add, quote_send
from webforms.models import WebForm
from webforms.services import Visit, submission_receive

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "rep", "teammate", "other_rep", "manager", "other_manager", "admin", "token")
OTHER_TEAM = ("other_rep", "other_manager")
# Names and an amount that only the Nord records carry: no page, endpoint, report total or board
# total may show them to the Sud team.
MARKERS = ("Nordsegreto", "Riservatissima", "Confidenziale", "7,654,321", "7654321")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _kind(default=None, **outcomes):
    outcomes = {**(dict.fromkeys(ACTORS, default) if default else {}), **outcomes}
    assert set(outcomes) == set(ACTORS), set(ACTORS) ^ set(outcomes)
    return outcomes


OK, LOGIN = "ok", "login"
KINDS = {
    # Pages. A page ignores API tokens: for it, a token is nobody.
    "public": _kind(OK),
    # Switched off by configuration (the metrics endpoint without METRICS_TOKEN): 404 for everyone.
    "disabled": _kind(404),
    "login": _kind(OK, anonymous=LOGIN, token=LOGIN),
    "view": _kind(
        anonymous=LOGIN, token=LOGIN, rep=OK, teammate=OK, manager=OK, admin=OK, other_rep=404, other_manager=404
    ),
    "edit": _kind(
        anonymous=LOGIN, token=LOGIN, rep=OK, teammate=404, manager=OK, admin=OK, other_rep=404, other_manager=404
    ),
    "move": _kind(  # the board's JSON move: seen but not movable is a 403 the script shows
        anonymous=LOGIN, token=LOGIN, rep=OK, teammate=403, manager=OK, admin=OK, other_rep=404, other_manager=404
    ),
    "restore": _kind(
        anonymous=LOGIN, token=LOGIN, rep=403, teammate=404, manager=OK, admin=OK, other_rep=404, other_manager=404
    ),
    "purge": _kind(
        anonymous=LOGIN, token=LOGIN, rep=403, teammate=403, manager=403, admin=OK, other_rep=404, other_manager=404
    ),
    "catalog": _kind(
        anonymous=LOGIN, token=LOGIN, rep=404, teammate=404, other_rep=404, manager=OK, other_manager=OK, admin=OK
    ),
    # The rep's own things (import jobs): theirs, and an admin's.
    "own_or_admin": _kind(
        anonymous=LOGIN, token=LOGIN, rep=OK, admin=OK, teammate=404, manager=404, other_rep=404, other_manager=404
    ),
    # The rep's own credentials (API tokens): theirs alone.
    "own": _kind(
        anonymous=LOGIN, token=LOGIN, rep=OK, admin=404, teammate=404, manager=404, other_rep=404, other_manager=404
    ),
    # API.
    "api_read": _kind(OK, anonymous=401),
    "api_create": _kind(OK, anonymous=401, token=403),
    "api_view": _kind(
        anonymous=401, token=OK, rep=OK, teammate=OK, manager=OK, admin=OK, other_rep=404, other_manager=404
    ),
    "api_edit": _kind(
        anonymous=401, token=403, rep=OK, teammate=403, manager=OK, admin=OK, other_rep=404, other_manager=404
    ),
    # Creating a record attached to another (a line on a deal, a document): a parent one may not
    # see "does not exist" (400, as for a missing one); one seen but not changeable is a 403.
    "api_attach": _kind(
        anonymous=401, token=403, rep=OK, teammate=403, manager=OK, admin=OK, other_rep=400, other_manager=400
    ),
    "api_attach_to_visible": _kind(  # a document may be attached to any record one sees
        anonymous=401, token=403, rep=OK, teammate=OK, manager=OK, admin=OK, other_rep=400, other_manager=400
    ),
    "api_restore": _kind(
        anonymous=401, token=403, rep=403, teammate=403, manager=OK, admin=OK, other_rep=404, other_manager=404
    ),
    "api_purge": _kind(
        anonymous=401, token=403, rep=403, teammate=403, manager=403, admin=OK, other_rep=404, other_manager=404
    ),
    "api_catalog": _kind(
        anonymous=401, token=403, rep=403, teammate=403, other_rep=403, manager=OK, other_manager=OK, admin=OK
    ),
    # A capability URL (the calendar feed) with a wrong secret.
    "nobody": _kind(404),
    "api_own_read": _kind(
        anonymous=401, token=404, rep=OK, teammate=404, manager=404, admin=404, other_rep=404, other_manager=404
    ),
    "api_own_write": _kind(
        anonymous=401, token=403, rep=OK, teammate=404, manager=404, admin=404, other_rep=404, other_manager=404
    ),
    # Import jobs through the API: their author's, and an admin's (the token is the manager's).
    "api_import_read": _kind(
        anonymous=401, token=404, rep=OK, teammate=404, manager=404, admin=OK, other_rep=404, other_manager=404
    ),
    "api_import_write": _kind(
        anonymous=401, token=403, rep=OK, teammate=404, manager=404, admin=OK, other_rep=404, other_manager=404
    ),
    # Web forms and e-mail templates: managed by managers (their teams' forms) and admins; reps are refused.
    "webforms": _kind(
        anonymous=LOGIN, token=LOGIN, rep=403, teammate=403, other_rep=403, manager=OK, other_manager=OK, admin=OK
    ),
    "webforms_object": _kind(
        anonymous=LOGIN, token=LOGIN, rep=403, teammate=403, other_rep=403, manager=OK, other_manager=404, admin=OK
    ),
    "api_webforms_view": _kind(
        anonymous=401, token=OK, rep=404, teammate=404, other_rep=404, manager=OK, other_manager=404, admin=OK
    ),
    # Settings pages for administrators only (custom fields, the processing register, erasure).
    "admin_only": _kind(
        anonymous=LOGIN, token=LOGIN, rep=403, teammate=403, other_rep=403, manager=403, other_manager=403, admin=OK
    ),
    "method_not_allowed": _kind(405),
    # Targets are set by managers (for their teams) and admins: reps are refused; another team's rep
    # is not an owner the other manager may choose (400 naming the field, as for every owner).
    "targets_set": _kind(
        anonymous=LOGIN, token=LOGIN, rep=403, teammate=403, other_rep=403, manager=OK, other_manager=400, admin=OK
    ),
    # The manager's own things (report subscriptions): theirs alone.
    "own_manager": _kind(
        anonymous=LOGIN, token=LOGIN, rep=404, admin=404, teammate=404, manager=OK, other_rep=404, other_manager=404
    ),
    # Choosing records to merge: those one sees; records one does not see are left out, so the
    # chooser sends back to the list as for ids that do not exist.
    "merge_choice": _kind(
        anonymous=LOGIN, token=LOGIN, rep=OK, teammate=OK, manager=OK, admin=OK, other_rep=302, other_manager=302
    ),
    # A note through the API: its author changes it; whoever else sees it is refused (403).
    "api_author": _kind(
        anonymous=401, token=403, rep=OK, teammate=403, manager=403, admin=403, other_rep=404, other_manager=404
    ),
}


@dataclass
class World:
    users: dict
    token: str = ""
    objects: dict = field(default_factory=dict)
    actor: str = ""

    def own_organization(self):
        """An organization of the caller's own (the caller of the current request), for creates."""
        owner = self.users.get(self.actor) or self.users["admin"]
        return OrganizationFactory(owner=owner, name=f"Propria di {owner.username}").pk

    def __getattr__(self, name):
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The records, made once for the module inside a transaction that is rolled back at its end
    (each test, and each caller within it, runs in a savepoint of its own)."""
    from django.test import override_settings

    media = override_settings(
        MEDIA_ROOT=tmp_path_factory.mktemp("media"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with django_db_blocker.unblock(), media, transaction.atomic():
        yield _world_build()
        transaction.set_rollback(True)


def _world_build():
    from conftest import _ensure_seeded
    from pipeline.models import LostReason, Pipeline

    _ensure_seeded()
    pipeline = Pipeline.objects.get(is_default=True)
    stages = {stage.name: stage for stage in pipeline.stages.all()}
    lost_reason = LostReason.objects.get(name="Price")
    nord, sud = TeamFactory(name="Nord"), TeamFactory(name="Sud")
    manager = UserFactory(username="manager", role=User.Role.MANAGER, team=nord)
    other_manager = UserFactory(username="other_manager", role=User.Role.MANAGER, team=sud)
    nord.manager, sud.manager = manager, other_manager
    nord.save()
    sud.save()
    users = {
        "rep": UserFactory(username="rep", team=nord),
        "teammate": UserFactory(username="teammate", team=nord),
        "other_rep": UserFactory(username="other_rep", team=sud),
        "manager": manager,
        "other_manager": other_manager,
        "admin": UserFactory(username="crm_admin", role=User.Role.ADMIN),
    }
    rep = users["rep"]
    org = OrganizationFactory(owner=rep, name="Nordsegreto S.p.A.")
    contact = ContactFactory(owner=rep, organization=org, first_name="Lucia", last_name="Riservatissima")
    deal = OpportunityFactory(
        owner=rep,
        organization=org,
        contact=contact,
        name="Confidenziale rinnovo",
        stage=stages["Qualifying"],
        amount=Decimal("7654321.00"),
    )
    product = ProductFactory(name="Licenza annuale")
    line = opportunity_line_add(opportunity=deal, user=rep, product=product, quantity=Decimal(2))
    quote = quote_create(user=rep, opportunity=deal, title="Offerta Confidenziale")
    quote_line = quote_line_add(quote=quote, user=rep, description="Canone", quantity=Decimal(1), unit_price=100)
    sent = quote_create(user=rep, opportunity=deal, title="Offerta inviata")
    quote_line_add(quote=sent, user=rep, description="Canone", quantity=Decimal(1), unit_price=100)
    quote_send(quote=sent, user=rep)
    document = document_upload(user=rep, file=ContentFile(PDF, name="contratto.pdf"), opportunity=deal)
    activity = ActivityFactory(owner=rep, opportunity=deal, subject="Chiamata Confidenziale")
    archived_deal = OpportunityFactory(owner=rep, organization=org, name="Confidenziale archiviata")
    opportunity_archive(opportunity=archived_deal, user=rep)
    archived_org = OrganizationFactory(owner=rep, name="Nordsegreto archiviata")
    archived_org.archived_at = timezone.now()
    archived_org.save()
    archived_contact = ContactFactory(owner=rep, organization=None, first_name="Ugo", last_name="Riservatissima")
    archived_contact.archived_at = timezone.now()
    archived_contact.save()
    job = import_job_create(
        user=rep,
        kind="organization",
        file=ContentFile(b"Name,City\nNordsegreto Import,Milano\n", name="aziende.csv"),
    )
    done_job = import_job_create(
        user=rep, kind="organization", file=ContentFile(b"Name,City\n,Milano\n", name="rifiuti.csv")
    )
    done_job.status = ImportJob.Status.DONE
    done_job.rejected_file.save("rifiuti-rejected.csv", ContentFile(b"Name,City,reason\n,Milano,Name missing\n"))
    done_job.save()
    rep_token, _raw = api_token_create(user=rep, name="integrazione")
    _token, readonly_raw = api_token_create(user=manager, name="sola lettura", read_only=True)
    feed = CalendarFeedToken.objects.create(user=rep, token="f" * 40)
    webhook = webhook_create(
        user=rep, target_url="https://hooks.example.com/crm", secret="s" * 20, events=["opportunity.won"]
    )
    failed_delivery = WebhookDelivery.objects.create(
        subscription=webhook,
        event_id=1,
        topic="opportunity.won",
        record_kind="opportunity",
        record_id=deal.pk,
        payload={"id": 1, "event": "opportunity.won", "data": {"opportunity": {"id": deal.pk}}},
        status=WebhookDelivery.Status.FAILED,
        attempts=6,
    )
    web_form = WebForm.objects.create(name="Modulo", slug="modulo", pipeline=pipeline, owner=manager, assignee=rep)
    held = submission_receive(
        webform=web_form, fields={"name": "Bot", "email": "bot@example.com"}, visit=Visit(), suspicions=["honeypot"]
    )
    # The features merged later: a note, an e-mail, a mailbox and a template, a tag, a bulk job, a
    # private saved view, a target and a subscription, a custom field, a notification.
    from analytics.services import subscription_create, target_set
    from bulk.models import BulkJob
    from customfields.tests.factories import CustomFieldFactory
    from mail.models import EmailMessage, EmailThread
    from mail.services import email_template_save, mailbox_save
    from notes.services import note_create
    from notifications.models import Notification
    from savedviews.services import saved_view_create
    from tags.services import tag_create, tags_add

    duplicate = ContactFactory(owner=rep, organization=org, first_name="Lucia", last_name="Riservatissima")
    note = note_create(user=rep, body="Nota Confidenziale", record=deal)
    thread = EmailThread.objects.create(subject="Confidenziale", last_message_at=timezone.now())
    email = EmailMessage.objects.create(
        message_id="<nord@example.com>",
        thread=thread,
        subject="Confidenziale offerta",
        from_address="lucia@example.com",
        sent_at=timezone.now(),
        text_body="Testo",
        opportunity=deal,
    )
    failed_email = EmailMessage.objects.create(
        message_id="<nord-out@example.com>",
        thread=thread,
        outgoing=True,
        subject="Confidenziale risposta",
        to=["lucia@example.com"],
        sent_at=timezone.now(),
        opportunity=deal,
        send_status="failed",
        sent_by=rep,
    )
    mailbox = mailbox_save(
        user=rep,
        owner=rep,
        name="Casella",
        host="127.0.0.1",
        port=1,
        tls_mode="none",
        username="rep",
        password="x",
        folders="INBOX",
    )
    mail_template = email_template_save(user=users["admin"], name="Benvenuto", subject="Ciao", body="Testo")
    tag = tag_create(user=rep, name="VIP")
    tags_add([deal], tag, rep)
    bulk_job = BulkJob.objects.create(user=rep, kind="deal", action="archive", record_ids=[deal.pk], total=1)
    saved_view = saved_view_create(user=rep, name="Le mie", path="/opportunities/", query="q=a")
    target = target_set(
        user=manager,
        owner=rep,
        period_kind="month",
        day=timezone.localdate(),
        metric="won_amount",
        value=Decimal(1000),
    )
    subscription = subscription_create(user=manager, report="funnel", params={}, frequency="weekly")
    custom_field = CustomFieldFactory(key="settore_matrix")
    notification = Notification.objects.create(user=rep, kind="mention", text="Menzione", url="/")
    rule = Rule.objects.create(name="Regola Nord", team=nord, created_by=manager, trigger="created")
    objects = {name: value for name, value in locals().items() if hasattr(value, "pk")}
    objects.update(stages=stages, pipeline=pipeline, lost_reason=lost_reason)
    return World(users=users, token=readonly_raw, objects=objects)


@dataclass
class Route:
    name: str
    method: str
    kind: str
    ok: int = 200
    args: object = ()  # a callable world -> args
    data: object = None  # a callable world -> data
    json: bool = False
    headers: dict = field(default_factory=dict)
    query: str = ""

    def url(self, world):
        args = self.args(world) if callable(self.args) else self.args
        return reverse(self.name, args=args) + self.query

    def __str__(self):
        return f"{self.method} {self.name}{self.query} [{self.kind}]"


def _org(w):
    return [w.org.pk]


def _contact(w):
    return [w.contact.pk]


def _deal(w):
    return [w.deal.pk]


def _form_data(form):
    """What a browser would post back for an unbound form: every field's current value."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        if isinstance(value, datetime.datetime):
            value = (timezone.localtime(value) if timezone.is_aware(value) else value).strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        elif hasattr(value, "pk"):
            value = value.pk
        data[name] = value
    return data


def _organization_form(w, **changes):
    from contacts.forms import OrganizationForm

    return {**_form_data(OrganizationForm(instance=w.org, user=w.users["admin"])), **changes}


def _contact_form(w, **changes):
    from contacts.forms import ContactForm

    return {**_form_data(ContactForm(instance=w.contact, user=w.users["admin"])), **changes}


def _deal_form(w, **changes):
    from opportunities.forms import OpportunityForm

    data = _form_data(OpportunityForm(instance=w.deal, user=w.users["admin"]))
    data["amount"] = str(w.deal.amount)
    return {**data, **changes}


def _activity_form(w, **changes):
    from activities.forms import ActivityForm

    data = _form_data(ActivityForm(instance=w.activity, user=w.users["admin"]))
    return {**data, **changes}


def _api_body(serializer_class, obj, **changes):
    data = dict(serializer_class(obj).data)
    return {**{k: v for k, v in data.items() if v is not None}, **changes}


def _org_body(w, **changes):
    from contacts.api.views import OrganizationSerializer

    return _api_body(OrganizationSerializer, w.org, **changes)


def _contact_body(w, **changes):
    from contacts.api.views import ContactSerializer

    return _api_body(ContactSerializer, w.contact, **changes)


def _deal_body(w, **changes):
    from opportunities.api.serializers import OpportunitySerializer

    return _api_body(OpportunitySerializer, w.deal, **changes)


def _product_body(w, **changes):
    from products.api.views import ProductSerializer

    return _api_body(ProductSerializer, w.product, **changes)


def _activity_body(w, **changes):
    from activities.api.views import ActivitySerializer

    return _api_body(ActivitySerializer, w.activity, **changes)


def _import_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"kind": "organization", "file": SimpleUploadedFile("aziende.csv", b"Name,City\nNuova Import,Roma\n")}


def _move(w):
    return {"stage": w.stages["Demo scheduled"].pk, "version": w.deal.version}


R = Route
ROUTES = [
    # --- the shell: home, log-in, language, profile
    R("home", "GET", "login"),
    R("login", "GET", "public"),  # signed-in users are sent on (302); see _status
    R("logout", "POST", "public", ok=302),
    R("favicon", "GET", "public", ok=302),  # to the static file
    R("set_language", "POST", "public", ok=302, data=lambda w: {"language": "it", "next": "/"}),
    R("accounts:profile", "GET", "login"),
    R("accounts:owner_lookup", "GET", "login", data=lambda w: {"q": "a"}),
    R("contacts:organization_lookup", "GET", "login", data=lambda w: {"q": "Nord"}),
    R("contacts:contact_lookup", "GET", "login", data=lambda w: {"q": "a"}),
    R("accounts:profile", "POST", "login", ok=302, data=lambda w: {"first_name": "Nuovo", "language": "en"}),
    R("accounts:password_change", "GET", "login"),
    # --- operators: probes answer anyone (and reveal nothing); metrics need a token that the test
    # settings do not configure (core/tests/test_metrics.py checks the token and staff)
    R("health_live", "GET", "public"),
    R("health_ready", "GET", "public"),
    R("metrics", "GET", "disabled"),
    # --- exports (every row the filters select: the same querysets as the pages)
    *[
        R(name, "GET", "login", query="?export=csv")
        for name in (
            "opportunities:list",
            "contacts:organization_list",
            "contacts:contact_list",
            "activities:list",
            "quotes:list",
            "reports:won_lost",
            "reports:lost_deals",
            "reports:forecast",
        )
    ],
    # --- the board
    R("pipeline:board", "GET", "login"),
    R("pipeline:board_pipeline", "GET", "login", args=lambda w: [w.pipeline.pk]),
    R(
        "pipeline:column_more",
        "GET",
        "login",
        args=lambda w: [w.pipeline.pk, w.stages["Qualifying"].pk],
        headers={"HTTP_HX_REQUEST": "true"},
    ),
    R("pipeline:move", "POST", "move", args=_deal, data=_move, headers={"HTTP_ACCEPT": "application/json"}),
    R(
        "pipeline:quick_add",
        "POST",
        "login",
        ok=302,
        data=lambda w: {"name": "Nuova trattativa", "stage": w.stages["New"].pk},
    ),
    R("pipeline:organization_options", "GET", "login", args=(), data=lambda w: {"q": "Nord"}),
    # --- deals
    R("opportunities:list", "GET", "login"),
    R("opportunities:create", "GET", "login"),
    R(
        "opportunities:create",
        "POST",
        "login",
        ok=302,
        data=lambda w: {
            "name": "Nuova",
            "organization": w.own_organization(),
            "stage": w.stages["New"].pk,
            "amount": "1000",
            "currency": "EUR",
            "type": "new_business",
            "lead_source": "",
        },
    ),
    R("opportunities:detail", "GET", "view", args=_deal),
    R("opportunities:edit", "GET", "edit", args=_deal),
    R("opportunities:edit", "POST", "edit", ok=302, args=_deal, data=lambda w: _deal_form(w, name="Rinominata")),
    R("opportunities:move", "POST", "edit", ok=302, args=_deal, data=_move),
    R("opportunities:move", "POST", "edit", args=_deal, data=_move, headers={"HTTP_ACCEPT": "application/json"}),
    R("opportunities:field_edit", "GET", "edit", args=lambda w: [w.deal.pk, "name"]),
    R(
        "opportunities:field_edit",
        "POST",
        "edit",
        ok=302,
        args=lambda w: [w.deal.pk, "name"],
        data=lambda w: {"name": "Rinominata in place", "version": w.deal.version},
    ),
    R("opportunities:timeline", "GET", "view", args=_deal),
    R("opportunities:archive", "POST", "edit", ok=302, args=_deal),
    R(
        "opportunities:archive",
        "POST",
        "restore",
        ok=302,
        args=lambda w: [w.archived_deal.pk],
        data=lambda w: {"restore": "1"},
    ),
    R("opportunities:purge", "GET", "purge", args=lambda w: [w.archived_deal.pk]),
    R(
        "opportunities:purge",
        "POST",
        "purge",
        ok=302,
        args=lambda w: [w.archived_deal.pk],
        data=lambda w: {"confirm": w.archived_deal.name},
    ),
    R(
        "opportunities:line_add",
        "POST",
        "edit",
        ok=302,
        args=_deal,
        data=lambda w: {"product": w.product.pk, "quantity": "1", "discount_percent": "0"},
    ),
    R("opportunities:line_edit", "GET", "edit", args=lambda w: [w.deal.pk, w.line.pk]),
    R("opportunities:line_remove", "POST", "edit", ok=302, args=lambda w: [w.deal.pk, w.line.pk]),
    R(
        "opportunities:amount_from_lines",
        "POST",
        "edit",
        ok=302,
        args=_deal,
        data=lambda w: {"version": w.deal.version},
    ),
    # --- organizations and contacts
    R("contacts:organization_list", "GET", "login"),
    R("contacts:organization_create", "GET", "login"),
    R(
        "contacts:organization_create",
        "POST",
        "login",
        ok=302,
        data=lambda w: {
            "name": "Nuova S.r.l.",
            "country": "IT",
            "city": "Roma",
            "province": "RM",
            "postal_code": "00100",
        },
    ),
    R("contacts:organization_detail", "GET", "view", args=_org),
    R("contacts:organization_edit", "GET", "edit", args=_org),
    R(
        "contacts:organization_edit",
        "POST",
        "edit",
        ok=302,
        args=_org,
        data=lambda w: _organization_form(w, name="Nordsegreto Holding"),
    ),
    R("contacts:organization_archive", "POST", "edit", ok=302, args=lambda w: [w.archived_org.pk]),
    R(
        "contacts:organization_archive",
        "POST",
        "restore",
        ok=302,
        args=lambda w: [w.archived_org.pk],
        data=lambda w: {"restore": "1"},
    ),
    R("contacts:organization_purge", "GET", "purge", args=lambda w: [w.archived_org.pk]),
    R(
        "contacts:organization_purge",
        "POST",
        "purge",
        ok=302,
        args=lambda w: [w.archived_org.pk],
        data=lambda w: {"confirm": w.archived_org.name},
    ),
    R("contacts:contact_list", "GET", "login"),
    R("contacts:contact_create", "GET", "login"),
    R("contacts:contact_create", "POST", "login", ok=302, data=lambda w: {"first_name": "Anna", "last_name": "Neri"}),
    R("contacts:contact_detail", "GET", "view", args=_contact),
    R("contacts:contact_edit", "GET", "edit", args=_contact),
    R("contacts:contact_edit", "POST", "edit", ok=302, args=_contact, data=lambda w: _contact_form(w, job_title="CFO")),
    R("contacts:contact_archive", "POST", "edit", ok=302, args=lambda w: [w.archived_contact.pk]),
    R(
        "contacts:contact_archive",
        "POST",
        "restore",
        ok=302,
        args=lambda w: [w.archived_contact.pk],
        data=lambda w: {"restore": "1"},
    ),
    R("contacts:contact_purge", "GET", "purge", args=lambda w: [w.archived_contact.pk]),
    R(
        "contacts:contact_purge",
        "POST",
        "purge",
        ok=302,
        args=lambda w: [w.archived_contact.pk],
        data=lambda w: {"confirm": w.archived_contact.full_name},
    ),
    # --- products (the catalog: everyone reads, managers and admins change)
    R("products:list", "GET", "login"),
    R("products:create", "GET", "catalog"),
    R(
        "products:create",
        "POST",
        "catalog",
        ok=302,
        data=lambda w: {
            "name": "Nuovo",
            "code": "NEW-1",
            "kind": "service",
            "unit_price": "10",
            "currency": "EUR",
            "vat_rate": "22.00",
            "active": "on",
        },
    ),
    R("products:edit", "GET", "catalog", args=lambda w: [w.product.pk]),
    # --- quotes
    R("quotes:list", "GET", "login"),
    R("quotes:create", "GET", "login"),
    R("quotes:create_from_opportunity", "POST", "edit", ok=302, args=_deal),
    R("quotes:detail", "GET", "view", args=lambda w: [w.quote.pk]),
    R("quotes:edit", "GET", "edit", args=lambda w: [w.quote.pk]),
    R(
        "quotes:line_add",
        "POST",
        "edit",
        ok=302,
        args=lambda w: [w.quote.pk],
        data=lambda w: {
            "description": "Extra",
            "quantity": "1",
            "unit_price": "5",
            "discount_percent": "0",
            "vat_rate": "22.00",
        },
    ),
    R("quotes:line_edit", "GET", "edit", args=lambda w: [w.quote.pk, w.quote_line.pk]),
    R("quotes:line_remove", "POST", "edit", ok=302, args=lambda w: [w.quote.pk, w.quote_line.pk]),
    R("quotes:send", "POST", "edit", ok=302, args=lambda w: [w.quote.pk]),
    R("quotes:accept", "POST", "edit", ok=302, args=lambda w: [w.sent.pk]),
    R("quotes:reject", "POST", "edit", ok=302, args=lambda w: [w.sent.pk]),
    R("quotes:revise", "POST", "edit", ok=302, args=lambda w: [w.sent.pk]),
    R("quotes:pdf", "GET", "view", args=lambda w: [w.sent.pk]),
    # --- documents
    R(
        "documents:upload",
        "POST",
        "view",
        ok=302,
        data=lambda w: {"opportunity": w.deal.pk, "file": ContentFile(PDF, name="nuovo.pdf")},
    ),
    R("documents:download", "GET", "view", args=lambda w: [w.document.pk]),
    R("documents:delete", "POST", "edit", ok=302, args=lambda w: [w.document.pk]),
    # --- activities and the calendar
    R("activities:list", "GET", "login"),
    R("activities:mine", "GET", "login"),
    R("activities:create", "GET", "login"),
    R("activities:edit", "GET", "edit", args=lambda w: [w.activity.pk]),
    R(
        "activities:edit",
        "POST",
        "edit",
        ok=302,
        args=lambda w: [w.activity.pk],
        data=lambda w: _activity_form(w, subject="Chiamata Confidenziale 2"),
    ),
    R("activities:done", "POST", "edit", ok=302, args=lambda w: [w.activity.pk]),
    R("activities:delete", "POST", "edit", ok=302, args=lambda w: [w.activity.pk]),
    R("calendar:month", "GET", "login"),
    R("calendar:week", "GET", "login"),
    R("calendar:agenda", "GET", "login"),
    R("calendar:feed_regenerate", "POST", "login", ok=302),
    R("calendar:feed_revoke", "POST", "login", ok=302),
    # The feed's secret address is the credential (for calendar applications): whoever has it
    # reads that user's feed, and a wrong one is a 404 for everybody.
    R("calendar:feed", "GET", "public", args=lambda w: [w.feed.token]),
    R("calendar:feed", "GET", "nobody", args=lambda w: ["0" * 40]),
    # --- web forms (the public form is for everybody; its JSON endpoint takes POSTs only)
    R("webforms:list", "GET", "webforms"),
    R("webforms:create", "GET", "webforms"),
    R("webforms:review", "GET", "webforms"),
    R("webforms:detail", "GET", "webforms_object", args=lambda w: [w.web_form.pk]),
    R("webforms:edit", "GET", "webforms_object", args=lambda w: [w.web_form.pk]),
    R("webforms:submission", "GET", "webforms_object", args=lambda w: [w.held.pk]),
    R("webforms:accept", "POST", "webforms_object", ok=302, args=lambda w: [w.held.pk]),
    R(
        "webforms:reject",
        "POST",
        "webforms_object",
        ok=302,
        args=lambda w: [w.held.pk],
        data=lambda w: {"reason": "spam"},
    ),
    R("webforms_public:form", "GET", "public", args=lambda w: [w.web_form.slug]),
    R("webforms_public:submit_json", "GET", "method_not_allowed", args=lambda w: [w.web_form.slug]),
    R("api:web-form-list", "GET", "api_read"),
    R("api:web-form-detail", "GET", "api_webforms_view", args=lambda w: [w.web_form.pk]),
    R("api:web-form-submission-list", "GET", "api_read"),
    R("api:web-form-submission-detail", "GET", "api_webforms_view", args=lambda w: [w.held.pk]),
    # --- reports
    R("reports:index", "GET", "login"),
    R("reports:won_lost", "GET", "login"),
    R("reports:funnel", "GET", "login"),
    R("reports:forecast", "GET", "login"),
    R("reports:lost_deals", "GET", "login"),
    # --- imports (a user's own jobs; an admin sees all)
    R("imports:start", "GET", "login"),
    R("imports:detail", "GET", "own_or_admin", args=lambda w: [w.job.pk]),
    R("imports:preview", "GET", "own_or_admin", args=lambda w: [w.job.pk]),
    R("imports:run", "POST", "own_or_admin", ok=302, args=lambda w: [w.job.pk]),
    R("imports:progress", "GET", "own_or_admin", args=lambda w: [w.job.pk]),
    R("imports:values", "POST", "own_or_admin", ok=302, args=lambda w: [w.job.pk]),
    R("imports:rejected", "GET", "own_or_admin", args=lambda w: [w.done_job.pk]),
    # --- API tokens (one's own)
    R("integrations:tokens", "GET", "login"),
    R("integrations:tokens", "POST", "login", data=lambda w: {"name": "nuovo", "read_only": "on"}),
    R("integrations:token_revoke", "POST", "own", ok=302, args=lambda w: [w.rep_token.pk]),
    R("integrations:webhooks", "GET", "login"),
    R(
        "integrations:webhooks",
        "POST",
        "login",
        ok=302,
        data=lambda w: {"target_url": "https://hooks.example.com/z", "events": ["opportunity.won"]},
    ),
    R("integrations:webhook_detail", "GET", "own", args=lambda w: [w.webhook.pk]),
    R("integrations:webhook_toggle", "POST", "own", ok=302, args=lambda w: [w.webhook.pk]),
    R("integrations:webhook_rotate", "POST", "own", ok=302, args=lambda w: [w.webhook.pk]),
    R("integrations:webhook_delete", "POST", "own", ok=302, args=lambda w: [w.webhook.pk]),
    R(
        "integrations:webhook_redeliver",
        "POST",
        "own",
        ok=302,
        args=lambda w: [w.webhook.pk, w.failed_delivery.pk],
    ),
    # --- API: records
    R("api:api-root", "GET", "api_read"),
    R("api:schema", "GET", "public"),
    R("api:docs", "GET", "public"),
    R("api:redoc", "GET", "public"),
    R("api:opportunity-list", "GET", "api_read"),
    R(
        "api:opportunity-list",
        "POST",
        "api_create",
        ok=201,
        json=True,
        data=lambda w: {"name": "Via API", "organization": w.own_organization(), "stage": w.stages["New"].pk},
    ),
    R("api:opportunity-detail", "GET", "api_view", args=_deal),
    R("api:opportunity-detail", "PUT", "api_edit", args=_deal, json=True, data=lambda w: _deal_body(w, name="PUT")),
    R("api:opportunity-detail", "PATCH", "api_edit", args=_deal, json=True, data=lambda w: {"next_step": "Chiamare"}),
    R("api:opportunity-detail", "DELETE", "api_edit", ok=204, args=_deal),
    R("api:opportunity-history", "GET", "api_view", args=_deal),
    R("api:opportunity-move", "POST", "api_edit", args=_deal, json=True, data=_move),
    R("api:opportunity-restore", "POST", "api_restore", args=lambda w: [w.archived_deal.pk]),
    R(
        "api:opportunity-purge",
        "POST",
        "api_purge",
        ok=204,
        args=lambda w: [w.archived_deal.pk],
        json=True,
        data=lambda w: {"confirm": True},
    ),
    R("api:opportunity-line-list", "GET", "api_read"),
    R(
        "api:opportunity-line-list",
        "POST",
        "api_attach",
        ok=201,
        json=True,
        data=lambda w: {"opportunity": w.deal.pk, "product": w.product.pk, "quantity": "1"},
    ),
    R("api:opportunity-line-detail", "GET", "api_view", args=lambda w: [w.line.pk]),
    R(
        "api:opportunity-line-detail",
        "PATCH",
        "api_edit",
        args=lambda w: [w.line.pk],
        json=True,
        data=lambda w: {"quantity": "3"},
    ),
    R("api:opportunity-line-detail", "DELETE", "api_edit", ok=204, args=lambda w: [w.line.pk]),
    R("api:organization-list", "GET", "api_read"),
    R("api:organization-list", "POST", "api_create", ok=201, json=True, data=lambda w: {"name": "API S.r.l."}),
    R("api:organization-detail", "GET", "api_view", args=_org),
    R("api:organization-detail", "PUT", "api_edit", args=_org, json=True, data=lambda w: _org_body(w, sector="IT")),
    R("api:organization-detail", "PATCH", "api_edit", args=_org, json=True, data=lambda w: {"sector": "IT"}),
    R("api:organization-detail", "DELETE", "api_edit", ok=204, args=lambda w: [w.archived_org.pk]),
    R("api:organization-restore", "POST", "api_restore", args=lambda w: [w.archived_org.pk]),
    R(
        "api:organization-purge",
        "POST",
        "api_purge",
        ok=204,
        args=lambda w: [w.archived_org.pk],
        json=True,
        data=lambda w: {"confirm": True},
    ),
    R("api:contact-list", "GET", "api_read"),
    R(
        "api:contact-list",
        "POST",
        "api_create",
        ok=201,
        json=True,
        data=lambda w: {"first_name": "A", "last_name": "B"},
    ),
    R("api:contact-detail", "GET", "api_view", args=_contact),
    R(
        "api:contact-detail",
        "PUT",
        "api_edit",
        args=_contact,
        json=True,
        data=lambda w: _contact_body(w, job_title="CEO"),
    ),
    R("api:contact-detail", "PATCH", "api_edit", args=_contact, json=True, data=lambda w: {"job_title": "CEO"}),
    R("api:contact-detail", "DELETE", "api_edit", ok=204, args=lambda w: [w.archived_contact.pk]),
    R("api:contact-restore", "POST", "api_restore", args=lambda w: [w.archived_contact.pk]),
    R(
        "api:contact-purge",
        "POST",
        "api_purge",
        ok=204,
        args=lambda w: [w.archived_contact.pk],
        json=True,
        data=lambda w: {"confirm": True},
    ),
    R("api:quote-list", "GET", "api_read"),
    R(
        "api:quote-list",
        "POST",
        "api_create",
        ok=201,
        json=True,
        data=lambda w: {"title": "API", "organization": w.own_organization()},
    ),
    R("api:quote-detail", "GET", "api_view", args=lambda w: [w.quote.pk]),
    R("api:quote-send", "POST", "api_edit", args=lambda w: [w.quote.pk], json=True, data=lambda w: {}),
    R("api:quote-accept", "POST", "api_edit", args=lambda w: [w.sent.pk], json=True, data=lambda w: {}),
    R("api:quote-reject", "POST", "api_edit", args=lambda w: [w.sent.pk], json=True, data=lambda w: {}),
    R("api:quote-revise", "POST", "api_edit", ok=201, args=lambda w: [w.sent.pk], json=True, data=lambda w: {}),
    R("api:quote-line-list", "GET", "api_read"),
    R(
        "api:quote-line-list",
        "POST",
        "api_attach",
        ok=201,
        json=True,
        data=lambda w: {"quote": w.quote.pk, "description": "Installazione", "unit_price": "50.00"},
    ),
    R("api:quote-line-detail", "GET", "api_view", args=lambda w: [w.quote_line.pk]),
    R(
        "api:quote-line-detail",
        "PATCH",
        "api_edit",
        args=lambda w: [w.quote_line.pk],
        json=True,
        data=lambda w: {"quantity": "2"},
    ),
    R("api:quote-line-detail", "DELETE", "api_edit", ok=204, args=lambda w: [w.quote_line.pk]),
    R("api:document-list", "GET", "api_read"),
    R(
        "api:document-list",
        "POST",
        "api_attach_to_visible",
        ok=201,
        data=lambda w: {"opportunity": w.deal.pk, "file": ContentFile(PDF, name="api.pdf")},
    ),
    R("api:document-detail", "GET", "api_view", args=lambda w: [w.document.pk]),
    R("api:document-detail", "DELETE", "api_edit", ok=204, args=lambda w: [w.document.pk]),
    R("api:document-download", "GET", "api_view", args=lambda w: [w.document.pk]),
    R("api:activity-list", "GET", "api_read"),
    R(
        "api:activity-list",
        "POST",
        "api_create",
        ok=201,
        json=True,
        data=lambda w: {
            "kind": "call",
            "subject": "API",
            "due_at": (timezone.now() + datetime.timedelta(days=1)).isoformat(),
        },
    ),
    R("api:activity-detail", "GET", "api_view", args=lambda w: [w.activity.pk]),
    R(
        "api:activity-detail",
        "PUT",
        "api_edit",
        args=lambda w: [w.activity.pk],
        json=True,
        data=lambda w: _activity_body(w, subject="PUT"),
    ),
    R(
        "api:activity-detail",
        "PATCH",
        "api_edit",
        args=lambda w: [w.activity.pk],
        json=True,
        data=lambda w: {"subject": "PATCH"},
    ),
    R("api:activity-detail", "DELETE", "api_edit", ok=204, args=lambda w: [w.activity.pk]),
    R("api:product-list", "GET", "api_read"),
    R(
        "api:product-list",
        "POST",
        "api_catalog",
        ok=201,
        json=True,
        data=lambda w: {"name": "API", "code": "API-1", "unit_price": "1.00"},
    ),
    R("api:product-detail", "GET", "api_read", args=lambda w: [w.product.pk]),
    R(
        "api:product-detail",
        "PUT",
        "api_catalog",
        args=lambda w: [w.product.pk],
        json=True,
        data=lambda w: _product_body(w, name="PUT"),
    ),
    R(
        "api:product-detail",
        "PATCH",
        "api_catalog",
        args=lambda w: [w.product.pk],
        json=True,
        data=lambda w: {"name": "PATCH"},
    ),
    R("api:product-detail", "DELETE", "api_catalog", ok=204, args=lambda w: [w.product.pk]),
    # --- API: configuration and directory (read only for everyone signed in)
    R("api:pipeline-list", "GET", "api_read"),
    R("api:pipeline-detail", "GET", "api_read", args=lambda w: [w.pipeline.pk]),
    R("api:pipeline-summary", "GET", "api_read", args=lambda w: [w.pipeline.pk]),
    R("api:stage-list", "GET", "api_read"),
    R("api:stage-detail", "GET", "api_read", args=lambda w: [w.stages["New"].pk]),
    R("api:lost-reason-list", "GET", "api_read"),
    R("api:lost-reason-detail", "GET", "api_read", args=lambda w: [w.lost_reason.pk]),
    R("api:user-list", "GET", "api_read"),
    R("api:user-detail", "GET", "api_read", args=lambda w: [w.users["rep"].pk]),
    R("api:team-list", "GET", "api_read"),
    R("api:team-detail", "GET", "api_read", args=lambda w: [w.nord.pk]),
    # --- API: imports (one's own jobs; an admin sees every job)
    R("api:import-list", "GET", "api_read"),
    R("api:import-list", "POST", "api_create", ok=201, data=lambda w: _import_upload()),
    R("api:import-detail", "GET", "api_import_read", args=lambda w: [w.job.pk]),
    R(
        "api:import-mapping",
        "PUT",
        "api_import_write",
        args=lambda w: [w.job.pk],
        json=True,
        data=lambda w: {"columns": {"name": "Name", "city": "City"}},
    ),
    R(
        "api:import-values",
        "PUT",
        "api_import_write",
        args=lambda w: [w.job.pk],
        json=True,
        data=lambda w: {"values": {}},
    ),
    R("api:import-preview", "GET", "api_import_read", args=lambda w: [w.job.pk]),
    R("api:import-run", "POST", "api_import_write", ok=202, args=lambda w: [w.job.pk], json=True),
    R("api:import-result", "GET", "api_import_read", args=lambda w: [w.job.pk]),
    R("api:import-mapping-list", "GET", "api_read"),
    # --- API: webhooks (one's own)
    R("api:webhook-list", "GET", "api_read"),
    R(
        "api:webhook-list",
        "POST",
        "api_create",
        ok=201,
        json=True,
        data=lambda w: {"target_url": "https://hooks.example.com/x", "secret": "x" * 20, "events": ["opportunity.won"]},
    ),
    R("api:webhook-detail", "GET", "api_own_read", args=lambda w: [w.webhook.pk]),
    R(
        "api:webhook-detail",
        "PUT",
        "api_own_write",
        args=lambda w: [w.webhook.pk],
        json=True,
        data=lambda w: {"target_url": "https://hooks.example.com/y", "secret": "y" * 20, "events": ["opportunity.won"]},
    ),
    R(
        "api:webhook-detail",
        "PATCH",
        "api_own_write",
        args=lambda w: [w.webhook.pk],
        json=True,
        data=lambda w: {"active": False},
    ),
    R("api:webhook-detail", "DELETE", "api_own_write", ok=204, args=lambda w: [w.webhook.pk]),
    R("api:webhook-deliveries", "GET", "api_own_read", args=lambda w: [w.webhook.pk]),
    R("api:webhook-rotate-secret", "POST", "api_own_write", args=lambda w: [w.webhook.pk]),
    R(
        "api:webhook-redeliver",
        "POST",
        "api_own_write",
        ok=202,
        args=lambda w: [w.webhook.pk, w.failed_delivery.pk],
    ),
    # --- API: reports
    R("reports-api:won_lost", "GET", "api_read"),
    R("reports-api:funnel", "GET", "api_read"),
    R("reports-api:forecast", "GET", "api_read"),
    R("reports-api:lost_deals", "GET", "api_read"),
    # --- manager analytics: every signed-in user reads (what they see); targets are set by managers
    *[R(f"analytics:{name}", "GET", "login") for name in ("targets", "stages", "velocity", "cohorts", "accuracy")],
    *[
        R(f"analytics-api:{name}", "GET", "api_read")
        for name in ("targets", "stages", "velocity", "cohorts", "accuracy")
    ],
    R(
        "analytics:target_set",
        "POST",
        "targets_set",
        ok=302,
        data=lambda w: {
            "owner": w.users["rep"].pk,
            "period_kind": "month",
            "day": timezone.localdate().isoformat(),
            "metric": "won_count",
            "value": "3",
        },
    ),
    R("analytics:target_delete", "POST", "webforms_object", ok=302, args=lambda w: [w.target.pk]),
    R("analytics:subscriptions", "GET", "login"),
    R("analytics:subscription_delete", "POST", "own_manager", ok=302, args=lambda w: [w.subscription.pk]),
    # --- custom fields (settings: administrators)
    R("customfields:list", "GET", "admin_only"),
    R("customfields:create", "GET", "admin_only"),
    R("customfields:edit", "GET", "admin_only", args=lambda w: [w.custom_field.pk]),
    R("customfields:archive", "POST", "admin_only", ok=302, args=lambda w: [w.custom_field.pk]),
    R("api:custom-field-list", "GET", "api_read"),
    R("api:custom-field-detail", "GET", "api_read", args=lambda w: [w.custom_field.pk]),
    # --- bulk changes (a job is its author's)
    R("bulk:confirm", "POST", "login", args=["deal"], data=lambda w: {"action": "archive", "ids": [w.deal.pk]}),
    R("bulk:apply", "POST", "login", ok=302, args=["deal"], data=lambda w: {"action": "archive", "ids": [w.deal.pk]}),
    R("bulk:job", "GET", "own", args=lambda w: [w.bulk_job.pk]),
    R("bulk:progress", "GET", "own", args=lambda w: [w.bulk_job.pk]),
    R("api:bulk-job-list", "GET", "api_read"),
    R(
        "api:bulk-job-list",
        "POST",
        "api_create",
        ok=201,
        json=True,
        data=lambda w: {"kind": "organization", "action": "archive", "ids": [w.own_organization()]},
    ),
    R("api:bulk-job-detail", "GET", "api_own_read", args=lambda w: [w.bulk_job.pk]),
    # --- saved views (a private view is its owner's)
    R("savedviews:menu", "GET", "login", data=lambda w: {"path": "/opportunities/"}),
    R(
        "savedviews:save",
        "POST",
        "login",
        ok=302,
        data=lambda w: {"name": "Nuova vista", "path": "/opportunities/", "query": "q=b"},
    ),
    R("savedviews:open", "GET", "own", ok=302, args=lambda w: [w.saved_view.pk]),
    R("savedviews:delete", "POST", "own", ok=302, args=lambda w: [w.saved_view.pk]),
    R("savedviews:default", "POST", "own", ok=302, args=lambda w: [w.saved_view.pk]),
    R("api:saved-view-list", "GET", "api_read"),
    R("api:saved-view-detail", "GET", "api_own_read", args=lambda w: [w.saved_view.pk]),
    # --- duplicates and merges
    R("dedupe:list", "GET", "login"),
    R(
        "dedupe:merge",
        "GET",
        "merge_choice",
        data=lambda w: {"kind": "contact", "ids": f"{w.contact.pk},{w.duplicate.pk}"},
    ),
    R("api:duplicates", "GET", "api_read", query="?kind=contact"),
    R(
        "api:merge",
        "POST",
        "api_attach",
        ok=201,
        json=True,
        data=lambda w: {"kind": "contact", "survivor": w.contact.pk, "merged": [w.duplicate.pk]},
    ),
    # --- privacy (consents and exports on a contact one sees; the register and erasure: admins)
    R("privacy:register", "GET", "admin_only"),
    R(
        "privacy:consent_add",
        "POST",
        "edit",
        ok=302,
        args=_contact,
        data=lambda w: {"purpose": "newsletter", "given": "1", "method": "manual"},
    ),
    R("privacy:contact_export", "GET", "view", args=_contact),
    R("privacy:contact_erase", "POST", "purge", ok=302, args=_contact, data=lambda w: {"confirm": "1"}),
    R("api:contact-consents", "GET", "api_view", args=_contact),
    # legal hold: administrators and the managers who may change the contact (as restoring)
    R("privacy:legal_hold", "GET", "restore", args=_contact),
    R("privacy:legal_hold", "POST", "restore", ok=302, args=_contact, data=lambda w: {"reason": "Contenzioso"}),
    R("api:contact-legal-hold", "GET", "api_view", args=_contact),
    R(
        "api:contact-legal-hold",
        "PUT",
        "api_restore",
        json=True,
        args=_contact,
        data=lambda w: {"reason": "Contenzioso"},
    ),
    R("api:contact-legal-hold", "DELETE", "api_restore", ok=204, args=_contact),
    R("api:contact-export", "GET", "api_view", args=_contact),
    R("api:contact-erase", "POST", "api_purge", json=True, args=_contact, data=lambda w: {}),
    # --- e-mail (mailboxes are their owner's; templates are managed by admins; an e-mail is seen
    # with the deal it is linked to)
    R("mail:mailbox_list", "GET", "login"),
    R("mail:mailbox_edit", "GET", "own_or_admin", args=lambda w: [w.mailbox.pk]),
    R("mail:mailbox_test", "POST", "own_or_admin", ok=302, args=lambda w: [w.mailbox.pk]),
    R("mail:mailbox_poll", "POST", "own_or_admin", ok=302, args=lambda w: [w.mailbox.pk]),
    R("mail:mailbox_delete", "POST", "own_or_admin", ok=302, args=lambda w: [w.mailbox.pk]),
    R("mail:unlinked", "GET", "login"),
    R("mail:templates", "GET", "login"),
    R("mail:template_edit", "GET", "login", args=lambda w: [w.mail_template.pk]),
    R("mail:template_delete", "POST", "webforms", ok=302, args=lambda w: [w.mail_template.pk]),
    R("mail:detail", "GET", "view", args=lambda w: [w.email.pk]),
    R("mail:link", "POST", "view", ok=302, args=lambda w: [w.email.pk], data=lambda w: {"opportunity": w.deal.pk}),
    R("mail:dismiss", "POST", "view", ok=302, args=lambda w: [w.email.pk]),
    R("mail:retry", "POST", "own_or_admin", ok=302, args=lambda w: [w.failed_email.pk]),  # its sender's
    R("mail:record_threads", "GET", "view", args=lambda w: ["opportunity", w.deal.pk]),
    R("mail:compose", "GET", "view", args=lambda w: ["opportunity", w.deal.pk]),
    R("api:email-list", "GET", "api_read"),
    R("api:email-detail", "GET", "api_view", args=lambda w: [w.email.pk]),
    R("api:email-thread-list", "GET", "api_read"),
    # --- search and tags
    R("search:page", "GET", "login", data=lambda w: {"q": "Confid"}),
    R("search:suggest", "GET", "login", data=lambda w: {"q": "Confid"}),
    R(
        "tags:record_add",
        "POST",
        "edit",
        ok=302,
        args=lambda w: ["opportunities", w.deal.pk],
        data=lambda w: {"name": "Caldo"},
    ),
    R("tags:record_remove", "POST", "edit", ok=302, args=lambda w: ["opportunities", w.deal.pk, w.tag.pk]),
    R("api:tag-list", "GET", "api_read"),
    R("api:tag-list", "POST", "api_create", ok=201, json=True, data=lambda w: {"name": "Nuovo tag"}),
    R("api:tag-detail", "GET", "api_read", args=lambda w: [w.tag.pk]),
    R(
        "api:tag-add",
        "POST",
        "api_create",  # a change of many records: 200, those one may not change come back in "refused"
        ok=200,
        args=lambda w: [w.tag.pk],
        json=True,
        data=lambda w: {"kind": "opportunities", "ids": [w.deal.pk]},
    ),
    R(
        "api:tag-remove",
        "POST",
        "api_create",  # a change of many records: 200, those one may not change come back in "refused"
        ok=200,
        args=lambda w: [w.tag.pk],
        json=True,
        data=lambda w: {"kind": "opportunities", "ids": [w.deal.pk]},
    ),
    # --- notes (on a record one sees; changed by their author)
    R("notes:add", "POST", "view", ok=302, args=lambda w: ["opportunity", w.deal.pk], data=lambda w: {"body": "Ciao"}),
    R("notes:mentions", "GET", "view", args=lambda w: ["opportunity", w.deal.pk], data=lambda w: {"q": "r"}),
    R("notes:edit", "POST", "own", ok=302, args=lambda w: [w.note.pk], data=lambda w: {"body": "Modificata"}),
    R("notes:pin", "POST", "edit", ok=302, args=lambda w: [w.note.pk], data=lambda w: {"pinned": "1"}),
    R("notes:delete", "POST", "own", ok=302, args=lambda w: [w.note.pk]),
    R("api:note-list", "GET", "api_read"),
    R(
        "api:note-list",
        "POST",
        "api_attach_to_visible",
        ok=201,
        json=True,
        data=lambda w: {"opportunity": w.deal.pk, "body": "Via API"},
    ),
    R("api:note-detail", "GET", "api_view", args=lambda w: [w.note.pk]),
    R("api:note-detail", "PUT", "api_author", args=lambda w: [w.note.pk], json=True, data=lambda w: {"body": "PUT"}),
    R("api:note-detail", "PATCH", "api_author", args=lambda w: [w.note.pk], json=True, data=lambda w: {"body": "P"}),
    R("api:note-detail", "DELETE", "api_author", ok=204, args=lambda w: [w.note.pk]),
    # --- notifications (one's own)
    R("notifications:list", "GET", "login"),
    R("notifications:unread", "GET", "login"),
    R("notifications:read", "POST", "own", ok=302, args=lambda w: [w.notification.pk]),
    R("notifications:read_all", "POST", "login", ok=302),
    R("notifications:preferences", "GET", "login"),
    # --- automation rules: managers (their teams' rules) and admins
    R("automations:list", "GET", "webforms"),
    R("automations:create", "GET", "webforms"),
    R("automations:edit", "GET", "webforms_object", args=lambda w: [w.rule.pk]),
    R("automations:preview", "GET", "webforms_object", args=lambda w: [w.rule.pk]),
    R("automations:toggle", "POST", "webforms_object", ok=302, args=lambda w: [w.rule.pk]),
]


def _client(world, actor) -> Client:
    client = Client()
    if actor == "token":
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.token}"
    elif actor != "anonymous":
        client.force_login(world.users[actor])
    return client


def _request(client, route, world):
    url = route.url(world)
    data = route.data(world) if route.data else None
    method = getattr(client, route.method.lower())
    if route.json:
        return method(url, data if data is not None else {}, content_type="application/json", **route.headers)
    if route.method in ("GET", "POST"):
        return method(url, data or {}, **route.headers)
    return method(url, **route.headers)


def _expected(route, actor):
    outcome = KINDS[route.kind][actor]
    if route.name == "login" and actor not in ("anonymous", "token"):
        return 302  # already signed in: sent on to the home page
    if route.name == "logout" or route.name == "set_language":
        return 302
    return route.ok if outcome == OK else outcome


def _matches(response, expected) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(reverse("login"))
    return response.status_code == expected


def _body(response) -> str:
    if "pdf" in response.get("Content-Type", ""):
        return ""
    if getattr(response, "streaming", False):  # CSV exports, downloads
        if not hasattr(response, "_read_body"):
            response._read_body = b"".join(response.streaming_content)
        return response._read_body.decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _check(route, world, actors=ACTORS):
    problems = []
    for actor in actors:
        world.actor = actor
        cache.clear()  # rate limits and login lock-outs are not what this test is about
        events_before = OutboxEvent.objects.count()
        with transaction.atomic():
            response = _request(_client(world, actor), route, world)
            expected = _expected(route, actor)
            events_written = OutboxEvent.objects.count() - events_before
            transaction.set_rollback(True)  # every caller starts from the same records
        if not _matches(response, expected):
            location = f" → {response['Location']}" if response.has_header("Location") else ""
            detail = _body(response)[:200].replace("\n", " ") if response.status_code >= 400 else ""
            problems.append(f"{actor}: expected {expected}, got {response.status_code}{location} {detail}")
        elif expected != route.ok and route.method != "GET" and events_written:
            problems.append(f"{actor}: refused with {response.status_code} but wrote {events_written} outbox event(s)")
        if actor in OTHER_TEAM and route.name != "calendar:feed":
            leaked = [m for m in MARKERS if m in _body(response)]
            if leaked:
                problems.append(f"{actor}: the response shows Nord's records: {leaked}")
    return problems


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_permission_matrix(world, route):
    problems = _check(route, world)
    assert not problems, f"{route} ({route.kind}):\n" + "\n".join(problems)


def _url_patterns(patterns=None, namespace=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from _url_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield ":".join(filter(None, [namespace, pattern.name])), pattern


def test_every_route_is_in_the_matrix():
    """Every named URL pattern, and every method of every API endpoint, has a row in ROUTES."""
    covered = {(r.name, r.method) for r in ROUTES}
    covered_names = {r.name for r in ROUTES}
    missing, unnamed = set(), []
    for name, pattern in _url_patterns():
        if name.startswith("admin") or name == "":
            if not name.startswith("admin"):
                unnamed.append(str(pattern.pattern))
            continue
        actions = getattr(pattern.callback, "actions", None)
        if actions:  # a DRF viewset route: each method is its own row
            methods = {m.upper() for m in actions} - {"HEAD", "OPTIONS"}
            missing |= {(name, m) for m in methods if (name, m) not in covered}
        elif name not in covered_names:
            missing.add((name, "*"))
    assert not unnamed, f"URL patterns without a name cannot be checked: {unnamed}"
    assert not missing, "Routes missing from the permission matrix (add them to ROUTES): " + ", ".join(
        f"{m} {n}" for n, m in sorted(missing)
    )
    known = {name for name, _pattern in _url_patterns()}
    stale = covered_names - known
    assert not stale, f"ROUTES lists URL names that no longer exist: {sorted(stale)}"


def test_the_admin_site_is_for_staff_only(world):
    """The Django admin (every route under /admin/) answers only staff; the CRM's own roles do not
    open it."""
    for actor in ACTORS:
        response = _client(world, actor).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], actor
    staff = UserFactory(username="staff", role=User.Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_every_state_change_needs_the_csrf_token(world):
    """A signed-in browser session cannot be made to post from another site: every POST, PUT,
    PATCH and DELETE of the matrix without the CSRF token is refused with 403."""
    problems = []
    for route in ROUTES:
        if route.method == "GET" or route.kind == "public" and route.name.startswith("api:"):
            continue
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.users["admin"] if route.kind != "own" else world.users["rep"])
        with transaction.atomic():
            response = _request(client, route, world)
            transaction.set_rollback(True)
        if response.status_code != 403:
            problems.append(f"{route}: {response.status_code}")
    assert not problems, "State changes accepted without a CSRF token:\n" + "\n".join(problems)


def test_the_markers_do_show_to_the_team_so_their_absence_means_something(world):
    """The leak check above looks for these names and this amount; the Nord team does see them on
    the board (totals), the lists, the forecast report and the API."""
    client = _client(world, "rep")
    for url, markers in [
        (reverse("pipeline:board"), ["Confidenziale", "7,654,321"]),
        (reverse("opportunities:list"), ["Confidenziale", "Nordsegreto"]),
        (reverse("contacts:contact_list"), ["Riservatissima"]),
        (reverse("reports:forecast"), ["7,654,321"]),
        ("/api/v1/opportunities/", ["Confidenziale", "7654321"]),
        (reverse("opportunities:list") + "?export=csv", ["Confidenziale", "Nordsegreto"]),
    ]:
        body = _body(client.get(url))
        assert all(marker in body for marker in markers), (url, markers)


# --- Owners one may assign, and what an import may match (security review, findings 3 and 5) ---
# Each caller creates a deal, an organization, a contact and an activity through the API, giving
# it to themselves, to a member of their team, or to a user of the other team. A rep keeps what
# they make; a manager gives to their teams; an admin to anyone (README, "Who sees what").
# ("teammate" is a member of the caller's team: for an admin, who has none, Nord's rep.)
OWNER_TARGETS = {
    "rep": {"self": "rep", "teammate": "teammate", "other_team": "other_rep"},
    "teammate": {"self": "teammate", "teammate": "rep", "other_team": "other_rep"},
    "manager": {"self": "manager", "teammate": "rep", "other_team": "other_rep"},
    "other_rep": {"self": "other_rep", "teammate": "other_manager", "other_team": "rep"},
    "other_manager": {"self": "other_manager", "teammate": "other_rep", "other_team": "teammate"},
    "admin": {"self": "admin", "teammate": "rep", "other_team": "other_rep"},
}
OWNER_OUTCOMES = {  # caller → (self, teammate, other_team)
    "rep": (201, 400, 400),
    "teammate": (201, 400, 400),
    "manager": (201, 201, 400),
    "other_rep": (201, 400, 400),
    "other_manager": (201, 201, 400),
    "admin": (201, 201, 201),
}
OWNER_BODIES = {
    "opportunities": lambda w: {"name": "Assegnata", "organization": w.own_organization()},
    "organizations": lambda w: {"name": "Assegnata S.r.l."},
    "contacts": lambda w: {"first_name": "Assegnato", "last_name": "Rossi"},
    "activities": lambda w: {
        "kind": "call",
        "subject": "Assegnata",
        "due_at": (timezone.now() + datetime.timedelta(days=1)).isoformat(),
    },
}


@pytest.mark.parametrize("resource", list(OWNER_BODIES))
def test_owners_one_may_assign_through_the_api(world, resource):
    problems = []
    for actor, expected in OWNER_OUTCOMES.items():
        for target, status in zip(("self", "teammate", "other_team"), expected, strict=True):
            world.actor = actor
            owner = world.users[OWNER_TARGETS[actor][target]]
            with transaction.atomic():
                before = OutboxEvent.objects.count()
                body = {**OWNER_BODIES[resource](world), "owner": owner.pk}
                response = _client(world, actor).post(f"/api/v1/{resource}/", body, content_type="application/json")
                written = OutboxEvent.objects.count() - before
                transaction.set_rollback(True)
            if response.status_code != status:
                problems.append(f"{actor} → {target}: expected {status}, got {response.status_code}")
            elif status == 400 and ("owner" not in response.json()["error"].get("fields", {}) or written):
                problems.append(f"{actor} → {target}: the 400 must name owner and write nothing")
    assert not problems, f"{resource}:\n" + "\n".join(problems)


# An import as each caller of rows naming Nord's organization, its contact's e-mail, and a deal for
# that organization (a dry run: the preview). Matching only considers records the caller sees: one
# they do not see is "not found" (created anew, theirs) — exactly as if it did not exist — and one
# they see but may not change is refused. What the deal row is linked to is what the caller sees.
IMPORT_MATCHING = {  # caller → (organization row, contact row, deal row linked to Nord's organization?)
    "rep": ("updated", "updated", True),
    "teammate": ("rejected", "rejected", True),
    "manager": ("updated", "updated", True),
    "other_rep": ("created", "created", False),
    "other_manager": ("created", "created", False),
    "admin": ("updated", "updated", True),
}


def test_import_matching_sees_what_the_importer_sees(world):
    from imports.readers import read_table
    from imports.services import import_rows

    def rows(kind, header, row, user, mapping):
        text = (",".join(header) + "\n" + ",".join(row) + "\n").encode()
        table = read_table(text, "f.csv")
        with transaction.atomic():  # import_rows's dry run rolls back; this keeps the world as it was
            result = import_rows(kind=kind, table=table, mapping=mapping, user=user, dry_run=True)
            transaction.set_rollback(True)
        return result.outcomes[0]

    problems = []
    for actor, (org_action, contact_action, linked) in IMPORT_MATCHING.items():
        user = world.users[actor]
        org = rows(
            "organization", ["Name", "City"], ["NORDSEGRETO  S.p.A.", "Pisa"], user, {"name": "Name", "city": "City"}
        )
        contact = rows(
            "contact",
            ["Last name", "E-mail", "Job title"],
            ["Riservatissima", world.contact.email.upper(), "CFO"],
            user,
            {"last_name": "Last name", "email": "E-mail", "job_title": "Job title"},
        )
        with transaction.atomic():
            from imports.importers import OpportunityImporter

            deal = OpportunityImporter(user=user).save({"name": "Importata", "organization": "Nordsegreto S.p.A."})[1]
            transaction.set_rollback(True)
        got = (org.action, contact.action, deal.organization_id == world.org.pk)
        if got != (org_action, contact_action, linked):
            problems.append(f"{actor}: expected {(org_action, contact_action, linked)}, got {got}")
    assert not problems, "\n".join(problems)


# --- Webhooks: whose subscription hears about a Nord rep's write -------------------------------------
# A subscription receives an event only if its owner may see the record (the same visible_to as every
# page). Each topic is triggered by a Nord rep through the API; each caller has subscribed to every
# topic on a real HTTP receiver; the outbox is drained and the deliveries sent as the worker does.

WEBHOOK_CALLERS = ("author", "teammate", "other_rep", "manager", "other_manager", "admin", "no_team")
_NORD_AND_ADMIN = frozenset({"author", "teammate", "manager", "admin"})
WEBHOOK_RECEIVES = {  # topic -> the callers whose subscription receives it
    "opportunity.created": _NORD_AND_ADMIN,
    "opportunity.updated": _NORD_AND_ADMIN,
    "opportunity.stage_changed": _NORD_AND_ADMIN,
    "opportunity.won": _NORD_AND_ADMIN,
    "opportunity.lost": _NORD_AND_ADMIN,
    "organization.created": _NORD_AND_ADMIN,
    "organization.updated": _NORD_AND_ADMIN,
    "contact.created": _NORD_AND_ADMIN,
    "contact.updated": _NORD_AND_ADMIN,
}


def _webhook_write(api, topic, records, stages, lost_reason):
    """Make the write that emits ``topic``, through the API, as the Nord rep."""
    deal, org, contact = records["deal"], records["org"], records["contact"]
    move = f"/api/v1/opportunities/{deal.pk}/move/"
    requests = {
        "opportunity.created": lambda: api.post(
            "/api/v1/opportunities/",
            {"name": "Webhook nuova", "organization": org.pk, "stage": stages["New"].pk},
            format="json",
        ),
        "opportunity.updated": lambda: api.patch(
            f"/api/v1/opportunities/{deal.pk}/", {"name": "Webhook rinominata"}, format="json"
        ),
        "opportunity.stage_changed": lambda: api.post(move, {"stage": stages["Qualifying"].pk}, format="json"),
        "opportunity.won": lambda: api.post(move, {"stage": stages["Won"].pk}, format="json"),
        "opportunity.lost": lambda: api.post(
            move, {"stage": stages["Lost"].pk, "lost_reason": lost_reason.pk}, format="json"
        ),
        "organization.created": lambda: api.post("/api/v1/organizations/", {"name": "Webhook Srl"}, format="json"),
        "organization.updated": lambda: api.patch(
            f"/api/v1/organizations/{org.pk}/", {"city": "Bolzano"}, format="json"
        ),
        "contact.created": lambda: api.post(
            "/api/v1/contacts/", {"first_name": "Ada", "last_name": "Webhook", "organization": org.pk}, format="json"
        ),
        "contact.updated": lambda: api.patch(f"/api/v1/contacts/{contact.pk}/", {"first_name": "Ida"}, format="json"),
    }
    response = requests[topic]()
    assert response.status_code in (200, 201), (topic, response.content)


@pytest.mark.parametrize("topic", sorted(WEBHOOK_RECEIVES))
def test_webhook_subscriptions_receive_only_what_their_owner_may_see(topic, settings, stages, lost_reason):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from rest_framework.test import APIClient

    from core.tasks import outbox_dispatch
    from integrations.tasks import webhook_deliveries_send

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path.strip("/"), self.headers["X-CRM-Event"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        nord, sud = TeamFactory(name="WH Nord"), TeamFactory(name="WH Centro-Sud")
        users = {
            "author": UserFactory(username="wh_author", team=nord),
            "teammate": UserFactory(username="wh_teammate", team=nord),
            "other_rep": UserFactory(username="wh_other_rep", team=sud),
            "manager": UserFactory(username="wh_manager", role=User.Role.MANAGER, team=nord),
            "other_manager": UserFactory(username="wh_other_manager", role=User.Role.MANAGER, team=sud),
            "admin": UserFactory(username="wh_admin", role=User.Role.ADMIN),
            "no_team": UserFactory(username="wh_no_team"),
        }
        nord.manager, sud.manager = users["manager"], users["other_manager"]
        nord.save()
        sud.save()
        author = users["author"]
        org = OrganizationFactory(owner=author, name="WH Nordsegreto")
        records = {
            "org": org,
            "contact": ContactFactory(owner=author, organization=org),
            "deal": OpportunityFactory(owner=author, organization=org, stage=stages["New"]),
        }
        for caller, user in users.items():
            webhook_create(
                user=user,
                target_url=f"http://127.0.0.1:{server.server_port}/{caller}",
                secret="s" * 20,
                events=sorted(WEBHOOK_RECEIVES),
            )
        api = APIClient()
        api.force_authenticate(author)
        _webhook_write(api, topic, records, stages, lost_reason)
        outbox_dispatch()
        webhook_deliveries_send()
    finally:
        server.shutdown()
        server.server_close()

    heard = {caller for caller, event in received if event == topic}
    assert heard == WEBHOOK_RECEIVES[topic], {c: c in heard for c in WEBHOOK_CALLERS}
