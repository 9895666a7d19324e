"""50 visitors sending the same new e-mail address at once: one contact, one organization."""

import threading

import pytest
from django.db import connection, connections

from contacts.models import Contact, Organization
from opportunities.models import Opportunity
from webforms.models import Submission
from webforms.services import Visit, submission_receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_50_concurrent_submissions_with_the_same_new_email_create_one_contact_and_one_organization(webform):
    fields = {"name": "Anna Neri", "email": "anna.neri@example.com", "company": "Neri Srl", "vat_number": "76543210157"}
    barrier = threading.Barrier(50)
    errors = []

    def send(i):
        try:
            barrier.wait(timeout=30)
            submission_receive(webform=webform, fields=fields, visit=Visit(nonce=f"n{i}"))
        except Exception as exc:  # collected and reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert connection.vendor == "postgresql"
    assert errors == []
    assert Contact.objects.filter(email__iexact="anna.neri@example.com").count() == 1
    assert Organization.objects.filter(vat_number="76543210157").count() == 1
    assert Opportunity.objects.count() == 50 and Submission.objects.count() == 50
    assert set(Opportunity.objects.values_list("contact__organization__vat_number", flat=True)) == {"76543210157"}


def test_concurrent_visitors_of_one_company_spelled_differently_create_one_organization(webform):
    """Ten people of one company, each typing its name their way, at once: the duplicate
    detection's name key is also the lock's, so they wait for each other and share it."""
    spellings = ["Ferri S.r.l.", "FERRI SRL", "ferri srl", "Ferri s.r.l", "Ferri  Srl"] * 2
    barrier = threading.Barrier(len(spellings))
    errors = []

    def send(i, company):
        try:
            barrier.wait(timeout=30)
            fields = {"name": f"Persona {i}", "email": f"p{i}@ferri.example", "company": company}
            submission_receive(webform=webform, fields=fields, visit=Visit(nonce=f"f{i}"))
        except Exception as exc:  # collected and reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i, c)) for i, c in enumerate(spellings)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Organization.objects.count() == 1
    assert Contact.objects.filter(organization__isnull=False).count() == len(spellings)
