from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Colour(models.TextChoices):
    """Bootstrap's palette, so a tag reads in the light and the dark theme alike."""

    GREY = "secondary", _("Grey")
    BLUE = "primary", _("Blue")
    GREEN = "success", _("Green")
    RED = "danger", _("Red")
    YELLOW = "warning", _("Yellow")
    CYAN = "info", _("Cyan")


class Tag(models.Model):
    """A label on deals, organizations and contacts ("VIP", "fiera 2026"), shared by everyone;
    who may put it on a record is whoever may change the record (tags/services.py)."""

    name = models.CharField(_("name"), max_length=50)
    colour = models.CharField(_("colour"), max_length=10, choices=Colour.choices, default=Colour.GREY)
    opportunities = models.ManyToManyField(
        "opportunities.Opportunity", verbose_name=_("deals"), related_name="tags", blank=True
    )
    organizations = models.ManyToManyField(
        "contacts.Organization", verbose_name=_("organizations"), related_name="tags", blank=True
    )
    contacts = models.ManyToManyField("contacts.Contact", verbose_name=_("contacts"), related_name="tags", blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), name="tag_name_unique", violation_error_message=_("A tag with this name already exists.")
            ),
            models.CheckConstraint(
                condition=~models.Q(name=""), name="tag_name_required", violation_error_message=_("A tag needs a name.")
            ),
        ]

    def __str__(self):
        return self.name
