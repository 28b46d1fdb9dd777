from realtime.consumers.agent import AgentConsumer
from realtime.consumers.supervisor import SupervisorConsumer
from realtime.consumers.wallboard import WallboardConsumer

__all__ = ["AgentConsumer", "SupervisorConsumer", "WallboardConsumer"]
