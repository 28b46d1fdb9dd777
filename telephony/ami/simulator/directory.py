"""Who lives on the simulated PBX: agent phones, queues, the trunk and the DID.

The defaults are the server of the recorded transcripts (tests/telephony/transcripts/
README.md): agents 1001-1003 in queue ``support`` (rrmemory, timeout 15, retry 5),
queue ``sales`` (ringall) with 1001 only, a PJSIP ``trunk`` and the DID +15551230000.
"""

from __future__ import annotations

from dataclasses import dataclass

_FIRST_NAMES = ("Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy")
_LAST_NAMES = ("Smith", "Jones", "White", "Brown", "Green", "Black", "Young", "King", "Hall", "Lee")


@dataclass(frozen=True)
class AgentPhone:
    number: str
    name: str
    context: str = "from-internal"

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.number}"


@dataclass(frozen=True)
class QueueSpec:
    name: str
    strategy: str
    members: tuple[str, ...]
    timeout: int = 15
    retry: int = 5
    # queues.conf's ringinuse (app_queue's default is yes; the fixtures' server and the
    # demo say no: a member on a call is not offered another) and wrapuptime (seconds
    # after a member's queue call during which no queue offers them a call).
    ringinuse: bool = False
    wrapuptime: int = 0


@dataclass(frozen=True)
class Directory:
    phones: tuple[AgentPhone, ...]
    queues: tuple[QueueSpec, ...]
    trunk: str = "trunk"
    trunk_context: str = "from-trunk"
    did: str = "+15551230000"
    company_name: str = "ACME Support"
    queue_app_data: str = "support,,,,300"
    # Event noise a user with the ``dialplan`` read class sees (Newexten, VarSet).
    dialplan_events: bool = True
    cdr_events: bool = True

    def queue_app_data_for(self, queue: str) -> str:
        """Queue()'s application data for ``queue``: its name, then the options. The
        bridge reads the queue of a waiting call from it when it resyncs (Status)."""
        _, _, options = self.queue_app_data.partition(",")
        return f"{queue},{options}"

    @property
    def agent_phones(self) -> tuple[AgentPhone, ...]:
        """The phones of some queue's members: the ones that take customers' calls, dial
        out and take transfers. Others (a supervisor's) ring only when asked to."""
        members = {number for queue in self.queues for number in queue.members}
        return tuple(phone for phone in self.phones if phone.number in members)

    def phone(self, number: str) -> AgentPhone | None:
        for phone in self.phones:
            if phone.number == number:
                return phone
        return None


def agent_name(index: int) -> str:
    first = _FIRST_NAMES[index % len(_FIRST_NAMES)]
    last = _LAST_NAMES[(index // len(_FIRST_NAMES) + index) % len(_LAST_NAMES)]
    return f"{first} {last}"


def default_directory(*, agents: int = 3, dialplan_events: bool = True) -> Directory:
    """The fixture server, or the same shape with ``agents`` phones in ``support``.

    With more than 3 agents the names are generated; 1001-1003 keep the fixture names.
    """
    known = {0: "Alice Smith", 1: "Bob Jones", 2: "Carol White"}
    phones = tuple(
        AgentPhone(number=str(1001 + index), name=known.get(index, agent_name(index)))
        for index in range(agents)
    )
    numbers = tuple(phone.number for phone in phones)
    return Directory(
        phones=phones,
        queues=(
            QueueSpec(name="support", strategy="rrmemory", members=numbers),
            QueueSpec(name="sales", strategy="ringall", members=numbers[:1]),
        ),
        dialplan_events=dialplan_events,
    )
