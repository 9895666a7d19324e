import datetime
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection

from core.exceptions import DomainError, ValidationError
from opportunities.services import opportunity_line_add
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory
from quotes import services
from quotes.models import Quote, QuoteCounter
from quotes.tests.factories import QuoteFactory
from quotes.vat import line_net, totals_of

D = Decimal


def _line(qty, price, discount="0", rate="22.00", note=""):
    return SimpleNamespace(
        net_total=line_net(quantity=D(qty), unit_price=D(price), discount_percent=D(discount)),
        vat_rate=D(rate),
        vat_exemption_note=note,
    )


# --- VAT arithmetic -----------------------------------------------------------------------------


def test_line_net_rounds_half_up_to_the_cent():
    assert line_net(quantity=D("3"), unit_price=D("19.99"), discount_percent=D("10")) == D("53.97")  # 53.973
    assert line_net(quantity=D("1"), unit_price=D("0.05"), discount_percent=D("50")) == D("0.03")  # 0.025 up
    assert line_net(quantity=D("0.333"), unit_price=D("10.00"), discount_percent=D("0")) == D("3.33")
    assert line_net(quantity=D("2.5"), unit_price=D("0.01"), discount_percent=D("0")) == D("0.03")  # 0.025 up


def test_vat_is_computed_per_rate_on_the_sum_of_nets_not_line_by_line():
    # Three lines at 22% of 0.10 each: line by line 0.022 → 0.02 ×3 = 0.06; on the sum 0.30 → 0.066 → 0.07.
    totals = totals_of([_line("1", "0.10"), _line("1", "0.10"), _line("1", "0.10")])
    assert totals.subtotal == D("0.30")
    assert totals.vat_total == D("0.07")
    assert totals.total == D("0.37")


def test_mixed_rates_and_exempt_lines():
    totals = totals_of(
        [
            _line("3", "33.33", "0", "22.00"),  # 99.99
            _line("1", "10.05", "0", "10.00"),  # 10.05 → VAT 1.005 → 1.01
            _line("7", "1.15", "15", "4.00"),  # 8.05 × 0.85 = 6.8425 → 6.84 → VAT 0.2736 → 0.27
            _line("1", "500", "0", "0.00", "Esente art. 10 DPR 633/72"),
        ]
    )
    by_rate = {g.rate: g for g in totals.groups}
    assert [g.rate for g in totals.groups] == [D("22.00"), D("10.00"), D("4.00"), D("0.00")]
    assert by_rate[D("22.00")].vat == D("22.00")  # 99.99 × 0.22 = 21.9978
    assert by_rate[D("10.00")].vat == D("1.01")
    assert by_rate[D("4.00")].taxable == D("6.84")
    assert by_rate[D("4.00")].vat == D("0.27")
    assert by_rate[D("0.00")].vat == D("0.00")
    assert by_rate[D("0.00")].notes == ("Esente art. 10 DPR 633/72",)
    assert totals.subtotal == D("616.88")
    assert totals.vat_total == D("23.28")
    assert totals.total == D("640.16")


# --- Lifecycle ----------------------------------------------------------------------------------


@pytest.fixture
def draft(rep):
    quote = QuoteFactory(owner=rep)
    services.quote_line_add(quote=quote, user=rep, description="Consulenza", quantity=D(2), unit_price=D("150.00"))
    return quote


@pytest.mark.django_db
def test_zero_vat_needs_an_exemption_note(draft, rep):
    with pytest.raises(ValidationError) as exc:
        services.quote_line_add(
            quote=draft, user=rep, description="Corso", quantity=D(1), unit_price=D(10), vat_rate=D(0)
        )
    assert "vat_exemption_note" in exc.value.error_dict
    line = services.quote_line_add(
        quote=draft,
        user=rep,
        description="Corso",
        quantity=D(1),
        unit_price=D(10),
        vat_rate=D(0),
        vat_exemption_note="Esente art. 10 DPR 633/72",
    )
    assert line.pk


@pytest.mark.django_db
def test_numbers_are_given_when_sent_per_year_without_gaps(rep, draft):
    other = QuoteFactory(owner=rep)
    services.quote_line_add(quote=other, user=rep, description="x", quantity=D(1), unit_price=D(1))
    discarded = QuoteFactory(owner=rep)  # drafts take no number
    assert discarded.number != "2026/0001"
    a = services.quote_send(quote=draft, user=rep, issue_date=datetime.date(2026, 3, 1))
    b = services.quote_send(quote=other, user=rep, issue_date=datetime.date(2026, 3, 2))
    assert (a.number, b.number) == ("2026/0001", "2026/0002")
    assert a.valid_until == datetime.date(2026, 3, 31)
    third = QuoteFactory(owner=rep)
    services.quote_line_add(quote=third, user=rep, description="x", quantity=D(1), unit_price=D(1))
    assert services.quote_send(quote=third, user=rep, issue_date=datetime.date(2027, 1, 2)).number == "2027/0001"


