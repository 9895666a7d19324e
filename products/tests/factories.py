from decimal import Decimal

import factory

from products.models import Product


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    code = factory.Sequence(lambda n: f"P-{n:04d}")
    unit_price = Decimal("100.00")
