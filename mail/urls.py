from django.urls import path

from . import views

app_name = "mail"

urlpatterns = [
    path("mailboxes/", views.mailbox_list, name="mailbox_list"),
    path("mailboxes/<int:pk>/", views.mailbox_edit, name="mailbox_edit"),
    path("mailboxes/<int:pk>/test/", views.mailbox_test, name="mailbox_test"),
    path("mailboxes/<int:pk>/poll/", views.mailbox_poll_now, name="mailbox_poll"),
    path("mailboxes/<int:pk>/delete/", views.mailbox_delete, name="mailbox_delete"),
    path("unlinked/", views.unlinked_list, name="unlinked"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<int:pk>/", views.template_list, name="template_edit"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
    path("<int:pk>/", views.email_detail, name="detail"),
    path("<int:pk>/link/", views.email_link, name="link"),
    path("<int:pk>/dismiss/", views.email_dismiss, name="dismiss"),
    path("<int:pk>/retry/", views.email_retry, name="retry"),
    path("<str:kind>/<int:pk>/", views.record_threads, name="record_threads"),
    path("<str:kind>/<int:pk>/compose/", views.compose, name="compose"),
]
