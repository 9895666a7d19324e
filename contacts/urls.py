from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/lookup/", views.organization_lookup, name="organization_lookup"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/archive/", views.organization_archive, name="organization_archive"),
    path("organizations/<int:pk>/purge/", views.organization_purge, name="organization_purge"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/lookup/", views.contact_lookup, name="contact_lookup"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/archive/", views.contact_archive, name="contact_archive"),
    path("contacts/<int:pk>/purge/", views.contact_purge, name="contact_purge"),
]
