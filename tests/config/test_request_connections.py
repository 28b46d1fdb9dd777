"""The server closes an HTTP request's database connections when the request ends
(config/asgi.py): under ASGI each request runs in a thread of its own, and a kept
connection stayed behind with every one of them (PostgreSQL's "too many clients")."""

from __future__ import annotations

import pytest
from django.core.signals import request_finished
from django.db import connection, transaction

from config import asgi  # the server's entry point registers the receiver


@pytest.mark.django_db(transaction=True)
def test_a_finished_request_closes_its_connection() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert connection.connection is not None
    request_finished.send(sender=None)
    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_a_connection_inside_a_transaction_is_left_alone() -> None:
    """(Django's own receiver closes it even so; the test client unhooks that one.)"""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        asgi._close_request_connections()
        assert connection.connection is not None
        with connection.cursor() as cursor:  # still usable
            cursor.execute("SELECT 1")
