"""Saved views: a list's (or the board's) filters, columns, sort and page size under a name.

A view is only a query string applied on top of what the reader may see (``visible_to``): opening a
teammate's shared view never shows a record the reader could not see anyway. Filters are stored as
the list's query string and columns as a list of names, so filters and columns added later (custom
fields) are saved without a change here.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.permissions import is_anonymous, team_ids

# The pages a view can be saved on: their URL names, by the key stored with each view.
LISTS = {
    "deals": "opportunities:list",
    "board": "pipeline:board",
    "organizations": "contacts:organization_list",
    "contacts": "contacts:contact_list",
    "activities": "activities:list",
    "quotes": "quotes:list",
    "products": "products:list",
}
# A board of another pipeline is /pipeline/<id>/: the same kind of view.
URL_NAMES = {**{name: key for key, name in LISTS.items()}, "pipeline:board_pipeline": "board"}


class ListKey(models.TextChoices):
    DEALS = "deals", _("Deals")
    BOARD = "board", _("Pipeline board")
    ORGANIZATIONS = "organizations", _("Organizations")
    CONTACTS = "contacts", _("Contacts")
    ACTIVITIES = "activities", _("Activities")
    QUOTES = "quotes", _("Quotes")
    PRODUCTS = "products", _("Products")


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Only me")
    TEAM = "team", _("My team")
    EVERYONE = "everyone", _("Everyone")


class SavedViewQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The views ``user`` may open: their own, their teams' shared ones, and those shared with
        everyone."""
        if is_anonymous(user):
            return self.none()
        q = Q(owner=user) | Q(visibility=Visibility.EVERYONE)
        teams = team_ids(user)
        if teams:
            q |= Q(visibility=Visibility.TEAM, team_id__in=teams)
        return self.filter(q)


class SavedView(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="saved_views"
    )
    list_key = models.CharField(_("list"), max_length=20, choices=ListKey.choices)
    name = models.CharField(_("name"), max_length=100)
    # The page's path (``/pipeline/3/`` for a board of another pipeline) and its query string.
    path = models.CharField(_("page"), max_length=200)
    query = models.TextField(_("filters"), blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    sort = models.CharField(_("sort"), max_length=100, blank=True)
    page_size = models.PositiveSmallIntegerField(_("rows per page"), null=True, blank=True)
    visibility = models.CharField(_("shared with"), max_length=10, choices=Visibility.choices, default="private")
    # The team a "my team" view is shared with: the owner's team when it was shared.
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "list_key", "name"], name="savedview_owner_list_name_unique")
        ]
        indexes = [models.Index(fields=["list_key", "visibility"], name="savedview_list_visibility_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("savedviews:open", args=[self.pk])


class DefaultView(models.Model):
    """The view a user's list opens with when they come to it without filters."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="default_views"
    )
    list_key = models.CharField(_("list"), max_length=20, choices=ListKey.choices)
    view = models.ForeignKey(SavedView, verbose_name=_("view"), on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("default view")
        verbose_name_plural = _("default views")
        constraints = [models.UniqueConstraint(fields=["user", "list_key"], name="defaultview_user_list_unique")]

    def __str__(self):
        return f"{self.user}: {self.view}"
