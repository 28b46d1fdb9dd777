"""Service functions that write nothing of their own, or whose entry is shown elsewhere,
each with why; and whole modules that are the machinery of writing."""

from __future__ import annotations

# Functions not called here, and why: they write nothing of their own, or their entry
# is shown where what they need runs (a bridge).
NOT_WRITERS: dict[str, str] = {
    "contactcenter.services.apikeys.api_key_authenticate": "a read",
    "contactcenter.services.apikeys.writable_resources": "a read of the URLconf",
    "contactcenter.services.invitations.invitation_usable": "a check",
    "contactcenter.services.monitoring.session_mode": "a read of the timeline",
    "contactcenter.services.signin.client_address": "reads the request",
    "contactcenter.services.signin.lock_seconds": "arithmetic",
    "contactcenter.services.signin.printable_username": "text",
    "contactcenter.services.signin.signin_wait": "a cache read",
    "contactcenter.services.signin.too_many_message": "text",
    "contactcenter.services.signin.signin_refused": "a try refused while locked: counted "
    "nowhere (the failures that set the lock were audited); a flood must not write rows",
    "contactcenter.services.telephony.agents.apply_agent_facts": "a step of telephony_apply, "
    "whose entries it returns (AgentApplyResult.changes)",
    "contactcenter.services.telephony.agents.derive_agent_state": "arithmetic",
    "contactcenter.services.telephony.calls.apply_call_fact": "in memory, for telephony_apply",
    "contactcenter.services.telephony.calls.apply_transfer": "in memory, for telephony_apply",
    "contactcenter.services.telephony.calls.close_unseen": "in memory, for telephony_apply",
    "contactcenter.services.telephony.calls.new_call": "in memory, for telephony_apply",
    "contactcenter.services.telephony.derive.derive_status": "arithmetic",
    "contactcenter.services.telephony.derive.finish_durations": "arithmetic",
    "contactcenter.services.telephony.derive.is_answered": "arithmetic",
    "contactcenter.services.telephony.derive.whole_seconds": "arithmetic",
    "contactcenter.services.telephony.merged.calls_merge": "a step of telephony_apply: "
    "moves timelines and transfers between the batch's calls; the parts it deletes are left "
    "out of the batch's entries",
    "contactcenter.services.telephony.recorded.recorded_from_start": "arithmetic",
    "contactcenter.services.telephony.recorded.recordings_apply": "a step of telephony_apply; "
    "recording_facts_apply writes the entries (media_writers.py)",
    "crm.services._common.ensure_same_organization": "a check",
    "crm.services.cases.case_number_allocate": "a step of case_create (the counter)",
    "crm.services.cases.case_summary_text": "text",
    "crm.services.trash.purge_at": "arithmetic",
    "crm.services.dispositions.call_disposition_rules_schedule": "queues the task whose "
    "service (call_disposition_apply) writes",
    "contactcenter.services.callback_offers.offer_seconds": "a setting",
    "contactcenter.services.callback_offers.callback_call": "callback_offer_accept "
    "(accept), the PBX's originate (pbx.originate), then the placed call's key (placed) or, "
    "refused, callback_attempt_over (attempt): needs a PBX, so shown with the bridge in "
    "tests/telephony/ami/test_bridge_callbacks.py",
    "contactcenter.services.queue_alerts.clear_after": "a setting",
    "telephony.twilio.accounts.credentials_accepted": "asks Twilio; writes nothing",
    # Commands to the PBX write nothing themselves (the PBX's facts come back through
    # telephony_apply); who asked is audited as pbx.<command>, shown with a bridge in
    # tests/realtime/test_commands.py. The state goes through agent_choose_state.
    "contactcenter.services.call_control.agent_set_state": "agent_choose_state writes",
    "contactcenter.services.call_control.call_command": "pbx.<command>, with a bridge",
    "contactcenter.services.call_control.call_originate": "pbx.originate, with a bridge",
    "contactcenter.services.call_control.pbx_command_audited": "the audit entry itself "
    "(pbx.<command>), a step of the command services",
    "contactcenter.services.call_control.no_pbx_error": "an error to raise",
    "contactcenter.services.recording_control.call_recording_pause": "pbx.recording_pause, "
    "with a bridge (tests/realtime/test_recording_pause.py)",
    "contactcenter.services.recording_control.call_recording_start": "pbx.recording_start, "
    "with a bridge (tests/realtime/test_recording_pause.py)",
    "contactcenter.services.recording_files.recordings_storage": "the storage, no write",
    "contactcenter.services.recordings.calls_show_recordings": "the calls' copy of a "
    "recording's status, for the screens: a step of the recording services, which audit",
    "contactcenter.services.recording_files.spool_path": "a path, checked",
    "contactcenter.services.recording_files.pbx_relative": "a path, checked",
    "contactcenter.services.recording_pull.pull_url": "text",
    "contactcenter.services.recording_pull.pulled_file": "a temporary file, fetched",
    "contactcenter.services.recording_pull.http_download": "a temporary file, fetched",
    "contactcenter.services.recording_files.storage_key": "text",
    "contactcenter.services.media_links.media_grant": "a signature check",
    "contactcenter.services.media_links.media_kind": "a name",
    "contactcenter.services.media_links.media_token": "signs a link",
    "contactcenter.services.voicemail_files.voicemail_spool_path": "a path, checked",
    "contactcenter.services.voicemail_files.voicemail_storage_key": "text",
    **{
        f"contactcenter.services.supervision.{name}": "pbx.<command>, with a bridge "
        "(tests/realtime/test_supervision.py)"
        for name in (
            "supervisor_agent_pause",
            "supervisor_agent_log_out",
            "supervisor_queue_add",
            "supervisor_queue_remove",
            "supervisor_call_hang_up",
            "supervisor_monitor",
            "supervisor_monitor_stop",
            "supervisor_call_move",
            "supervisor_call_move_to_queue",
        )
    },
    "telephony.twilio.accounts.twilio_account_create": "audited by the same _save as "
    "twilio_account_update; it asks Twilio first (tests/telephony/twilio/test_accounts.py)",
}

# Whole modules that are the machinery of writing, not writers of their own.
NOT_WRITER_MODULES = {
    "contactcenter.services.audit": "the audit trail itself",
    "contactcenter.services.audit_erasure": "the audit trail itself, scrubbed by a contact's "
    "erasure (crm.services.erasure.contact_erase, which audits the erasure)",
    "contactcenter.services.telephony.audited": "the batch's audit entries",
    "contactcenter.services.telephony.bulk": "the statements telephony_apply writes with",
}
