import factory
from stdnum import luhn

from accounts.tests.factories import UserFactory
from contacts.models import Contact, Organization


def valid_partita_iva(n: int) -> str:
    """A partita IVA that passes the official checks: 7 digits (not all zero), office 001, Luhn digit."""
    digits = f"{n % 10_000_000 or 1:07d}001"
    return digits + luhn.calc_check_digit(digits)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Azienda {n} S.r.l.")
    city = "Milano"
    province = "MI"
    postal_code = "20121"
    owner = factory.SubFactory(UserFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name", locale="it_IT")
    last_name = factory.Faker("last_name", locale="it_IT")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    organization = factory.SubFactory(OrganizationFactory)
    owner = factory.SelfAttribute("organization.owner")
