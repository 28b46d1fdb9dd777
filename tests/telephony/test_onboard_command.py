"""``manage.py onboard``: a real organization from a file, with the REST API's rules.

The shipped sample (docs/examples/organization.toml) builds a whole organization:
people invited by e-mail, agents with SIP accounts, queues with members, categories,
dispositions and the Asterisk connection; applying it again changes nothing.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from contactcenter.models import (
    Agent,
    CallDisposition,
    CallQueue,
    Invitation,
    Membership,
    Organization,
    QueueMembership,
    User,
)
from crm.models import CaseCategory
from telephony.models import AsteriskConnection, TwilioAccount
from tests.telephony.twilio.fakeapi import FakeTwilioAPI

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "examples" / "organization.toml"
PUBLIC = "https://cc.northwind.example"
LINK = re.compile(re.escape(PUBLIC) + r"/invite/([A-Za-z0-9_-]{43})/")
SECRETS = {
    "SIP_PASSWORD_2001": "sip-secret-2001",
    "SIP_PASSWORD_2002": "sip-secret-2002",
    "AMI_SECRET": "ami-secret-from-env",
}
PASSWORD = "a-long-and-unusual-phrase-7"


@pytest.fixture
def operator(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the operator set up before running the command (docs/going-live.md)."""
    settings.PUBLIC_URL = PUBLIC
    settings.AMI_ALLOWED_TARGETS = ["10.20.0.0/16"]  # the PBX's LAN
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def onboard(*args: str) -> str:
    out = io.StringIO()
    call_command("onboard", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[Any]]:
    """Every row the file touches, as values."""
    models = [
        Organization,
        Agent,
        CallQueue,
        QueueMembership,
        CaseCategory,
        CallDisposition,
        Invitation,
        AsteriskConnection,
        Membership,
        User,
    ]
    return {model.__name__: sorted(map(repr, model.objects.values())) for model in models}


@pytest.mark.django_db(transaction=True)  # committed, as a command run is: e-mails go out
@pytest.mark.usefixtures("operator")
def test_the_sample_builds_a_full_organization_and_twice_changes_nothing(tmp_path: Path) -> None:
    first = onboard(str(SAMPLE))
    assert "Organization: Northwind Support" in first

    org = Organization.objects.get(slug="northwind")
    assert (org.time_zone, org.default_region) == ("Europe/London", "GB")
    agents = {a.extension: a for a in Agent.objects.filter(organization=org)}
    assert set(agents) == {"2001", "2002"}
    ali = agents["2001"]
    assert (ali.interface, ali.sip_username, ali.sip_password) == (
        "PJSIP/2001",
        "2001",
        "sip-secret-2001",
    )
    assert ali.sip_websocket_url == "wss://pbx.northwind.example:8089/ws"
    members = {
        (m.queue.pbx_queue_name, m.agent.extension)
        for m in QueueMembership.objects.filter(organization=org).select_related("queue", "agent")
    }
    assert members == {("support", "2001"), ("support", "2002"), ("sales", "2002")}
    assert CallQueue.objects.get(organization=org, pbx_queue_name="sales").strategy == "ringall"
    tech = CallDisposition.objects.get(organization=org, code="tech-issue")
    assert tech.requires_case_creation and tech.default_case_category is not None
    assert tech.default_case_category.name == "Connectivity"
    assert tech.default_case_category.parent.name == "Technical"  # type: ignore[union-attr]
    assert CallDisposition.objects.filter(organization=org).count() == 4
    pbx = AsteriskConnection.objects.get(organization=org)
    assert (pbx.name, pbx.host, pbx.port, pbx.username, pbx.secret) == (
        "Main PBX",
        "10.20.0.5",
        5038,
        "contactcenter",
        "ami-secret-from-env",
    )

    # The people are invited, not created: an e-mail each, with a link to the server.
    invitations = {i.username: i for i in Invitation.objects.filter(organization=org)}
    assert {u: i.role for u, i in invitations.items()} == {
        "dana": "admin",
        "sam": "supervisor",
        "ali": "agent",
        "mei": "agent",
    }
    assert invitations["ali"].agent == ali
    assert sorted(m.to[0] for m in mail.outbox) == sorted(i.email for i in invitations.values())
    assert all(LINK.search(m.body) for m in mail.outbox)
    assert first.count("e-mail sent") == 4
    assert not User.objects.filter(username__in=invitations).exists()

    # Again: nothing changes, nobody gets a second e-mail.
    before = snapshot()
    second = onboard(str(SAMPLE))
    assert "Nothing to change." in second
    assert snapshot() == before
    assert len(mail.outbox) == 4

    # Ali takes the link; the file still says the same, and still changes nothing.
    ali_mail = next(m for m in mail.outbox if m.to == ["ali@northwind.example"])
    browser = Client()
    path = "/invite/" + LINK.search(ali_mail.body).group(1) + "/"  # type: ignore[union-attr]
    assert browser.get(path, follow=True).status_code == 200
    answer = browser.post("/invite/accept/", {"password1": PASSWORD, "password2": PASSWORD})
    assert answer.status_code == 200
    ali.refresh_from_db()
    assert ali.user is not None and ali.user.username == "ali"
    assert Membership.objects.get(user=ali.user).organization == org
    after_accept = snapshot()
    assert "Nothing to change." in onboard(str(SAMPLE))
    assert snapshot() == after_accept


