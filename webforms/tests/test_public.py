"""The visitor's side: the hosted page, the plain HTML post, the JSON endpoint, spam and bad input."""

import json
import time

import pytest
from django.core import signing
from django.test import Client

from contacts.models import Contact, Organization
from opportunities.models import Opportunity
from webforms import tokens
from webforms.models import Submission
from webforms.tests.factories import WebFormFactory

pytestmark = pytest.mark.django_db

SITE = "http://shop.example.com"
GOOD = {"name": "Mario Rossi", "email": "mario@example.com", "company": "Rossi Srl", "message": "Vorrei un preventivo"}


@pytest.fixture
def webform(pipeline, manager, rep):
    return WebFormFactory(
        owner=manager,
        assignee=rep,
        slug="contatti",
        name="Contatti",
        allowed_origins=SITE,
        consent_text="Acconsento al trattamento dei dati",
        consent_version="v2",
    )


def url(form, suffix=""):
    return f"/f/{form.slug}/{suffix}"


def post(client, form, data, origin=SITE, **extra):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return client.post(url(form), data, **headers, **extra)


def test_hosted_page_works_without_javascript_and_may_be_framed_by_allowed_sites_only(client, webform):
    response = client.get(url(webform) + "?utm_campaign=spring", HTTP_ACCEPT_LANGUAGE="it")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<form method="post"' in html and "<script" not in html
    assert 'name="utm_campaign" value="spring"' in html
    assert "Acconsento al trattamento dei dati" in html and "Invia" in html
    csp = response["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {SITE}" in csp
    assert "X-Frame-Options" not in response


def test_plain_html_post_from_an_allowed_site_creates_the_deal(client, webform, rep, stages):
    response = post(client, webform, {**GOOD, "consent": "on", "utm_campaign": "spring", "utm_source": "newsletter"})
    assert response.status_code == 200, response.content
    assert b'data-testid="thanks"' in response.content
    deal = Opportunity.objects.get()
    assert deal.owner == rep and deal.stage == stages["New"] and deal.utm_campaign == "spring"
    submission = Submission.objects.get()
    assert submission.consent_given and submission.consent_version == "v2"
    assert submission.consent_text == "Acconsento al trattamento dei dati"
    # The contact's consents (privacy) keep the wording they ticked, how and when.
    (consent,) = submission.contact.consents.all()
    assert consent.given and consent.method == "web_form" and consent.text == "Acconsento al trattamento dei dati"
    assert consent.recorded_at == submission.created_at and "v2" in consent.source


def test_redirect_url_is_a_303(client, webform):
    webform.redirect_url = "https://shop.example.com/grazie"
    webform.save()
    response = post(client, webform, {**GOOD, "consent": "on"})
    assert response.status_code == 303 and response["Location"] == "https://shop.example.com/grazie"


def test_hosted_page_post_with_its_token(client, webform):
    token = tokens.token_make(webform.pk)
    response = post(client, webform, {**GOOD, "consent": "on", "token": token}, origin="http://testserver")
    assert response.status_code == 200 and Opportunity.objects.count() == 1
    # The same page sent again (back button, a replay): refused, nothing more written.
    again = post(client, webform, {**GOOD, "consent": "on", "token": token}, origin="http://testserver")
    assert again.status_code == 400 and b"already sent" in again.content
    assert Opportunity.objects.count() == 1 and Submission.objects.count() == 1


def test_wrong_origin_is_refused_and_gets_no_cors_headers(client, webform):
    response = post(client, webform, {**GOOD, "consent": "on"}, origin="http://evil.example.net")
    assert response.status_code == 403 and not Submission.objects.exists()
    response = client.post(
        url(webform, "submit.json"),
        json.dumps({**GOOD, "consent": True}),
        content_type="application/json",
        HTTP_ORIGIN="http://evil.example.net",
    )
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response
    preflight = client.options(url(webform, "submit.json"), HTTP_ORIGIN="http://evil.example.net")
    assert "Access-Control-Allow-Origin" not in preflight


def test_json_endpoint_answers_cors_for_the_allowed_origin(client, webform):
    preflight = client.options(url(webform, "submit.json"), HTTP_ORIGIN=SITE)
    assert preflight["Access-Control-Allow-Origin"] == SITE
    response = client.post(
        url(webform, "submit.json"),
        json.dumps({**GOOD, "consent": True, "utm_campaign": "fiera"}),
        content_type="application/json",
        HTTP_ORIGIN=SITE,
    )
    assert response.status_code == 201 and response["Access-Control-Allow-Origin"] == SITE
    assert Opportunity.objects.get().utm_campaign == "fiera"


def test_json_errors_name_the_field_in_the_forms_language(client, webform):
    webform.language = "it"
    webform.save()
    response = client.post(
        url(webform, "submit.json"),
        json.dumps({"name": "Mario", "email": "non-una-email", "vat_number": "123"}),
        content_type="application/json",
        HTTP_ORIGIN=SITE,
    )
    body = response.json()
    assert response.status_code == 400
    assert set(body["error"]["fields"]) == {"email", "vat_number", "consent"}
    assert "Inserisci un indirizzo email valido." in body["error"]["fields"]["email"]
    assert not Submission.objects.exists() and not Contact.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"name": {"nested": 1}}', ""])
def test_a_body_that_is_not_a_form_is_a_400(client, webform, body):
    response = client.post(url(webform, "submit.json"), body, content_type="application/json", HTTP_ORIGIN=SITE)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    response = client.post(url(webform), body, content_type="text/plain", HTTP_ORIGIN=SITE)
    assert response.status_code == 400


