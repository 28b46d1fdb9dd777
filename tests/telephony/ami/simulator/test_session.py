"""The manager session over a real TCP socket: banner, Login, Ping, Logoff, errors."""

from __future__ import annotations

import re

from telephony.ami.frames import AmiMessage
from telephony.ami.simulator import AmiSimulator
from tests.telephony.amiclient import AmiTestClient
from tests.telephony.conftest import SECRET


async def test_banner_and_login(simulator: AmiSimulator) -> None:
    client = await AmiTestClient.connect(simulator.port)
    reply = await client.login(secret=SECRET)
    booted = await client.wait_for(lambda m: m.event == "FullyBooted")
    assert client.banner == "9.0.0"
    assert reply == AmiMessage(
        (("Response", "Success"), ("ActionID", "test-1"), ("Message", "Authentication accepted"))
    )
    # Written straight to the session by manager.c: no Timestamp.
    assert [key for key, _ in booted.fields] == [
        "Event",
        "Privilege",
        "Uptime",
        "LastReload",
        "Status",
    ]
    assert booted.get("Privilege") == "system,all"
    assert booted.get("Status") == "Fully Booted"
    await client.close()


async def test_user_name_is_case_insensitive(simulator: AmiSimulator) -> None:
    client = await AmiTestClient.connect(simulator.port)
    reply = await client.login(username="BRIDGE", secret=SECRET)
    assert reply.response == "Success"
    await client.close()


async def test_bad_secret_is_refused_and_the_socket_closed(simulator: AmiSimulator) -> None:
    client = await AmiTestClient.connect(simulator.port)
    reply = await client.login(secret="wrong")
    assert reply.response == "Error"
    assert reply.get("Message") == "Authentication failed"
    await client.wait_closed()
    assert not any(m.event for m in client.messages)


async def test_actions_before_login_are_denied(simulator: AmiSimulator) -> None:
    client = await AmiTestClient.connect(simulator.port)
    reply = await client.request("Ping")
    assert (reply.response, reply.get("Message")) == ("Error", "Permission denied")
    assert (await client.login(secret=SECRET)).response == "Success"
    await client.close()


async def test_ping(client: AmiTestClient) -> None:
    reply = await client.request("Ping")
    assert [key for key, _ in reply.fields] == ["Response", "ActionID", "Ping", "Timestamp"]
    assert reply.get("Ping") == "Pong"
    assert re.fullmatch(r"\d{10}\.\d{6}", reply.get("Timestamp") or "")


async def test_unknown_action(client: AmiTestClient) -> None:
    reply = await client.request("NoSuchThing")
    assert (reply.response, reply.get("Message")) == ("Error", "Invalid/unknown command")


async def test_action_without_action_id_gets_a_response_without_one(
    client: AmiTestClient,
) -> None:
    start = len(client.messages)
    client.writer.write(b"Action: Ping\r\n\r\n")
    reply = await client.wait_for(lambda m: m.get("Ping") == "Pong", start=start)
    assert "ActionID" not in reply


async def test_action_line_need_not_come_first(client: AmiTestClient) -> None:
    # panoramisk sorts keys alphabetically; lower-case keys put ActionID first.
    client.writer.write(b"actionid: zz-1\r\naction: ping\r\n\r\n")
    reply = await client.wait_for(lambda m: m.action_id == "zz-1")
    assert reply.get("Ping") == "Pong"


async def test_logoff_says_goodbye_and_closes(client: AmiTestClient) -> None:
    reply = await client.request("Logoff")
    assert (reply.response, reply.get("Message")) == ("Goodbye", "Thanks for all the fish.")
    await client.wait_closed()


async def test_garbage_from_a_client_does_not_kill_the_session(client: AmiTestClient) -> None:
    client.writer.write(bytes(range(256)) + b"\r\nnot a header\r\n\r\n")
    reply = await client.request("Ping")
    assert reply.get("Ping") == "Pong"


async def test_events_off_at_login_means_no_events(simulator: AmiSimulator) -> None:
    quiet = await AmiTestClient.connect(simulator.port)
    await quiet.request("Login", Username="bridge", Secret=SECRET, Events="off")
    loud = await AmiTestClient.connect(simulator.port)
    await loud.login(secret=SECRET)
    await simulator.run_scenario("answered").wait()
    await loud.sync()
    await quiet.sync()
    assert loud.events["Hangup"] == 2
    # FullyBooted comes with the Login response itself, whatever Events says.
    assert [m.event for m in quiet.messages if m.event] == ["FullyBooted"]
    await quiet.close()
    await loud.close()


async def test_several_clients_all_get_every_event(simulator: AmiSimulator) -> None:
    clients = [await AmiTestClient.connect(simulator.port) for _ in range(3)]
    for client in clients:
        await client.login(secret=SECRET)
    await simulator.wait_logged_in(3)
    await simulator.run_scenario("hold").wait()
    streams = []
    for client in clients:
        await client.sync()
        streams.append([m for m in client.messages if m.event and m.event != "FullyBooted"])
        await client.close()
    assert streams[0]
    assert streams[0] == streams[1] == streams[2]
