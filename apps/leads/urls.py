"""Lead pages under /leads/."""

from django.urls import path

from . import views, views_sources

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_new, name="new"),
    path("form/", views.lead_webform, name="webform"),
    path("form/thanks/", views.lead_webform_thanks, name="webform_thanks"),
    path("import/", views.lead_import, name="import"),
    path("import/template.xlsx", views.lead_import_template, name="import_template"),
    path("import/<str:token>/", views.lead_import_preview, name="import_preview"),
    path("reassign/", views.lead_reassign, name="reassign"),
    path("reassign/people/", views.lead_reassign_people, name="reassign_people"),
    path("sla/", views.lead_sla, name="sla"),
    path("sources/", views_sources.lead_sources, name="sources"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/<str:transition>/", views.lead_transition, name="transition"),
]
