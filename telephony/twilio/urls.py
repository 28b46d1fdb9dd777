"""Twilio webhooks; mounted at ``telephony/twilio/`` by config/urls.py.

Point a number's Voice URL at ``voice/`` (``?queue=<pbx_queue_name>`` to choose the
queue) and, for call-level status, its Status Callback at ``status/``. The other URLs
are written into the TwiML and REST calls we make.
"""

from django.urls import path

from telephony.twilio import views

app_name = "twilio"

urlpatterns = [
    path("voice/", views.voice, name="voice"),
    path("status/", views.status, name="status"),
    path("queue-result/", views.queue_result, name="queue-result"),
    path("dial-result/", views.dial_result, name="dial-result"),
]
