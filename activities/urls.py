from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("", views.activity_list, name="list"),
    path("mine/", views.activity_mine, name="mine"),
    path("new/", views.activity_create, name="create"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/done/", views.activity_done, name="done"),
    path("<int:pk>/delete/", views.activity_delete, name="delete"),
]
