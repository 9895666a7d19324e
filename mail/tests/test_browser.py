"""In a real browser: a hostile e-mail (body, subject, sender name, attachment name) runs no script
on the deal page, the e-mail page or the unlinked list. Also leaves an Italian screenshot."""

from email.utils import formataddr

import pytest
from django.test import Client
from django.urls import reverse

from conftest import ARTIFACTS
from contacts.tests.factories import ContactFactory
from mail.models import EmailMessage
from mail.services import email_import
from opportunities.tests.factories import OpportunityFactory

from .messages import raw_message

pytestmark = pytest.mark.django_db(transaction=True)

XSS = '"><script>window.xss=1</script><img src=x onerror="window.xss=1">'


def _login(tab, live_server, user):
    client = Client()
    client.force_login(user)
    tab.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


def test_hostile_email_runs_no_script(italian, live_server, rep, pipeline):
    contact = ContactFactory(email="mario@example.com", owner=rep, organization__owner=rep)
    deal = OpportunityFactory(owner=rep, organization=contact.organization, contact=contact)
    raw = raw_message(
        sender=formataddr((XSS, "mario@example.com")),
        subject=f"Offerta {XSS}",
        body=f"Testo {XSS}",
        html=f'<p>Testo</p>{XSS}<a href="javascript:window.xss=1">link</a><svg onload="window.xss=1"></svg>',
        attachments=[(f"a{XSS}.txt", b"ciao", "text", "plain")],
    )
    email = email_import(raw=raw)
    assert email.from_name == XSS
    second = OpportunityFactory(owner=rep, organization=contact.organization, contact=contact)
    email_import(raw=raw_message(subject=f"Seconda {XSS}", message_id="<second@example.com>"))
    assert EmailMessage.objects.count() == 2 and second

    tab = italian
    _login(tab, live_server, rep)
    for url in (
        deal.get_absolute_url(),
        reverse("mail:detail", args=[email.pk]),
        reverse("mail:detail", args=[email.pk]) + "?images=1",
        reverse("mail:unlinked"),
        reverse("mail:record_threads", args=["opportunity", deal.pk]),
    ):
        tab.goto(live_server.url + url)
        tab.wait_for_load_state("load")
        assert tab.evaluate("window.xss") is None, url
        tab.click("body")
    tab.goto(live_server.url + reverse("mail:detail", args=[email.pk]))
    assert "Offerta" in tab.locator("[data-testid=email-subject]").inner_text()
    assert "<script>" in tab.locator("[data-testid=email-subject]").inner_text()  # shown as text
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "mail-email-detail-it.png"), full_page=True)
    tab.goto(live_server.url + deal.get_absolute_url())
    tab.locator("[data-testid=record-emails]").screenshot(path=str(ARTIFACTS / "mail-deal-card-it.png"))
    tab.goto(live_server.url + reverse("mail:mailbox_list"))
    tab.screenshot(path=str(ARTIFACTS / "mail-mailboxes-it.png"), full_page=True)
