from django.urls import path

from . import calendar_views as views

app_name = "calendar"

urlpatterns = [
    path("", views.calendar_month, name="month"),
    path("week/", views.calendar_week, name="week"),
    path("agenda/", views.calendar_agenda, name="agenda"),
    path("feed/regenerate/", views.calendar_feed_regenerate, name="feed_regenerate"),
    path("feed/revoke/", views.calendar_feed_revoke, name="feed_revoke"),
    path("feed/<str:token>.ics", views.calendar_feed, name="feed"),
]
