"""The project's URLs plus views that fail, for tests/config/test_error_pages.py."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls


class Boom(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise RuntimeError("boom inside an API view")


def plain_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom outside DRF")


urlpatterns = [
    path("api/v1/boom/", Boom.as_view()),
    path("api/v1/plain-boom/", plain_boom),
    path("page-boom/", plain_boom),
    *urls.urlpatterns,
]
handler400 = urls.handler400
handler403 = urls.handler403
handler404 = urls.handler404
handler500 = urls.handler500
