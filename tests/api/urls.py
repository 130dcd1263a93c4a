"""A test-only URLconf: the real one plus views that fail in ways no real endpoint should,
to prove that even then the API answers problem+json (`@pytest.mark.urls("tests.api.urls")`).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import path
from django_fsm import TransitionNotAllowed
from rest_framework.response import Response

from apps.api.services import token_issue
from apps.api.views import ApiView
from salesctl.urls import handler400, handler403, handler404, handler500  # noqa: F401
from salesctl.urls import urlpatterns as real_urlpatterns


class Boom(ApiView):
    """GET raises a bug; POST does real work (issues a token) and then raises a bug."""

    def get(self, request):
        raise RuntimeError("a bug")

    def post(self, request):
        token_issue(user=request.user, name="half-done", days=1)
        raise RuntimeError("a bug after the work")


class ServiceErrors(ApiView):
    """Raises what services raise, chosen by `?raise=`."""

    def get(self, request):
        kind = request.query_params["raise"]
        if kind == "validation":
            raise ValidationError({"amount": ValidationError("Too much.", code="max_value")})
        if kind == "permission":
            raise PermissionDenied("Only finance may do this.")
        if kind == "transition":
            raise TransitionNotAllowed("cannot", object=None, method=None)
        return Response({})


urlpatterns = [
    path("api/v1/test/boom/", Boom.as_view()),
    path("api/v1/test/service-errors/", ServiceErrors.as_view()),
    *real_urlpatterns,
]
