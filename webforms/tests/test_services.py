import pytest

from accounts.tests.factories import UserFactory
from contacts.models import Contact, Organization
from contacts.tests.factories import ContactFactory, OrganizationFactory
from core.exceptions import ValidationError
from core.models import OutboxEvent
from opportunities.models import Opportunity
from webforms.models import Submission, WebForm
from webforms.services import (
    SubmissionReplayed,
    Visit,
    assignee_pick,
    submission_accept,
    submission_receive,
    submission_reject,
    webform_save,
)
from webforms.tests.factories import WebFormFactory

pytestmark = pytest.mark.django_db

FIELDS = {"name": "Mario Rossi", "email": "Mario.Rossi@Example.com", "company": "Rossi Srl", "message": "Ciao"}


def receive(webform, fields=None, **visit):
    return submission_receive(webform=webform, fields=dict(fields or FIELDS), visit=Visit(**visit))


def test_a_submission_creates_contact_organization_and_deal_in_the_first_stage(webform, rep, stages):
    submission = receive(webform, utm={"campaign": "spring", "source": "google"}, ip="10.0.0.1", nonce="n1")
    deal = submission.opportunity
    assert submission.status == Submission.Status.ACCEPTED
    assert deal.stage == stages["New"] and deal.owner == rep
    assert deal.name == "Rossi Srl – Mario Rossi"
    assert deal.lead_source == "website" and deal.utm_campaign == "spring" and deal.lead_form == webform.pk
    assert deal.description == "Ciao"
    assert deal.contact.first_name == "Mario" and deal.contact.last_name == "Rossi"
    assert deal.contact.organization == deal.organization and deal.organization.name == "Rossi Srl"
    assert submission.utm_source == "google" and submission.ip == "10.0.0.1"
    assert deal.stage_changes.count() == 1  # entered through the stage service


def test_deal_created_event_carries_the_form(webform):
    receive(webform)
    event = OutboxEvent.objects.filter(topic="opportunity.created").latest("pk")
    assert event.payload["form"] == {"id": webform.pk, "name": "Contatti", "slug": "contatti"}


def test_same_email_in_other_case_reuses_the_contact(webform):
    first = receive(webform)
    second = receive(webform, {**FIELDS, "email": "mario.rossi@EXAMPLE.com", "message": "di nuovo"})
    assert second.contact == first.contact
    assert Contact.objects.count() == 1 and Opportunity.objects.count() == 2


def test_organization_found_by_vat_with_or_without_it_prefix(webform):
    org = OrganizationFactory(name="Bianchi SpA", vat_number="76543210157")
    submission = receive(webform, {**FIELDS, "company": "Altro nome", "vat_number": "IT 765.432.101-57"})
    assert submission.organization == org
    assert Organization.objects.count() == 1


def test_organization_found_by_normalised_name(webform):
    org = OrganizationFactory(name="Rossi Srl")
    submission = receive(webform, {**FIELDS, "company": "  rossi   SRL "})
    assert submission.organization == org


def test_organization_found_by_the_duplicate_detections_name_key(webform):
    """The web form matches companies as the dedupe app does: case, dots and legal form ignored."""
    org = OrganizationFactory(name="Ferri S.r.l.")
    submission = receive(webform, {**FIELDS, "company": "FERRI SRL"})
    assert submission.organization == org and submission.opportunity.organization == org
    assert Organization.objects.count() == 1


def test_two_spellings_of_a_new_company_make_one_organization(webform):
    first = receive(webform, {**FIELDS, "company": "Caffè Ferri & Figli S.p.A."})
    second = receive(webform, {**FIELDS, "email": "anna@ferri.example", "company": "CAFFE FERRI E FIGLI SPA"})
    assert first.organization == second.organization
    assert Organization.objects.count() == 1
    assert first.organization.name == "Caffè Ferri & Figli S.p.A."  # kept as first typed


