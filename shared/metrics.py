"""Prometheus metrics of the process (one registry; every series labelled by service or consumer)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "cchc_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "cchc_http_request_duration_seconds", "Time to answer an HTTP request", ["service", "method", "route"]
)
OUTBOX_BACKLOG = Gauge("cchc_outbox_backlog", "Events committed but not yet published", ["service"])
OUTBOX_PUBLISHED = Counter("cchc_outbox_published_total", "Events the outbox relay published", ["service"])
EVENTS_CONSUMED = Counter("cchc_events_consumed_total", "Events a consumer handled", ["consumer", "type"])
DEAD_LETTERS = Counter("cchc_dead_letters_total", "Events set aside after bounded retries", ["consumer", "topic"])
CONSUMER_LAG = Gauge(
    "cchc_consumer_lag", "Messages on the bus not yet consumed", ["consumer", "topic", "partition"]
)
PULL_RECORDS = Counter("cchc_pull_records_total", "Records a pull connector fetched and applied", ["source"])
PULL_ERRORS = Counter("cchc_pull_errors_total", "Failed polls of a pull connector, by kind", ["source", "kind"])
