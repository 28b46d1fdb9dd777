"""What contactcenter announces to the packages built on it (crm), without importing them.

Each hook is a Django signal sent by a service inside its transaction, at the point the
change is made; the receivers are connected by the package above from its AppConfig
(crm: ``CrmConfig.ready``). A receiver runs in that transaction, so whatever it queues
``on_commit`` runs after the service's own callbacks, and an error it raises undoes the
change, as a direct call would.
"""

from __future__ import annotations

from django.dispatch import Signal

# A call's disposition changed (``services.calls.call_set_disposition``). Keyword
# arguments: ``call_id`` (int) and ``disposition_id`` (int, or None when cleared). crm
# schedules the disposition's rules (a case, a follow-up).
call_disposition_changed = Signal()

# Which of these calls' recordings must be kept whatever their age (a legal hold), asked
# by the retention purge (``services.recording_retention``). Keyword arguments:
# ``organization_id`` (int) and ``call_ids`` (list of int); each receiver returns the
# set of those call ids it holds. crm holds the calls of cases under legal hold.
recordings_held = Signal()

# Recordings were purged (``services.recording_retention``: retention or an erasure), their
# stored files deleted. Keyword arguments: ``organization_id`` (int), ``recording_ids``
# (list of int). telephony deletes what the PBX keeps of them (Twilio's copies).
recordings_purged = Signal()

# Open a case from a voicemail (``services.voicemails.voicemail_to_case``). Keyword
# arguments: ``voicemail`` (Voicemail), ``user`` (User or None: who opens it), ``agent``
# (Agent or None), ``title`` (str); a receiver returns the new case's id. crm opens it.
voicemail_case_requested = Signal()

# A queue alert was raised (``services.queue_alerts``). Keyword arguments:
# ``organization_id``, ``alert_id``, ``queue_id`` (int), ``queue_name``, ``kind`` and
# ``text`` (str: what the wallboard says). crm notifies the organization's supervisors
# and admins.
queue_alert_raised = Signal()