def test_organization_found_by_its_fiscal_code(webform):
    """A company's 11-digit fiscal code is its partita IVA: typed as the VAT number, it matches."""
    org = OrganizationFactory(name="Ferri Spa", vat_number="", fiscal_code="76543210157")
    submission = receive(webform, {**FIELDS, "company": "Altro", "vat_number": "IT76543210157"})
    assert submission.organization == org


def test_same_name_with_another_vat_number_is_another_company(webform):
    OrganizationFactory(name="Ferri S.r.l.", vat_number="76543210157")
    submission = receive(webform, {**FIELDS, "company": "FERRI SRL", "vat_number": "12345670017"})
    assert submission.organization.vat_number == "12345670017"
    assert Organization.objects.count() == 2


def test_existing_contact_is_not_changed(webform):
    contact = ContactFactory(first_name="Maria", last_name="Verdi", email="mario.rossi@example.com")
    submission = receive(webform)
    contact.refresh_from_db()
    assert submission.contact == contact and contact.first_name == "Maria"
    # The deal is with the company the person is known to work for.
    assert submission.opportunity.organization == contact.organization


def test_suspicious_submission_goes_to_review_and_creates_nothing(webform):
    submission = submission_receive(webform=webform, fields=FIELDS, visit=Visit(), suspicions=["honeypot"])
    assert submission.status == Submission.Status.REVIEW and submission.opportunity is None
    assert not Opportunity.objects.exists() and not Contact.objects.exists()


def test_review_accept_makes_the_deal_and_reject_keeps_the_reason(webform, manager, rep):
    held = submission_receive(webform=webform, fields=FIELDS, visit=Visit(), suspicions=["too_fast"])
    accepted = submission_accept(user=manager, submission=held)
    assert accepted.status == Submission.Status.ACCEPTED and accepted.opportunity.owner == rep
    other = submission_receive(
        webform=webform, fields={**FIELDS, "email": "x@example.com"}, visit=Visit(), suspicions=["honeypot"]
    )
    with pytest.raises(ValidationError):
        submission_reject(user=manager, submission=other, reason=" ")
    rejected = submission_reject(user=manager, submission=other, reason="spam")
    assert rejected.status == Submission.Status.REJECTED and rejected.reject_reason == "spam"
    assert Opportunity.objects.count() == 1


def test_a_rep_cannot_review(webform, rep):
    from accounts.permissions import ChangeNotAllowed

    held = submission_receive(webform=webform, fields=FIELDS, visit=Visit(), suspicions=["honeypot"])
    with pytest.raises(ChangeNotAllowed):
        submission_accept(user=rep, submission=held)


def test_same_token_twice_is_a_replay_and_writes_nothing_more(webform):
    receive(webform, nonce="abc")
    with pytest.raises(SubmissionReplayed):
        receive(webform, {**FIELDS, "email": "other@example.com"}, nonce="abc")
    assert Submission.objects.count() == 1 and Contact.objects.count() == 1


def test_same_answers_without_token_twice_is_a_replay(webform):
    receive(webform)
    with pytest.raises(SubmissionReplayed):
        receive(webform)
    assert Opportunity.objects.count() == 1


def test_round_robin_spreads_30_submissions_10_10_10_and_skips_inactive(pipeline, manager, team):
    reps = [UserFactory(username=f"rr{i}", team=team) for i in range(3)]
    UserFactory(username="away", team=team, is_active=False)
    webform = WebFormFactory(owner=manager, assignment=WebForm.Assignment.ROUND_ROBIN, team=team)
    # The manager is a team member too: leave them out of the rotation by giving the team only reps.
    manager.team = None
    manager.save()
    for i in range(30):
        receive(webform, {**FIELDS, "email": f"lead{i}@example.com"})
    counts = {r.username: Opportunity.objects.filter(owner=r).count() for r in reps}
    assert counts == {"rr0": 10, "rr1": 10, "rr2": 10}