def test_missing_required_fields_and_100_kb_are_form_errors_in_the_browsers_language(client, webform):
    response = post(client, webform, {"message": "x" * 100_000}, HTTP_ACCEPT_LANGUAGE="it")
    html = response.content.decode()
    assert response.status_code in (400, 413)
    if response.status_code == 400:
        assert "Questo campo è obbligatorio." in html
        assert "Assicurati che questo valore" in html
    assert not Submission.objects.exists() and not Opportunity.objects.exists()


def test_invalid_vat_number_is_named(client, webform):
    webform.fields = {**webform.fields, "vat_number": {"shown": True, "required": True}}
    webform.save()
    response = post(client, webform, {**GOOD, "consent": "on", "vat_number": "IT12345678901"})
    assert response.status_code == 400 and b"partita IVA" in response.content or b"VAT" in response.content
    assert not Organization.objects.exists()


def test_nothing_tells_whether_the_contact_existed(client, webform):
    first = post(client, webform, {**GOOD, "consent": "on"})
    second = post(client, webform, {**GOOD, "consent": "on", "message": "altro"})
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert Contact.objects.count() == 1 and Opportunity.objects.count() == 2


def test_honeypot_goes_to_review_not_the_board(client, webform):
    response = post(client, webform, {**GOOD, "consent": "on", "website": "http://spam"})
    assert response.status_code == 200 and b"thanks" in response.content  # the bot learns nothing
    assert Submission.objects.get().status == "review" and not Opportunity.objects.exists()


def test_too_fast_goes_to_review(client, webform):
    webform.min_fill_seconds = 5
    webform.save()
    token = tokens.token_make(webform.pk)
    post(client, webform, {**GOOD, "consent": "on", "token": token}, origin="http://testserver")
    submission = Submission.objects.get()
    assert submission.status == "review" and "too_fast" in submission.suspicion
    # Slow enough: straight to the board.
    old = signing.dumps({"f": webform.pk, "t": time.time() - 60, "n": "slow"}, salt=tokens.SALT)
    post(client, webform, {**GOOD, "email": "b@example.com", "consent": "on", "token": old}, origin="http://testserver")
    assert Opportunity.objects.count() == 1


def test_over_the_rate_limit_goes_to_review(client, webform):
    for i in range(7):
        post(client, webform, {**GOOD, "email": f"p{i}@example.com", "consent": "on"})
    statuses = list(Submission.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["accepted"] * 5 + ["review"] * 2
    assert Opportunity.objects.count() == 5


def test_mail_domain_check(client, webform):
    webform.check_mail_domain = True
    webform.save()
    post(client, webform, {**GOOD, "email": "a@no-such-domain.invalid", "consent": "on"})
    assert Submission.objects.get().suspicion == "mail_domain"


def test_inactive_form_is_a_404(client, webform):
    webform.active = False
    webform.save()
    assert client.get(url(webform)).status_code == 404


def test_a_submission_takes_a_bounded_number_of_queries(webform, django_assert_max_num_queries):
    client = Client()
    # (80 before the consent was recorded on the contact: its savepoint, row and event take 3 more;
    # PostgreSQL one more for its advisory lock; one more to look for the person among the known
    # company's contacts when the e-mail is new)
    with django_assert_max_num_queries(86):
        post(client, webform, {**GOOD, "consent": "on", "message": "m" * 4000})
    with django_assert_max_num_queries(86):
        post(client, webform, {**GOOD, "email": "altro@example.com", "consent": "on", "message": "corto"})


def test_spam_never_reaches_the_board_and_is_listed_in_the_review_queue(client, webform, manager, stages):
    """Honeypot, too fast and over the rate limit, through the public form: none is on the board
    (no deal, the New column empty), all three wait in the manager's review queue with why."""
    webform.min_fill_seconds = 30
    webform.save()
    post(client, webform, {**GOOD, "email": "bot@example.com", "consent": "on", "website": "http://spam"})
    quick = tokens.token_make(webform.pk)
    post(client, webform, {**GOOD, "email": "fast@example.com", "consent": "on", "token": quick}, "http://testserver")
    webform.min_fill_seconds = 0
    webform.save()
    for i in range(5):  # 5 per address: the two above count, so the last two of these are over
        post(client, webform, {**GOOD, "email": f"p{i}@example.com", "consent": "on"})
    held = Submission.objects.filter(status="review")
    assert sorted(held.values_list("suspicion", flat=True)) == ["honeypot", "rate_limit", "rate_limit", "too_fast"]
    assert not Opportunity.objects.filter(contact__email__in=held.values("email")).exists()

    manager_client = Client()
    manager_client.force_login(manager)
    board = manager_client.get("/pipeline/").content.decode()
    assert "bot@example.com" not in board and "fast@example.com" not in board
    queue = manager_client.get("/forms/review/").content.decode()
    assert queue.count('data-testid="held"') == 4
    for reason in ("honeypot", "too_fast", "rate_limit"):
        assert reason in queue


def test_a_submission_takes_the_same_queries_whatever_the_data_size(webform, rep):
    """The same submission (a new person of a known company) costs the same number of queries with
    a handful of records or with a hundred more contacts, companies of similar names and deals."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contacts.tests.factories import ContactFactory, OrganizationFactory
    from opportunities.tests.factories import OpportunityFactory

    def queries(email):
        with CaptureQueriesContext(connection) as captured:
            response = post(Client(), webform, {**GOOD, "email": email, "consent": "on"})
        assert response.status_code == 200
        return len(captured)

    queries("first@example.com")  # creates the company "Rossi Srl"
    small = queries("second@example.com")
    for i in range(40):
        org = OrganizationFactory(name=f"Rossi {i} S.r.l.")
        ContactFactory(email=f"c{i}@example.com", organization=org)
        OpportunityFactory(owner=rep, organization=org)
    assert queries("third@example.com") == small
