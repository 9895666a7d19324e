from django.urls import path

from . import views

app_name = "webforms"

urlpatterns = [
    path("", views.webform_list, name="list"),
    path("new/", views.webform_create, name="create"),
    path("<int:pk>/", views.webform_detail, name="detail"),
    path("<int:pk>/edit/", views.webform_edit, name="edit"),
    path("review/", views.review_queue, name="review"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/accept/", views.submission_accept, name="accept"),
    path("submissions/<int:pk>/reject/", views.submission_reject, name="reject"),
]
