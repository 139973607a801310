"""Prometheus metrics of the kernel (one registry per process; every series labelled by service or
consumer). A service declares its own metrics in its own modules, on the same default registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("cchc_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "cchc_http_request_duration_seconds", "Time to answer an HTTP request", ["service", "method", "route"]
)
OUTBOX_BACKLOG = Gauge("cchc_outbox_backlog", "Events committed but not yet published", ["service"])
OUTBOX_PUBLISHED = Counter("cchc_outbox_published_total", "Events the outbox relay published", ["service"])
EVENTS_CONSUMED = Counter("cchc_events_consumed_total", "Events a consumer handled", ["consumer", "type"])
DEAD_LETTERS = Counter("cchc_dead_letters_total", "Events set aside after bounded retries", ["consumer", "topic"])
CONSUMER_LAG = Gauge("cchc_consumer_lag", "Messages on the bus not yet consumed", ["consumer", "topic", "partition"])
