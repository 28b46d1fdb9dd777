"""``python manage.py asyncapi``: the WebSocket protocol's AsyncAPI 3.0 document.

As drf-spectacular's ``spectacular`` writes the OpenAPI schema: to a file or standard
output, YAML or JSON. The server is ``PUBLIC_URL``'s host (``wss`` for https) unless
``--host`` names another; the same document is served at ``/api/asyncapi/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from drf_spectacular.renderers import OpenApiYamlRenderer2

from realtime.asyncapi import asyncapi_document

DEFAULT_HOST = "localhost:8000"


class Command(BaseCommand):
    help = "Write the WebSocket protocol's AsyncAPI 3.0 document (YAML, or JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="write here instead of standard output")
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
        parser.add_argument(
            "--host",
            help=f"the server's host[:port] (default: PUBLIC_URL's, else {DEFAULT_HOST})",
        )
        parser.add_argument(
            "--secure", action="store_true", help="wss:// (the default when PUBLIC_URL is https)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        public = urlsplit(settings.PUBLIC_URL)
        host = options["host"] or public.netloc or DEFAULT_HOST
        secure = options["secure"] or (not options["host"] and public.scheme == "https")
        document = asyncapi_document(host=host, secure=secure)
        if options["format"] == "json":
            text = json.dumps(document, indent=2) + "\n"
        else:
            text = OpenApiYamlRenderer2().render(document).decode()
        if options["file"]:
            Path(options["file"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