@pytest.mark.django_db
def test_an_empty_quote_cannot_be_sent(rep):
    quote = QuoteFactory(owner=rep)
    with pytest.raises(ValidationError):
        services.quote_send(quote=quote, user=rep)
    assert not QuoteCounter.objects.filter(last__gt=0).exists()


@pytest.mark.django_db
def test_a_sent_quote_is_frozen_and_a_revision_is_a_new_draft(rep, draft):
    sent = services.quote_send(quote=draft, user=rep)
    line = sent.lines.get()
    with pytest.raises(DomainError, match="can no longer be changed"):
        services.quote_update(quote=sent, user=rep, data={"title": "Altro"})
    with pytest.raises(DomainError):
        services.quote_line_add(quote=sent, user=rep, description="y", quantity=D(1), unit_price=D(1))
    with pytest.raises(DomainError):
        services.quote_line_update(line=line, user=rep, data={"unit_price": D("1.00")})
    with pytest.raises(DomainError):
        services.quote_line_remove(line=line, user=rep)
    sent.refresh_from_db()
    assert sent.lines.get().unit_price == D("150.00")

    revision = services.quote_revise(quote=sent, user=rep)
    assert revision.status == Quote.Status.DRAFT and revision.revision_of == sent
    assert revision.sequence is None
    assert [(ln.description, ln.unit_price) for ln in revision.lines.all()] == [("Consulenza", D("150.00"))]
    services.quote_line_update(line=revision.lines.get(), user=rep, data={"unit_price": D("140.00")})
    assert sent.lines.get().unit_price == D("150.00")


@pytest.mark.django_db
def test_quote_from_a_deal_copies_its_lines_and_accepting_marks_it_won(rep, stages):
    opp = OpportunityFactory(owner=rep)
    product = ProductFactory(unit_price=D("99.90"), vat_rate=D("10.00"))
    opportunity_line_add(opportunity=opp, user=rep, product=product, quantity=D(2), discount_percent=D(5))
    quote = services.quote_create(user=rep, opportunity=opp)
    assert quote.organization == opp.organization and quote.title == opp.name
    line = quote.lines.get()
    assert (line.unit_price, line.vat_rate, line.discount_percent) == (D("99.90"), D("10.00"), D("5.00"))
    services.quote_send(quote=quote, user=rep)
    services.quote_accept(quote=quote, user=rep, mark_deal_won=True)
    opp.refresh_from_db()
    assert opp.status == "won"
    assert opp.stage.kind == "won"
    assert opp.stage_changes.filter(to_stage=opp.stage).exists()


@pytest.mark.django_db
def test_accept_without_marking_won_leaves_the_deal_open(rep, stages):
    opp = OpportunityFactory(owner=rep)
    quote = services.quote_create(user=rep, opportunity=opp, copy_lines=False)
    services.quote_line_add(quote=quote, user=rep, description="x", quantity=D(1), unit_price=D(1))
    services.quote_send(quote=quote, user=rep)
    services.quote_accept(quote=quote, user=rep)
    opp.refresh_from_db()
    assert opp.status == "open"
    with pytest.raises(DomainError):
        services.quote_reject(quote=quote, user=rep)


@pytest.mark.django_db
def test_expired_quotes(rep, draft):
    services.quote_send(quote=draft, user=rep, issue_date=datetime.date(2026, 1, 1))
    assert services.quote_expire_due(today=datetime.date(2026, 2, 1)) == 1
    draft.refresh_from_db()
    assert draft.status == Quote.Status.EXPIRED


# --- Numbering under concurrency (PostgreSQL, real threads) --------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_quotes_sent_at_once_get_numbers_one_to_ten(rep):
    quotes = []
    for _ in range(10):
        quote = QuoteFactory(owner=rep)
        services.quote_line_add(quote=quote, user=rep, description="x", quantity=D(1), unit_price=D(1))
        quotes.append(quote)
    barrier = threading.Barrier(10)
    errors = []

    def send(pk):
        try:
            barrier.wait()
            services.quote_send(quote=pk, user=rep, issue_date=datetime.date(2026, 5, 1))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(q.pk,)) for q in quotes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(Quote.objects.values_list("sequence", flat=True)) == list(range(1, 11))
    assert QuoteCounter.objects.get(year=2026).last == 10
