"""The project's URLs plus the test-only memo pages."""

from django.urls import include, path

from salesctl.urls import handler400, handler403, handler404, handler500  # noqa: F401
from salesctl.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("test/", include("tests.testapp.urls")), *project_urlpatterns]
