"""Shared pytest configuration for the cchc test suite."""

# Session-wide infrastructure: a real PostgreSQL server and a mock Kafka broker.
pytest_plugins = ["tests.plugins.postgres_server", "tests.plugins.kafka_mock", "tests.support.fixtures"]
