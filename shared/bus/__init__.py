"""The event-bus port and its two adapters (in-process, Kafka)."""

from shared.bus.base import BatchHandler, DeadLetter, EventBus, Message

__all__ = ["BatchHandler", "DeadLetter", "EventBus", "Message"]
