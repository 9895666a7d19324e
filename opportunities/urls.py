from django.urls import path

from . import views

app_name = "opportunities"

urlpatterns = [
    path("", views.opportunity_list, name="list"),
    path("new/", views.opportunity_create, name="create"),
    path("<int:pk>/", views.opportunity_detail, name="detail"),
    path("<int:pk>/edit/", views.opportunity_edit, name="edit"),
    path("<int:pk>/move/", views.opportunity_move, name="move"),
    path("<int:pk>/archive/", views.opportunity_archive, name="archive"),
]
