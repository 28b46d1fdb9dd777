"""Callbacks: a customer the contact center calls back, in a queue's line.

A waiting caller who asks to be called back keeps their place (``place_at``: when they
joined the queue); a scheduled callback ("call me at 15:00") takes its place at that
time. When its turn comes and an agent of the queue is free, the call is placed (on
Twilio by the routing, telephony/twilio/routing/); an attempt nobody answers is retried
after ``retry_seconds``, up to ``max_attempts``, then given up.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from contactcenter.models.agents import Agent
from contactcenter.models.base import TenantModel, TimestampedModel
from contactcenter.models.calls import Call
from contactcenter.models.queues import CallQueue


class CallbackStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"  # for its time, an agent, or its next attempt
    # Offered to one agent in the console (Asterisk): placed from their phone once they
    # accept; back to waiting if they decline or let CALLBACK_OFFER_SECONDS pass.
    OFFERED = "offered", "Offered"
    DIALING = "dialing", "Dialing"  # an attempt is under way
    ANSWERED = "answered", "Answered"
    GIVEN_UP = "given_up", "Given up"  # every attempt failed
    CANCELED = "canceled", "Canceled"


CALLBACK_OPEN = (CallbackStatus.WAITING, CallbackStatus.OFFERED, CallbackStatus.DIALING)


class Callback(TenantModel, TimestampedModel):
    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="callbacks")
    number = models.CharField(max_length=32)  # E.164
    # The call the caller asked from (keep-your-place); none for a scheduled callback.
    call = models.ForeignKey(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="callbacks"
    )
    place_at = models.DateTimeField(help_text="Its place in the queue's line.")
    next_attempt_at = models.DateTimeField(help_text="Not placed before this time.")
    status = models.CharField(
        max_length=16, choices=CallbackStatus.choices, default=CallbackStatus.WAITING
    )
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    retry_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(30), MaxValueValidator(86400)]
    )
    last_outcome = models.CharField(max_length=16, blank=True)  # answered, no_answer, busy ...
    agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The call placed for the last attempt: Twilio's CallSid, or the Asterisk call's key.
    placed_call_sid = models.CharField(max_length=64, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)  # to ``agent``, in the console
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["organization_id", "place_at", "pk"]
        indexes = [models.Index(fields=["organization", "status", "next_attempt_at"])]
        constraints = [
            # A re-delivered key press asks once.
            models.UniqueConstraint(
                fields=["call"], condition=Q(call__isnull=False), name="callback_one_per_call"
            ),
            # An agent is offered one callback at a time.
            models.UniqueConstraint(
                fields=["agent"], condition=Q(status="offered"), name="callback_one_offer_per_agent"
            ),
        ]

    def __str__(self) -> str:
        return f"callback {self.pk} {self.status}"
