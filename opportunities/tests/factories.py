"""Deals are made through the create service, so every factory deal has its first history row."""

from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from contacts.tests.factories import OrganizationFactory
from opportunities.models import Opportunity
from opportunities.services import opportunity_create


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"Deal {n}")
    owner = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory, owner=factory.SelfAttribute("..owner"))
    amount = Decimal("1000.00")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return opportunity_create(user=kwargs.get("owner"), **kwargs)
