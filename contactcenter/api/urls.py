from django.urls import path
from rest_framework.routers import DefaultRouter

from contactcenter.api import (
    agents,
    alerts,
    apikeys,
    audit,
    auth,
    callbacks,
    calls,
    exports,
    invitations,
    organization,
    queues,
    recordings,
    reports,
    supervision,
    voicemails,
    wallboard,
)

router = DefaultRouter(trailing_slash=True)
router.register("agents", agents.AgentViewSet, basename="agent")
router.register("agent-state-log", agents.AgentStateLogViewSet, basename="agent-state-log")
router.register("queues", queues.CallQueueViewSet, basename="queue")
router.register("queue-memberships", queues.QueueMembershipViewSet, basename="queue-membership")
router.register("queue-alerts", alerts.QueueAlertViewSet, basename="queue-alert")
router.register("dispositions", queues.CallDispositionViewSet, basename="disposition")
router.register("calls", calls.CallViewSet, basename="call")
router.register("callbacks", callbacks.CallbackViewSet, basename="callback")
router.register("voicemails", voicemails.VoicemailViewSet, basename="voicemail")
router.register("members", organization.MemberViewSet, basename="member")
router.register("invitations", invitations.InvitationViewSet, basename="invitation")
router.register("api-keys", apikeys.APIKeyViewSet, basename="api-key")
router.register("audit-log", audit.AuditEntryViewSet, basename="audit-entry")

urlpatterns = [
    path("auth/token/", auth.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", auth.TokenRefreshThrottledView.as_view(), name="token-refresh"),
    path("auth/logout/", auth.LogoutView.as_view(), name="logout"),
    path("organization/", organization.OrganizationView.as_view(), name="organization"),
    path("me/", organization.MeView.as_view(), name="me"),
    path("wallboard/", wallboard.WallboardView.as_view(), name="wallboard"),
    path("reports/queues/", reports.QueueReportView.as_view(), name="report-queues"),
    path("reports/agents/", reports.AgentReportView.as_view(), name="report-agents"),
    path(
        "calls/export.csv",
        exports.CallExportViewSet.as_view({"get": "list"}),
        name="call-export",
    ),
    path(
        "recordings/media/<str:token>/",
        recordings.recording_media,
        name="recording-media",
    ),
    path(
        "voicemails/media/<str:token>/",
        voicemails.voicemail_media,
        name="voicemail-media",
    ),
    # The supervisor's actions (docs/supervisor.md); before the router's detail routes.
    path("agents/<int:agent_id>/pause/", supervision.AgentPauseView.as_view(), name="agent-pause"),
    path(
        "agents/<int:agent_id>/log-out/",
        supervision.AgentLogOutView.as_view(),
        name="agent-log-out",
    ),
    path(
        "agents/<int:agent_id>/queues/",
        supervision.AgentQueueAddView.as_view(),
        name="agent-queue-add",
    ),
    path(
        "agents/<int:agent_id>/queues/<int:queue_id>/remove/",
        supervision.AgentQueueRemoveView.as_view(),
        name="agent-queue-remove",
    ),
    path("calls/<int:call_id>/hang-up/", supervision.CallHangUpView.as_view(), name="call-hang-up"),
    path("calls/<int:call_id>/move/", supervision.CallMoveView.as_view(), name="call-move"),
    path(
        "calls/<int:call_id>/monitor/", supervision.CallMonitorView.as_view(), name="call-monitor"
    ),
    path(
        "calls/<int:call_id>/monitor/stop/",
        supervision.CallMonitorStopView.as_view(),
        name="call-monitor-stop",
    ),
    *router.urls,
]
