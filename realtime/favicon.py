"""``/favicon.ico``: the site's icon where a browser looks for it on a page that names
none (the admin, the API's JSON). The site's own pages link it (realtime/base.html)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

ICON = "realtime/favicon.svg"


@cache
def _icon() -> bytes:
    found = finders.find(ICON)
    assert isinstance(found, str), f"{ICON} is missing from the static files"
    return Path(found).read_bytes()


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    # An SVG under the .ico name: browsers go by the content type.
    return HttpResponse(_icon(), content_type="image/svg+xml")
