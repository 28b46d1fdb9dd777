"""The softphone's SIP account reaches its own agent's console, and nobody else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contactcenter.models import Agent
from telephony.models import TwilioAccount
from tests.conftest import Floor, client_for
from tests.realtime.support import Socket, open_agent, session_cookie, sync

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "sip-pass-7f3a9c"
WS_URL = "wss://pbx.example.com:8089/ws"


def give_sip_account(agent: Agent, **overrides: str) -> None:
    fields = {
        "sip_username": f"web{agent.extension}",
        "sip_password": PASSWORD,
        "sip_domain": "pbx.example.com",
        "sip_websocket_url": WS_URL,
    }
    for name, value in (fields | overrides).items():
        setattr(agent, name, value)
    agent.save()


async def test_own_console_gets_the_sip_account(floor_a: Floor) -> None:
    await sync(give_sip_account)(floor_a.agent)
    socket, snapshot = await open_agent(await session_cookie(floor_a.agent_member.user))
    assert snapshot["softphone"] == {
        "sip": {
            "uri": f"sip:web{floor_a.agent.extension}@pbx.example.com",
            "username": f"web{floor_a.agent.extension}",
            "password": PASSWORD,
            "domain": "pbx.example.com",
            "websocket_url": WS_URL,
            "display_name": floor_a.agent.name,
        },
        "twilio": False,
    }
    await socket.close()


async def test_another_agents_console_never_sees_it(floor_a: Floor) -> None:
    await sync(give_sip_account)(floor_a.agent)
    other_user = await sync(lambda: floor_a.other_agent.user)()
    socket, snapshot = await open_agent(await session_cookie(other_user))
    # The first agent's own console opens and works beside it: it has the account...
    mine, own = await open_agent(await session_cookie(floor_a.agent_member.user))
    assert own["softphone"]["sip"]["password"] == PASSWORD
    answer = await mine.command("agent.set_state", {"state": "available", "reason": ""})
    assert answer["type"] == "ack"
    await socket.drain()  # ...while nothing of it reaches the other console.
    assert snapshot["softphone"]["sip"] is None  # the other agent has no account
    everything = json.dumps(socket.messages)
    assert PASSWORD not in everything
    assert f"web{floor_a.agent.extension}" not in everything
    await socket.close()
    await mine.close()


async def test_a_supervisor_wallboard_never_sees_it(floor_a: Floor) -> None:
    await sync(give_sip_account)(floor_a.agent)
    board = Socket("/ws/wallboard/", cookie=await session_cookie(floor_a.supervisor.user))
    connected, code = await board.open()
    assert connected, code
    await board.expect("snapshot")
    assert PASSWORD not in json.dumps(board.messages)
    await board.close()


async def test_blank_domain_and_url_fall_back_to_the_settings(
    floor_a: Floor, settings: Any
) -> None:
    settings.SOFTPHONE_SIP_WEBSOCKET_URL = "wss://webrtc.example.net/ws"
    settings.SOFTPHONE_SIP_DOMAIN = ""
    await sync(give_sip_account)(floor_a.agent, sip_domain="", sip_websocket_url="")
    socket, snapshot = await open_agent(await session_cookie(floor_a.agent_member.user))
    sip = snapshot["softphone"]["sip"]
    assert sip["websocket_url"] == "wss://webrtc.example.net/ws"
    assert sip["domain"] == "webrtc.example.net"  # from the URL's host
    assert sip["uri"] == f"sip:web{floor_a.agent.extension}@webrtc.example.net"
    await socket.close()


@pytest.mark.parametrize(
    "overrides",
    [{"sip_password": ""}, {"sip_username": ""}, {"sip_websocket_url": ""}],
)
async def test_an_incomplete_account_is_no_account(floor_a: Floor, overrides: Any) -> None:
    await sync(give_sip_account)(floor_a.agent, **overrides)
    socket, snapshot = await open_agent(await session_cookie(floor_a.agent_member.user))
    assert snapshot["softphone"]["sip"] is None
    assert PASSWORD not in json.dumps(socket.messages)
    await socket.close()


async def test_twilio_flag_follows_the_organizations_account(
    floor_a: Floor, floor_b: Floor
) -> None:
    @sync
    def twilio_for_a() -> None:
        TwilioAccount.objects.create(
            organization=floor_a.org,
            account_sid="AC" + "a" * 32,
            auth_token="t",
            api_key_sid="SK" + "b" * 32,
            api_key_secret="s" * 32,
            twiml_app_sid="AP" + "c" * 32,
        )

    await twilio_for_a()
    socket, snapshot = await open_agent(await session_cookie(floor_a.agent_member.user))
    assert snapshot["softphone"]["twilio"] is True
    await socket.close()
    socket, snapshot = await open_agent(await session_cookie(floor_b.agent_member.user))
    assert snapshot["softphone"]["twilio"] is False
    await socket.close()


# -- REST: admins set the account, nobody reads it back ------------------------------------


def test_rest_is_write_only(floor_a: Floor) -> None:
    admin = client_for(floor_a.admin)
    url = f"/api/v1/agents/{floor_a.agent.pk}/"
    resp = admin.patch(
        url,
        {
            "sip_username": "web1001",
            "sip_password": PASSWORD,
            "sip_domain": "pbx.example.com",
            "sip_websocket_url": WS_URL,
        },
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert "sip_password" not in body and "sip_username" not in body
    assert body["softphone_configured"] is True
    assert body["sip_websocket_url"] == WS_URL
    for member in (floor_a.admin, floor_a.supervisor, floor_a.agent_member):
        client = client_for(member)
        for path in ("/api/v1/agents/", url, "/api/v1/me/"):
            content = client.get(path).content
            assert PASSWORD.encode() not in content, (member.role, path)
            assert b"web1001" not in content, (member.role, path)
    # Other fields change without touching the account; it can be replaced or cleared.
    assert admin.patch(url, {"name": "Renamed"}).status_code == 200
    agent = Agent.objects.get(pk=floor_a.agent.pk)
    assert (agent.sip_username, agent.sip_password) == ("web1001", PASSWORD)
    assert admin.patch(url, {"sip_password": ""}).json()["softphone_configured"] is False
    assert Agent.objects.get(pk=floor_a.agent.pk).sip_password == ""


def test_agents_cannot_set_their_own_account(floor_a: Floor) -> None:
    resp = client_for(floor_a.agent_member).patch(
        f"/api/v1/agents/{floor_a.agent.pk}/", {"sip_password": "mine"}
    )
    assert resp.status_code == 403
    assert Agent.objects.get(pk=floor_a.agent.pk).sip_password == ""


def test_create_with_an_account(floor_a: Floor) -> None:
    resp = client_for(floor_a.admin).post(
        "/api/v1/agents/",
        {"name": "Dora", "extension": "1050", "sip_username": "1050", "sip_password": PASSWORD},
    )
    assert resp.status_code == 201, resp.content
    assert PASSWORD.encode() not in resp.content
    assert Agent.objects.get(pk=resp.json()["id"]).sip_password == PASSWORD


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sip_websocket_url", "https://pbx.example.com/ws"),
        ("sip_websocket_url", "wss://pbx example.com/ws"),
        ("sip_username", "we b@1001"),
        ("sip_domain", "pbx.example.com/path"),
        ("sip_password", "x" * 129),
    ],
)
def test_bad_account_fields_are_a_400(floor_a: Floor, field: str, value: str) -> None:
    resp = client_for(floor_a.admin).patch(f"/api/v1/agents/{floor_a.agent.pk}/", {field: value})
    assert resp.status_code == 400, resp.content
    assert field in {e["attr"] for e in resp.json()["errors"]}
