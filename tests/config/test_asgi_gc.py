"""The server process's garbage collector: startup objects frozen, later collections."""

import gc
from typing import Any

import config.asgi


def test_the_server_process_collects_less_often_and_never_walks_its_startup(
    settings: Any,
) -> None:
    before = gc.get_threshold()
    try:
        settings.SERVER_GC_THRESHOLDS = [50_000, 20, 100]
        config.asgi._tune_garbage_collector()
        assert gc.get_threshold() == (50_000, 20, 100)
        assert gc.get_freeze_count() > 0  # Django and the app, out of every collection

        gc.set_threshold(700, 10, 10)
        settings.SERVER_GC_THRESHOLDS = []  # SERVER_GC_THRESHOLDS="": Python's own
        config.asgi._tune_garbage_collector()
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
