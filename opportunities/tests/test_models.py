"""Each rule of the data model rejects bad data with a clear message (model level) and holds in the
database even when application code is bypassed (database level)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.models import Opportunity, OpportunityLine
from opportunities.services import opportunity_create
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def assert_db_refuses(**changes):
    """Apply ``changes`` with a raw UPDATE (no validation) and expect the database to refuse."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.filter(pk=changes.pop("pk")).update(**changes)


@pytest.fixture
def deal(rep, stages):
    return OpportunityFactory(owner=rep, stage=stages["New"])


def test_a_deal_needs_an_organization_or_a_contact(rep, stages):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_create(user=rep, name="Nobody", amount=Decimal("10"))
    assert excinfo.value.message_dict["organization"] == ["Choose an organization or a contact (or both)."]


def test_a_deal_with_only_a_contact_is_fine(rep):
    contact = ContactFactory(organization=None, owner=rep)
    deal = opportunity_create(user=rep, name="Private customer", contact=contact)
    assert deal.customer == contact


def test_database_refuses_a_deal_without_customer(deal):
    assert_db_refuses(pk=deal.pk, organization=None, contact=None)


def test_negative_amount_is_refused_with_its_field_named(rep):
    org = OrganizationFactory(owner=rep)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_create(user=rep, name="Refund?", organization=org, amount=Decimal("-1"))
    assert "amount" in excinfo.value.message_dict


def test_database_refuses_a_negative_amount(deal):
    assert_db_refuses(pk=deal.pk, amount=Decimal("-0.01"))


def test_an_expected_close_date_in_year_54_is_refused_with_its_field_named(rep):
    org = OrganizationFactory(owner=rep)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_create(user=rep, name="Typo", organization=org, expected_close_date=datetime.date(54, 3, 1))
    assert excinfo.value.message_dict == {"expected_close_date": ["Enter a date between the years 1900 and 2999."]}
    assert not Opportunity.objects.filter(name="Typo").exists()


@pytest.mark.parametrize("probability", [-1, 101])
def test_probability_outside_0_100_is_refused(rep, probability):
    org = OrganizationFactory(owner=rep)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_create(user=rep, name="Odd", organization=org, probability=probability)
    assert "probability" in excinfo.value.message_dict


def test_database_refuses_a_probability_over_100(deal):
    assert_db_refuses(pk=deal.pk, probability=150)


def test_database_refuses_a_lost_deal_without_reason(deal):
    assert_db_refuses(pk=deal.pk, status="lost", closed_at=timezone.now(), lost_reason=None)


def test_database_refuses_an_open_deal_with_a_closing_date(deal):
    assert_db_refuses(pk=deal.pk, closed_at=timezone.now())


def test_database_refuses_a_won_deal_without_a_closing_date(deal):
    assert_db_refuses(pk=deal.pk, status="won", closed_at=None)


def test_database_refuses_an_unknown_status(deal):
    assert_db_refuses(pk=deal.pk, status="gone")


def test_external_ids_are_unique(rep):
    org = OrganizationFactory(owner=rep)
    opportunity_create(user=rep, name="A", organization=org, external_id="CRM-1")
    with pytest.raises(ValidationError) as excinfo:
        opportunity_create(user=rep, name="B", organization=org, external_id="CRM-1")
    assert excinfo.value.messages == ["Another opportunity already has this external id."]


def test_a_contact_of_another_organization_is_refused(rep):
    org = OrganizationFactory(owner=rep)
    stranger = ContactFactory(owner=rep)  # works for another organization
    with pytest.raises(ValidationError) as excinfo:
        opportunity_create(user=rep, name="Mixed", organization=org, contact=stranger)
    assert excinfo.value.message_dict["contact"] == ["This contact works for another organization."]


def test_a_bad_currency_code_is_refused(rep):
    org = OrganizationFactory(owner=rep)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_create(user=rep, name="Coins", organization=org, currency="EURO")
    assert "currency" in excinfo.value.message_dict


def test_weighted_amount_is_amount_times_probability(rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal("1234.57"))
    assert deal.weighted_amount == Decimal("308.64")  # 1234.57 × 25 % = 308.6425


def test_a_deal_is_stale_after_the_stage_allows(rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])  # stale after 7 days
    assert not deal.is_stale
    deal.stage_entered_at = timezone.now() - timezone.timedelta(days=8)
    deal.rots_at = deal.stage_entered_at + timezone.timedelta(days=7)  # as the stage service sets it
    assert deal.is_stale


@pytest.mark.parametrize(
    ("field", "value", "where", "message"),
    [
        ("quantity", Decimal("0"), "__all__", "The quantity must be greater than zero."),
        ("unit_price", Decimal("-1"), "unit_price", "Ensure this value is greater than or equal to 0."),
        ("discount_percent", Decimal("120"), "discount_percent", "Ensure this value is less than or equal to 100."),
    ],
)
def test_line_constraints(deal, field, value, where, message):
    line = OpportunityLine(opportunity=deal, description="Item", quantity=1, unit_price=Decimal("10"))
    setattr(line, field, value)
    with pytest.raises(ValidationError) as excinfo:
        line.full_clean()
    assert excinfo.value.message_dict[where] == [message]
    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()


def test_line_total_applies_the_discount_and_rounds_to_cents(deal):
    line = OpportunityLine(opportunity=deal, quantity=Decimal("3"), unit_price=Decimal("33.33"), discount_percent=10)
    assert line.total == Decimal("89.99")  # 99.99 × 0.9 = 89.991
