"""`/api/v1/quotes/`: drafts, their lines and totals, and the send / accept / reject / revise steps."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from accounts.permissions import can_edit
from contacts.models import Contact, Organization
from core.api.base import ERRORS, IDEMPOTENCY_KEY, IF_MATCH, WRITE_ERRORS, CrmViewSet
from core.api.fields import VisibleRelatedField
from core.api.filters import StableOrderingFilterBackend
from opportunities.models import Opportunity

from .. import selectors, services
from ..filters import QuoteFilter, QuoteLineFilter
from ..models import Quote, QuoteLine


class QuoteLineSerializer(serializers.ModelSerializer):
    quote = VisibleRelatedField(model=Quote, help_text="The draft quote the line belongs to (set on creation).")
    description = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="Empty: the product's name."
    )
    net_total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    unit_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Empty on creation: the product's price.",
    )
    vat_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        help_text="Empty on creation: the product's VAT rate (22% without a product).",
    )

    class Meta:
        model = QuoteLine
        fields = [
            "id",
            "quote",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "vat_rate",
            "vat_exemption_note",
            "net_total",
        ]
        validators = []  # the services and the database constraints decide; errors come back as 400


def _money():
    return serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)


class VatGroupSerializer(serializers.Serializer):
    rate = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    taxable = _money()
    vat = _money()
    notes = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="Exemption notes.")


class QuoteTotalsSerializer(serializers.Serializer):
    """The same arithmetic as the page and the PDF (quotes/vat.py): VAT once per rate, half up."""

    subtotal = _money()
    groups = VatGroupSerializer(many=True, read_only=True)
    vat_total = _money()
    total = _money()


class QuoteSerializer(serializers.ModelSerializer):
    opportunity = VisibleRelatedField(model=Opportunity, required=False, allow_null=True)
    organization = VisibleRelatedField(model=Organization, required=False, allow_null=True)
    contact = VisibleRelatedField(model=Contact, required=False, allow_null=True)
    number = serializers.CharField(read_only=True)
    lines = QuoteLineSerializer(many=True, read_only=True)
    totals = serializers.SerializerMethodField()
    copy_lines = serializers.BooleanField(write_only=True, default=True)
    title = serializers.CharField(max_length=200, required=False, help_text="Empty: the deal's name.")

    class Meta:
        model = Quote
        fields = [
            "id",
            "number",
            "title",
            "opportunity",
            "organization",
            "contact",
            "status",
            "issue_date",
            "valid_until",
            "currency",
            "notes",
            "terms",
            "owner",
            "revision_of",
            "lines",
            "totals",
            "copy_lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "issue_date", "owner", "revision_of", "created_at", "updated_at"]
        validators = []

    @extend_schema_field(QuoteTotalsSerializer)
    def get_totals(self, quote) -> dict:
        return QuoteTotalsSerializer(selectors.quote_totals(quote=quote, lines=quote.lines.all())).data


class AcceptSerializer(serializers.Serializer):
    mark_deal_won = serializers.BooleanField(default=False)


class QuoteViewSet(mixins.ListModelMixin, CrmViewSet):
    serializer_class = QuoteSerializer
    filter_backends = [StableOrderingFilterBackend]
    filterset_class = QuoteFilter
    default_ordering = ["-created_at"]
    queryset = Quote.objects.none()

    def get_queryset(self):
        return selectors.quote_list(user=self.request.user).prefetch_related("lines")

    def get_object(self):
        try:
            return self.with_etag(selectors.quote_get(user=self.request.user, pk=int(self.kwargs["pk"])))
        except (Quote.DoesNotExist, ValueError):
            raise NotFound() from None

    def _editable(self):
        quote = self.get_object()
        if not can_edit(self.request.user, quote):
            raise PermissionDenied("You may see this quote but not change it.")
        self.check_if_match(quote)
        return quote

    def _fresh(self, quote):
        return Response(
            self.get_serializer(self.with_etag(selectors.quote_get(user=self.request.user, pk=quote.pk))).data
        )

    @extend_schema(responses={200: QuoteSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(parameters=[IDEMPOTENCY_KEY], responses={201: QuoteSerializer, **WRITE_ERRORS})
    def create(self, request):
        """A draft quote, from a deal (copying its lines unless `copy_lines` is false) or from scratch."""

        def make():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = {k: v for k, v in serializer.validated_data.items() if k not in ("status",)}
            quote = services.quote_create(user=request.user, **data)
            response = self._fresh(quote)
            response.status_code = status.HTTP_201_CREATED
            return response

        return self.idempotent(request, make)

    @extend_schema(request=None, responses={200: QuoteSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Issue the quote: it gets its number and can no longer be edited."""
        return self._fresh(services.quote_send(quote=self._editable(), user=request.user))

    @extend_schema(request=AcceptSerializer, responses={200: QuoteSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The customer accepted; `mark_deal_won` also moves the deal to its won stage."""
        serializer = AcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quote = services.quote_accept(quote=self._editable(), user=request.user, **serializer.validated_data)
        return self._fresh(quote)

    @extend_schema(request=None, responses={200: QuoteSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._fresh(services.quote_reject(quote=self._editable(), user=request.user))

    @extend_schema(request=None, responses={201: QuoteSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        """A new draft copying this quote's lines, linked to it."""
        response = self._fresh(services.quote_revise(quote=self._editable(), user=request.user))
        response.status_code = status.HTTP_201_CREATED
        return response


class QuoteLineViewSet(mixins.ListModelMixin, CrmViewSet):
    """Lines of the quotes the caller may see (`?quote=<id>` narrows to one). Lines are added,
    changed and removed on draft quotes only, by whoever may change the quote (the services check)."""

    serializer_class = QuoteLineSerializer
    filterset_class = QuoteLineFilter
    queryset = QuoteLine.objects.none()

    def get_queryset(self):
        return selectors.quote_line_list(user=self.request.user)

    def get_object(self):
        line = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if line is None:
            raise NotFound()
        return self.with_etag(line)

    @extend_schema(responses={200: QuoteLineSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(parameters=[IDEMPOTENCY_KEY], responses={201: QuoteLineSerializer, **WRITE_ERRORS})
    def create(self, request):
        """Add a line to a draft quote; without a price or VAT rate, the product's are used."""

        def make():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            quote = data.pop("quote")
            line = services.quote_line_add(quote=quote, user=request.user, **data)
            return Response(self.get_serializer(self.with_etag(line)).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, make)

    @extend_schema(parameters=[IF_MATCH], responses={200: QuoteLineSerializer, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        """Change a line of a draft quote (its `quote` stays)."""
        line = self.get_object()
        self.check_if_match(line)
        serializer = self.get_serializer(line, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "quote"}
        line = services.quote_line_update(line=line, user=request.user, data=data)
        return Response(self.get_serializer(self.with_etag(line)).data)

    @extend_schema(parameters=[IF_MATCH], responses={204: None, **WRITE_ERRORS})
    def destroy(self, request, pk=None):
        """Remove a line from a draft quote."""
        line = self.get_object()
        self.check_if_match(line)
        services.quote_line_remove(line=line, user=request.user)
        self._etag_object = None
        return Response(status=status.HTTP_204_NO_CONTENT)
