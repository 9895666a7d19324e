from django.urls import path

from . import views

app_name = "opportunities"

urlpatterns = [
    path("", views.opportunity_list, name="list"),
    path("new/", views.opportunity_create, name="create"),
    path("<int:pk>/", views.opportunity_detail, name="detail"),
    path("<int:pk>/edit/", views.opportunity_edit, name="edit"),
    path("<int:pk>/move/", views.opportunity_move, name="move"),
    path("<int:pk>/fields/<str:field>/", views.opportunity_field_edit, name="field_edit"),
    path("<int:pk>/timeline/", views.opportunity_timeline, name="timeline"),
    path("<int:pk>/archive/", views.opportunity_archive, name="archive"),
    path("<int:pk>/purge/", views.opportunity_purge, name="purge"),
    path("<int:pk>/lines/add/", views.opportunity_line_add, name="line_add"),
    path("<int:pk>/lines/<int:line_pk>/edit/", views.opportunity_line_edit, name="line_edit"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.opportunity_line_remove, name="line_remove"),
    path("<int:pk>/amount-from-lines/", views.opportunity_amount_from_lines, name="amount_from_lines"),
]