@pytest.mark.django_db
@pytest.mark.usefixtures("operator")
def test_a_changed_file_updates_what_it_says(tmp_path: Path) -> None:
    onboard(str(SAMPLE))
    changed = tmp_path / "org.toml"
    changed.write_text(
        SAMPLE.read_text()
        .replace("service_level_seconds = 30", "service_level_seconds = 45")
        .replace('members = ["2002"]', 'members = ["2002", "2001"]')
    )
    out = onboard(str(changed))
    assert "updated  queues[sales] (service_level_seconds)" in out
    assert "created  queues[sales].members[2001]" in out
    sales = CallQueue.objects.get(pbx_queue_name="sales")
    assert sales.service_level_seconds == 45
    assert sorted(sales.agents.values_list("extension", flat=True)) == ["2001", "2002"]


@pytest.mark.django_db
def test_the_asterisk_host_must_pass_the_operators_policy(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings.PUBLIC_URL = PUBLIC
    settings.AMI_ALLOWED_TARGETS = []  # the operator has not allowed the PBX's LAN
    with pytest.raises(CommandError, match=r"asterisk\[Main PBX\]\.host: .*AMI_ALLOWED_TARGETS"):
        onboard(str(SAMPLE))
    # One transaction: nothing of the file was kept, nobody was invited.
    assert not Organization.objects.filter(slug="northwind").exists()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.usefixtures("operator")
def test_the_loopback_is_refused_even_with_the_lan_allowed(tmp_path: Path) -> None:
    file = tmp_path / "org.toml"
    file.write_text(SAMPLE.read_text().replace('host = "10.20.0.5"', 'host = "127.0.0.1"'))
    with pytest.raises(CommandError, match=r"asterisk\[Main PBX\]\.host"):
        onboard(str(file))
    assert not AsteriskConnection.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("operator")
def test_the_connections_trunks_and_inbound_contexts(tmp_path: Path) -> None:
    file = tmp_path / "org.toml"
    file.write_text(
        SAMPLE.read_text()
        .replace('# trunks = "PJSIP/trunk*, SIP/carrier"', 'trunks = "PJSIP/trunk*, SIP/carrier"')
        .replace('# inbound_contexts = "from-trunk', 'inbound_contexts = "from-trunk')
    )
    onboard(str(file))
    record = AsteriskConnection.objects.get()
    assert (record.trunks, record.inbound_contexts) == (
        "PJSIP/trunk*, SIP/carrier",
        "from-trunk, from-pstn",
    )


BAD = [
    ('extension = "2001"', 'extention = "2001"', r"agents\.0\.extention: Extra inputs"),
    ('role = "admin"', 'role = "owner"', r"people\.0\.role"),
    ('agent = "2001"', 'agent = "2999"', r"people\[ali\]: no agent '2999'"),
    ('members = ["2002"]', 'members = ["2003"]', r"queues\[sales\]: no agent '2003'"),
    ('strategy = "ringall"', 'strategy = "loudest"', r"queues\[sales\]\.strategy: .*valid choice"),
    ('time_zone = "Europe/London"', 'time_zone = "Mars/Olympus"', r"time_zone"),
    ('email = "mei@northwind.example"', 'email = "mei-at-northwind"', r"people\[mei\]\.email"),
    (
        'secret_env = "AMI_SECRET"',
        'secret_env = "NO_SUCH_VARIABLE"',
        r"NO_SUCH_VARIABLE is not set",
    ),
    ("[organization]", "[organization", r"not valid TOML"),
    (
        '# trunks = "PJSIP/trunk*, SIP/carrier"',
        'trunks = "trunk; rm"',
        r"asterisk\[Main PBX\]\.trunks: Not a trunk pattern",
    ),
]


@pytest.mark.django_db
@pytest.mark.usefixtures("operator")
@pytest.mark.parametrize(("old", "new", "message"), BAD)
def test_a_bad_file_is_a_clear_error_and_changes_nothing(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    file = tmp_path / "org.toml"
    assert old in SAMPLE.read_text()
    file.write_text(SAMPLE.read_text().replace(old, new, 1))
    with pytest.raises(CommandError, match=message):
        onboard(str(file))
    assert not Organization.objects.filter(slug="northwind").exists()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        onboard(str(tmp_path / "nope.toml"))


@pytest.mark.django_db
@pytest.mark.usefixtures("operator")
def test_a_dry_run_says_what_would_change_and_changes_nothing() -> None:
    out = onboard(str(SAMPLE), "--dry-run")
    assert "would be created  organization[northwind]" in out
    assert "would be created  people[dana] (invited)" in out
    assert "Dry run: nothing was changed" in out
    assert not Organization.objects.filter(slug="northwind").exists()
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.usefixtures("operator")
def test_a_username_of_another_organization_is_refused(tmp_path: Path) -> None:
    from tests.factories import make_member, make_org

    make_member(make_org("Elsewhere"), username="sam")
    with pytest.raises(CommandError, match=r"people\[sam\]: the username is taken"):
        onboard(str(SAMPLE))


@pytest.mark.django_db
@pytest.mark.usefixtures("operator")
def test_the_twilio_path(tmp_path: Path, twilio_api: FakeTwilioAPI, monkeypatch: Any) -> None:
    sid = "AC" + "7" * 32
    twilio_api.add(sid, "the-real-token")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "the-real-token")
    text = SAMPLE.read_text()
    asterisk = text.index("[[asterisk]]")
    file = tmp_path / "org.toml"
    file.write_text(
        text[:asterisk]
        + f'[twilio]\naccount_sid = "{sid}"\nauth_token_env = "TWILIO_AUTH_TOKEN"\n'
        + 'caller_id = "+442079460000"\n'
    )
    onboard(str(file))
    account = TwilioAccount.objects.get(organization__slug="northwind")
    assert (account.account_sid, account.auth_token) == (sid, "the-real-token")
    assert "Nothing to change." in onboard(str(file))
    # A token Twilio does not accept is refused, as over REST.
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "a-wrong-token")
    with pytest.raises(CommandError, match=r"twilio\[AC7+\]\.auth_token"):
        onboard(str(file))
