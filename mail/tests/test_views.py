"""The pages: what a rep sees of e-mails, in how many queries, and never another team's mail."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.tests.factories import ContactFactory
from mail.models import EmailMessage, EmailTemplate, EmailThread, LinkStatus, Mailbox
from mail.services import email_import, mailbox_save
from opportunities.tests.factories import OpportunityFactory

from .messages import raw_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep, pipeline):
    contact = ContactFactory(email="mario@example.com", owner=rep, organization__owner=rep)
    return OpportunityFactory(owner=rep, organization=contact.organization, contact=contact)


def _bulk_emails(deal, n):
    thread = EmailThread.objects.create(subject="Tanti")
    now = timezone.now()
    EmailMessage.objects.bulk_create(
        EmailMessage(
            message_id=f"<m{i}@x>",
            thread=thread,
            subject=f"Messaggio {i}",
            from_address="mario@example.com",
            sent_at=now - datetime.timedelta(minutes=i),
            opportunity=deal,
            text_body="ciao",
        )
        for i in range(n)
    )


@pytest.mark.parametrize("n", [1, 500])
def test_deal_page_email_card_in_constant_queries(client, rep, deal, n, django_assert_num_queries):
    _bulk_emails(deal, n)
    client.force_login(rep)
    client.get(deal.get_absolute_url())
    # The whole deal page (notes, tags and targets included); the e-mail card and the timeline's page
    # of e-mails are one query each, 1 or 500 e-mails.
    with django_assert_num_queries(25):
        response = client.get(deal.get_absolute_url())
    html = response.content.decode()
    card = html[html.index('data-testid="record-emails"') :]
    card = card[: card.index("</ul>")]
    assert "Messaggio 0" in card and "Messaggio 5" not in card
    if n == 500:
        assert reverse("mail:record_threads", args=["opportunity", deal.pk]) in html


@pytest.mark.parametrize("n", [3, 60])
def test_thread_pages_in_constant_queries(client, rep, deal, n, django_assert_num_queries):
    _bulk_emails(deal, n)
    client.force_login(rep)
    url = reverse("mail:record_threads", args=["opportunity", deal.pk])
    client.get(url)
    with django_assert_num_queries(6):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200 and html.count('data-testid="thread"') == 1
    assert html.count('class="list-group-item"><a href="/mail/') == n


def test_a_rep_never_sees_another_teams_email(client, rep, other_rep, deal):
    email = email_import(raw=raw_message(subject="Riservato"))
    assert email.opportunity == deal
    client.force_login(other_rep)
    assert client.get(reverse("mail:detail", args=[email.pk])).status_code == 404
    assert client.get(reverse("mail:record_threads", args=["opportunity", deal.pk])).status_code == 404
    assert not EmailMessage.objects.visible_to(other_rep).exists()
    client.force_login(rep)
    assert "Riservato" in client.get(reverse("mail:detail", args=[email.pk])).content.decode()


def test_html_is_sanitised_and_remote_images_wait(client, rep, deal):
    html = (
        '<p onclick="alert(1)">Ciao<script>alert(2)</script></p><img src="https://tracker.example/p.gif">'
        '<a href="javascript:alert(3)">x</a><blockquote>testo citato</blockquote>'
    )
    email = email_import(raw=raw_message(html=html))
    client.force_login(rep)
    page = client.get(reverse("mail:detail", args=[email.pk])).content.decode()
    body = page[page.index('data-testid="email-body"') :]
    assert "<script>alert(2)" not in body and "onclick" not in body and "javascript:" not in body
    assert "tracker.example" not in body and "Show images" in page
    assert "<details><summary>" in body and "testo citato" in body
    shown = client.get(reverse("mail:detail", args=[email.pk]) + "?images=1").content.decode()
    assert 'src="https://tracker.example/p.gif"' in shown


def test_text_quotes_fold(client, rep, deal):
    email = email_import(raw=raw_message(body="Va bene.\n\nIl giorno lun, Luca ha scritto:\n> prima"))
    client.force_login(rep)
    page = client.get(reverse("mail:detail", args=[email.pk])).content.decode()
    assert '<div class="prewrap">Va bene.</div><details>' in page


def test_unlinked_list_link_and_dismiss(client, rep, deal):
    other = OpportunityFactory(owner=rep, organization=deal.organization, contact=deal.contact)
    email = email_import(raw=raw_message(subject="Quale trattativa?"))
    assert email.link_status == LinkStatus.UNLINKED
    client.force_login(rep)
    page = client.get(reverse("mail:unlinked")).content.decode()
    assert "Quale trattativa?" in page and other.name in page
    client.post(reverse("mail:link", args=[email.pk]), {"opportunity": other.pk})
    email.refresh_from_db()
    assert email.opportunity == other


def test_mailbox_pages(client, rep, crm_admin):
    client.force_login(rep)
    response = client.post(
        reverse("mail:mailbox_list"),
        {"name": "Mia", "host": "imap.example.com", "port": 993, "tls_mode": "ssl", "username": "me", "folders": ""},
    )
    assert response.status_code == 200 and "password" in response.context["form"].errors
    response = client.post(
        reverse("mail:mailbox_list"),
        {
            "name": "Mia",
            "host": "imap.example.com",
            "port": 993,
            "tls_mode": "ssl",
            "username": "me",
            "password": "pw-segreta",
            "folders": "INBOX, Sent",
            "active": "on",
        },
    )
    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert mailbox.owner == rep
    page = client.get(reverse("mail:mailbox_edit", args=[mailbox.pk])).content.decode()
    assert "pw-segreta" not in page and mailbox.password_encrypted not in page
    shared = mailbox_save(user=crm_admin, name="Vendite", host="h", username="u", password="p", owner=None)
    assert client.get(reverse("mail:mailbox_edit", args=[shared.pk])).status_code == 404


def test_compose_with_template_fills_placeholders(client, rep, deal, manager):
    client.force_login(manager)
    client.post(
        reverse("mail:templates"),
        {"name": "Seguito", "language": "it", "subject": "Su {deal}", "body": "Gentile {contact_first_name}, {owner}"},
    )
    template = EmailTemplate.objects.get()
    client.force_login(rep)
    assert client.post(reverse("mail:templates"), {"name": "x"}).status_code == 403
    response = client.get(reverse("mail:compose", args=["opportunity", deal.pk]) + f"?template={template.pk}")
    form = response.context["form"]
    assert form.initial["subject"] == f"Su {deal.name}"
    assert form.initial["body"].startswith(f"Gentile {deal.contact.first_name}")
    assert form.initial["to"] == "mario@example.com"


def test_compose_names_the_bad_field(client, rep, deal):
    client.force_login(rep)
    response = client.post(
        reverse("mail:compose", args=["opportunity", deal.pk]), {"to": "non-un-indirizzo", "subject": "x", "body": "y"}
    )
    assert response.status_code == 200 and "to" in response.context["form"].errors


@pytest.mark.parametrize("param", ["reply", "quote"])
@pytest.mark.parametrize("value", ["abc", "1e30", "9" * 40, "-1"])
def test_compose_with_a_hand_edited_id_is_a_404_not_a_500(client, rep, deal, param, value):
    client.force_login(rep)
    url = reverse("mail:compose", args=["opportunity", deal.pk])
    assert client.get(url, {param: value}).status_code == 404
    assert client.post(url, {param: value, "to": "a@example.com", "subject": "x", "body": "y"}).status_code == 404
