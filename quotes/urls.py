from django.urls import path

from . import views

app_name = "quotes"

urlpatterns = [
    path("", views.quote_list, name="list"),
    path("new/", views.quote_create, name="create"),
    path("from-deal/<int:opportunity_pk>/", views.quote_create_from_opportunity, name="create_from_opportunity"),
    path("<int:pk>/", views.quote_detail, name="detail"),
    path("<int:pk>/edit/", views.quote_edit, name="edit"),
    path("<int:pk>/lines/add/", views.quote_line_add, name="line_add"),
    path("<int:pk>/lines/<int:line_pk>/edit/", views.quote_line_edit, name="line_edit"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.quote_line_remove, name="line_remove"),
    path("<int:pk>/send/", views.quote_send, name="send"),
    path("<int:pk>/accept/", views.quote_accept, name="accept"),
    path("<int:pk>/reject/", views.quote_reject, name="reject"),
    path("<int:pk>/revise/", views.quote_revise, name="revise"),
    path("<int:pk>/pdf/", views.quote_pdf, name="pdf"),
]
