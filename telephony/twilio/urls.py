"""Twilio webhooks; mounted at ``telephony/twilio/`` by config/urls.py.

Point a number's Voice URL at ``voice/`` (``?queue=<pbx_queue_name>`` to choose the
queue) and, for call-level status, its Status Callback at ``status/``; the TwiML app of
the browser softphone's Voice URL at ``client/`` and its Status Callback at ``status/``.
The other URLs are written into the TwiML and REST calls we make.
"""

from django.urls import path

from telephony.twilio import monitor_status, recording_status, views, voicemail, waiting

app_name = "twilio"

urlpatterns = [
    path("voice/", views.voice, name="voice"),
    path("client/", views.client, name="client"),
    path("status/", views.status, name="status"),
    path("queue-result/", views.queue_result, name="queue-result"),
    path("dial-result/", views.dial_result, name="dial-result"),
    path("wait/", waiting.wait, name="wait"),
    path("callback-request/", waiting.callback_request, name="callback-request"),
    path("queue-exit/", waiting.queue_exit, name="queue-exit"),
    # A supervisor's monitoring leg is over (telephony/twilio/monitor_status.py).
    path("monitor-status/", monitor_status.monitor_status, name="monitor-status"),
    path("recording-status/", recording_status.recording_status, name="recording-status"),
    # A queue's voicemail exit (telephony/twilio/voicemail.py): the <Record> and its reports.
    path("voicemail/", voicemail.voicemail, name="voicemail"),
    path("voicemail-done/", voicemail.voicemail_done, name="voicemail-done"),
    path("voicemail-recording/", voicemail.voicemail_recording, name="voicemail-recording"),
    path(
        "voicemail-transcription/",
        voicemail.voicemail_transcription,
        name="voicemail-transcription",
    ),
]
