import factory

from accounts.tests.factories import UserFactory
from contacts.tests.factories import OrganizationFactory
from quotes.models import Quote


class QuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quote

    title = factory.Sequence(lambda n: f"Preventivo {n}")
    owner = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory, owner=factory.SelfAttribute("..owner"))
