"""The events catalogue as an AsyncAPI 3.0 document, generated from the registered event models."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from shared.events import CloudEvent, registry


def asyncapi_document(services: Collection[str]) -> dict[str, Any]:
    """The catalogue of the events the given services publish."""
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    by_topic: dict[str, list[str]] = defaultdict(list)
    for spec in (s for s in registry.all() if s.service in services):
        name = spec.model.__name__
        data_schema = spec.model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
        schemas.update(data_schema.pop("$defs", {}))
        schemas[name] = data_schema
        messages[name] = {
            "name": spec.type,
            "title": name,
            "summary": (spec.model.__doc__ or "").strip().splitlines()[0] if spec.model.__doc__ else "",
            "contentType": "application/cloudevents+json",
            "correlationId": {"location": "$message.payload#/subject"},
            "bindings": {"kafka": {"key": {"type": "string", "description": f"subject: {spec.model.subject_field}"}}},
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": spec.type},
                            "source": {"const": f"/cchc/{spec.service}"},
                            "data": {"$ref": f"#/components/schemas/{name}"},
                        },
                    },
                ]
            },
        }
        by_topic[spec.topic].append(name)
    envelope = CloudEvent.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    schemas["CloudEvent"] = envelope
    for topic, names in sorted(by_topic.items()):
        channels[topic] = {
            "address": topic,
            "description": f"Events of {topic.split('.', 1)[1]}; dead letters in {topic}.dlt",
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
        }
        operations[f"publish.{topic}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{n}"} for n in names],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "cchc events",
            "version": "1",
            "description": "CloudEvents 1.0 published through each service's transactional outbox. "
            "The subject is the aggregate id and the Kafka key. Types are versioned: fields may be "
            "added, never renamed or dropped.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
