"""The CRM's own addresses, end to end through Dovecot: mail a user BCCs (or forwards) to their
address ``crm+u<id>@…`` is logged to the contacts and to that user's deal with them; mail sent to a
deal's address ``crm+d<id>@…`` is logged to that deal. A BCC leaves no header: the mail server's
``Delivered-To`` (or ``X-Original-To``) is its only trace, as in these messages."""

import pytest

from contacts.tests.factories import ContactFactory
from mail.models import EmailMessage, LinkStatus
from mail.tasks import mailboxes_poll
from opportunities.tests.factories import OpportunityFactory

from .messages import raw_message

pytestmark = pytest.mark.django_db(transaction=True)


def delivered(raw: bytes, *, to: str, header: str = "Delivered-To") -> bytes:
    """The message as the mail server files it for the envelope recipient ``to``."""
    return f"{header}: {to}\r\n".encode() + raw


@pytest.fixture
def addresses(settings):
    settings.CRM_MAIL_USER_ADDRESS = "crm+u{id}@example.com"
    settings.CRM_MAIL_DEAL_ADDRESS = "crm+d{id}@example.com"


@pytest.fixture
def mario(rep, teammate):
    """A contact with two open deals: one of the rep's, one of their teammate's."""
    contact = ContactFactory(email="mario@example.com", owner=rep, organization__owner=rep)
    OpportunityFactory(owner=teammate, organization=contact.organization, contact=contact, name="Del collega")
    return contact


def test_mail_bccd_to_a_users_address_is_logged_as_theirs_on_their_deal(
    client, addresses, mailbox, dovecot, rep, mario, pipeline
):
    rep.email = "Luca.Rep@Example.com"
    rep.save()
    deal = OpportunityFactory(owner=rep, organization=mario.organization, contact=mario, name="Del rep")
    bcc = raw_message(sender="Luca <luca.rep@example.com>", to="Mario <mario@example.com>", subject="Proposta")
    dovecot.append(delivered(bcc, to=f"crm+u{rep.pk}@example.com"))
    # The same kind of message without the user's address: two open deals, nobody to choose.
    dovecot.append(raw_message(sender="mario@example.com", subject="Domanda generica"))

    assert mailboxes_poll() == 2
    logged = EmailMessage.objects.get(subject="Proposta")
    assert (logged.opportunity, logged.outgoing, logged.sent_by) == (deal, True, rep)
    assert list(logged.contacts.all()) == [mario]
    assert EmailMessage.objects.get(subject="Domanda generica").link_status == LinkStatus.UNLINKED

    client.force_login(rep)
    html = client.get(deal.get_absolute_url()).content.decode()
    timeline = html[html.index('data-fragment="timeline"') :]
    assert "E-mail sent" in timeline and "Proposta" in timeline
    # The rep finds their own address on the mailbox page.
    page = client.get("/mail/mailboxes/").content.decode()
    assert f"crm+u{rep.pk}@example.com" in page


def test_a_customers_mail_forwarded_to_a_users_address_goes_to_the_senders_contact_and_the_users_deal(
    addresses, mailbox, dovecot, rep, mario, pipeline
):
    deal = OpportunityFactory(owner=rep, organization=mario.organization, contact=mario)
    dovecot.append(
        raw_message(sender="Mario <mario@example.com>", to=f"crm+u{rep.pk}@example.com", subject="Ordine"),
    )
    dovecot.append(
        delivered(raw_message(sender="mario@example.com", subject="Conferma"), to=f"crm+u{rep.pk}@example.com",
                  header="X-Original-To"),
    )  # fmt: skip

    assert mailboxes_poll() == 2
    for subject in ("Ordine", "Conferma"):
        email = EmailMessage.objects.get(subject=subject)
        assert (email.opportunity, email.outgoing, email.sent_by) == (deal, False, None)
        assert list(email.contacts.all()) == [mario]


def test_mail_to_a_deals_address_is_logged_on_that_deal(client, addresses, mailbox, dovecot, rep, mario, pipeline):
    deal = OpportunityFactory(owner=rep, organization=mario.organization, contact=mario)
    dovecot.append(
        delivered(raw_message(sender="mario@example.com", subject="Capitolato"), to=f"crm+d{deal.pk}@example.com")
    )
    dovecot.append(raw_message(sender="mario@example.com", to=f"CRM+D{deal.pk}@example.com", subject="Allegato"))

    assert mailboxes_poll() == 2
    assert sorted(EmailMessage.objects.filter(opportunity=deal).values_list("subject", flat=True)) == [
        "Allegato",
        "Capitolato",
    ]
    client.force_login(rep)
    assert f"crm+d{deal.pk}@example.com" in client.get(deal.get_absolute_url()).content.decode()


def test_without_a_configured_pattern_nothing_is_read_from_the_addresses(
    settings, mailbox, dovecot, rep, mario, pipeline
):
    settings.CRM_MAIL_USER_ADDRESS = settings.CRM_MAIL_DEAL_ADDRESS = ""
    OpportunityFactory(owner=rep, organization=mario.organization, contact=mario)
    dovecot.append(
        delivered(raw_message(sender="mario@example.com", subject="Niente"), to=f"crm+u{rep.pk}@example.com")
    )

    assert mailboxes_poll() == 1
    assert EmailMessage.objects.get(subject="Niente").link_status == LinkStatus.UNLINKED
