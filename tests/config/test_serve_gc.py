"""The bridge's and its render worker's garbage collector: startup objects frozen, the
rest collected at BRIDGE_GC_THRESHOLDS."""

import gc
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_gc_thresholds
from config.serve import freeze_startup_objects


def test_the_bridge_freezes_its_startup_and_collects_less_often(settings: Any) -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        settings.BRIDGE_GC_THRESHOLDS = [700, 10, 100]
        freeze_startup_objects()
        assert gc.get_threshold() == (700, 10, 100)
        assert gc.get_freeze_count() > 0

        gc.set_threshold(700, 10, 10)
        settings.BRIDGE_GC_THRESHOLDS = []  # BRIDGE_GC_THRESHOLDS="": Python's own
        freeze_startup_objects()
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("50000,20,100", [50_000, 20, 100]), (" 700, 10 ,10 ", [700, 10, 10]), ("", [])],
)
def test_thresholds_are_read_as_three_integers_or_nothing(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[int]
) -> None:
    monkeypatch.setenv("SOME_GC_THRESHOLDS", raw)
    assert env_gc_thresholds("SOME_GC_THRESHOLDS", "1,2,3") == expected


@pytest.mark.parametrize("raw", ["50000,20", "1,2,3,4", "a,b,c", "-1,2,3", "1,,3"])
def test_anything_else_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("SOME_GC_THRESHOLDS", raw)
    with pytest.raises(ImproperlyConfigured, match="SOME_GC_THRESHOLDS takes three integers"):
        env_gc_thresholds("SOME_GC_THRESHOLDS", "1,2,3")
