"""Small pieces of the kernel: settings, events, clock, types, logs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.clock import ManualClock
from shared.events import CloudEvent, DomainEvent, EventRegistry, EventSpec, event_type
from shared.logs import JsonFormatter, event_id_var, request_id_var
from shared.settings import Settings


def test_settings_refuse_an_unknown_bus(monkeypatch):
    monkeypatch.setenv("CCHC_BUS", "rabbitmq")
    with pytest.raises(ValidationError, match="bus"):
        Settings()


def test_a_cloudevent_survives_the_wire():
    event = CloudEvent(
        source="/cchc/plans",
        type="vn.cchc.unit.upserted.v1",
        subject="H42",
        time=datetime(2025, 7, 1, 8, tzinfo=timezone(timedelta(hours=7))),
        data={"name": "Hà Tĩnh"},
    )
    again = CloudEvent.from_json(event.to_json())
    assert again == event and again.specversion == "1.0"


def test_an_encoded_domain_event_is_the_envelope_to_json_would_write():
    @event_type("test.encoded", service="tests", subject="key", version=1)
    class Encoded(DomainEvent):
        key: str
        at: datetime
        amount: float | None = None

    event = Encoded(key="H42-1", at=datetime(2025, 7, 1, 8, tzinfo=timezone(timedelta(hours=7))))
    sent = datetime(2025, 7, 1, 1, 2, 3, 456789, tzinfo=UTC)
    event_id, encoded = CloudEvent.encode(source="/cchc/tests", time=sent, event=event)
    expected = CloudEvent(
        id=event_id, source="/cchc/tests", type=Encoded.type, time=sent, subject="H42-1", data=event.payload()
    )
    assert json.loads(encoded) == json.loads(expected.to_json())
    assert CloudEvent.from_json(encoded) == expected
    assert CloudEvent.encode(source="/cchc/tests", time=sent, event=event)[0] != event_id


def test_declaring_an_event_names_it_and_checks_its_subject():
    @event_type("test.thing_happened", service="tests", subject="thing_id", version=2)
    class ThingHappened(DomainEvent):
        thing_id: str

    assert ThingHappened.type == "vn.cchc.test.thing_happened.v2"
    assert ThingHappened(thing_id="T1").subject() == "T1"
    with pytest.raises(TypeError, match="no field 'missing'"):

        @event_type("test.broken", service="tests", subject="missing")
        class Broken(DomainEvent):
            thing_id: str


def test_one_event_type_cannot_have_two_models():
    registry = EventRegistry()

    class A(DomainEvent):
        pass

    class B(DomainEvent):
        pass

    registry.add(EventSpec("vn.cchc.x.v1", "s", "cchc.s", A))
    registry.add(EventSpec("vn.cchc.x.v1", "s", "cchc.s", A))
    with pytest.raises(ValueError, match="declared twice"):
        registry.add(EventSpec("vn.cchc.x.v1", "s", "cchc.s", B))


def test_the_manual_clock_moves_only_when_told():
    clock = ManualClock(datetime(2024, 4, 15, 13, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(hours=2))
    assert clock.now().hour == 15
    with pytest.raises(ValueError):
        ManualClock(datetime(2024, 4, 15))


def test_log_lines_are_json_with_the_request_and_event_ids():
    record = logging.LogRecord("cchc", logging.INFO, __file__, 1, "xử lý %s", ("hồ sơ",), None)
    tokens = request_id_var.set("req-1"), event_id_var.set("evt-1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(tokens[0])
        event_id_var.reset(tokens[1])
    assert line["message"] == "xử lý hồ sơ"
    assert (line["level"], line["request_id"], line["event_id"]) == ("INFO", "req-1", "evt-1")


def test_kafka_over_tls_gets_a_verifying_ssl_context(monkeypatch):
    from shared.bus.kafka import client_options

    monkeypatch.setenv("CCHC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CCHC_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("CCHC_KAFKA_SASL_USERNAME", "cchc")
    monkeypatch.setenv("CCHC_KAFKA_SASL_PASSWORD", "pw")
    options = client_options(Settings())
    assert options["ssl_context"].verify_mode.name == "CERT_REQUIRED"
    assert (options["sasl_mechanism"], options["sasl_plain_password"]) == ("SCRAM-SHA-512", "pw")
