from realtime.consumers.agent import AgentConsumer
from realtime.consumers.wallboard import WallboardConsumer

__all__ = ["AgentConsumer", "WallboardConsumer"]