def test_fewest_open_deals_picks_the_least_busy(pipeline, manager, team, rep, teammate):
    from opportunities.tests.factories import OpportunityFactory

    manager.team = None
    manager.save()
    OpportunityFactory(owner=rep)
    webform = WebFormFactory(owner=manager, assignment=WebForm.Assignment.FEWEST_OPEN, team=team)
    assert assignee_pick(webform) == teammate


def test_inactive_fixed_assignee_falls_back_to_the_form_owner(webform, rep, manager):
    rep.is_active = False
    rep.save()
    webform.refresh_from_db()
    assert assignee_pick(webform) == manager


def test_webform_save_checks_the_caller_and_the_assignee(pipeline, manager, rep, other_rep):
    with pytest.raises(ValidationError) as exc:
        webform_save(
            user=manager,
            webform=WebForm(name="X", slug="x", pipeline=pipeline, assignee=other_rep, owner=manager),
        )
    assert "assignee" in exc.value.message_dict
    from accounts.permissions import ChangeNotAllowed

    with pytest.raises(ChangeNotAllowed):
        webform_save(user=rep, webform=WebForm(name="X", slug="x", pipeline=pipeline, assignee=rep, owner=rep))
    saved = webform_save(user=manager, webform=WebForm(name="X", slug="x", pipeline=pipeline, assignee=rep))
    assert saved.owner == manager


def test_invalid_vat_number_leaves_nothing_half_created(webform):
    # The view validates VAT numbers; a service given a bad one refuses before anything is written.
    with pytest.raises(ValidationError):
        receive(webform, {**FIELDS, "vat_number": "12345678901"})
    assert not Submission.objects.exists() and not Contact.objects.exists() and not Organization.objects.exists()


def test_organization_written_another_way_is_the_same_company(webform):
    """Duplicates are caught on the web form too: "ROSSI S.R.L." is the "Rossi Srl" already known
    (case, punctuation and legal form ignored, as dedupe's rules say)."""
    existing = OrganizationFactory(name="Rossi Srl")
    submission = receive(webform, {**FIELDS, "company": "ROSSI S.R.L."})
    assert submission.organization == existing
    assert Organization.objects.count() == 1
    other = receive(webform, {**FIELDS, "email": "luca@example.com", "company": "Bianchi & Figli S.p.A."})
    assert other.organization.name == "Bianchi & Figli S.p.A." and Organization.objects.count() == 2


def test_a_new_address_of_a_person_the_company_has_reuses_them_by_phone_or_name(webform):
    """Duplicates on the web-form path (issue 22): the e-mail is new, but the company already has
    this person, by phone (in any spelling) or by name (case and accents ignored)."""
    org = OrganizationFactory(name="Ferri S.r.l.")
    by_phone = ContactFactory(organization=org, first_name="Anna", last_name="Neri", phone="02 1234 5678", email="")
    by_name = ContactFactory(organization=org, first_name="Niccolò", last_name="Cianciolo", email="nc@ferri.example")
    contacts = Contact.objects.count()

    first = receive(
        webform,
        {
            **FIELDS,
            "name": "A. Neri",
            "email": "anna.neri@gmail.example",
            "company": "FERRI SRL",
            "phone": "+39 02 12345678",
        },
    )
    second = receive(
        webform, {**FIELDS, "name": "NICCOLO CIANCIOLO", "email": "niccolo@altro.example", "company": "Ferri srl"}
    )

    assert first.contact == by_phone and second.contact == by_name
    assert Contact.objects.count() == contacts
    assert first.opportunity.contact == by_phone and second.opportunity.organization == org


def test_the_same_phone_at_another_company_is_another_person(webform):
    """Without anyone to confirm it, a phone number is matched only within the company (a shared
    switchboard number elsewhere joins nobody)."""
    ContactFactory(organization=OrganizationFactory(name="Bianchi SpA"), phone="02 1234 5678", first_name="Anna")
    submission = receive(
        webform, {**FIELDS, "email": "new@verdi.example", "company": "Verdi Srl", "phone": "0212345678"}
    )
    assert submission.contact.organization.name == "Verdi Srl"
    assert Contact.objects.filter(phone__contains="1234").count() == 2
