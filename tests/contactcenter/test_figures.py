"""contactcenter.figures is the one list of the wallboard figures: the WebSocket messages
take their fields from it, and the REST serializers (which add bounds and help texts
for the OpenAPI schema) name exactly the same fields, in the same order."""

from __future__ import annotations

import dataclasses

import pytest
from rest_framework import serializers

from contactcenter import figures
from contactcenter.api import wallboard as api
from realtime import messages as msgs


def _names(source: type) -> list[str]:
    return [field.name for field in dataclasses.fields(source)]


@pytest.mark.parametrize(
    ("serializer", "source"),
    [
        (api.CallMetricsSerializer, figures.CallFigures),
        (api.QueueMetricsSerializer, figures.QueueFigures),
        (api.OrganizationTotalsSerializer, figures.OrganizationTotals),
        (api.QueueAgentSerializer, figures.QueueAgent),
    ],
)
def test_the_rest_serializers_name_the_figures(
    serializer: type[serializers.Serializer], source: type
) -> None:
    assert list(serializer().fields) == _names(source)


def test_the_messages_carry_the_figures() -> None:
    call_figures = _names(figures.OrganizationTotals)
    assert list(msgs.BoardTotals.model_fields) == call_figures
    assert list(msgs.QueueAgentView.model_fields) == _names(figures.QueueAgent)
    queue_own = [n for n in _names(figures.QueueFigures) if n not in call_figures]
    assert list(msgs.QueueStats.model_fields) == [n for n in queue_own if n != "agents"] + (
        call_figures
    )
    assert list(msgs.QueueBoard.model_fields) == [*msgs.QueueStats.model_fields, "agents"]
