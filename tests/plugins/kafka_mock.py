"""librdkafka's in-process mock Kafka cluster, driven through ctypes.

``MockKafkaCluster`` is plain Python (usable from bench/ too); the pytest
fixture ``kafka_bootstrap`` starts one cluster per test session.  The mock
cluster serves one consumer per consumer group at a time, auto-creates topics
(4 partitions) and, after a member leaves a group, holds the next join for the
leaver's ``session_timeout_ms - 1000`` ms: give test consumers a short session
timeout (e.g. 2000 ms with a 500 ms heartbeat).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from collections.abc import Iterator
from types import TracebackType
from typing import NoReturn

import pytest

_RD_KAFKA_PRODUCER = 0
_RD_KAFKA_CONF_OK = 0


class MockKafkaUnavailable(RuntimeError):
    """librdkafka (or its mock cluster API) cannot be loaded or started."""


def _load_librdkafka() -> ctypes.CDLL:
    """Load the librdkafka bundled with the confluent-kafka wheel, else the system one."""
    candidates: list[str] = []
    try:
        import confluent_kafka
    except ImportError:
        pass
    else:
        package_dir = os.path.dirname(confluent_kafka.__file__)
        for pattern in ("../confluent_kafka.libs/librdkafka*.so*", ".dylibs/librdkafka*.dylib"):
            candidates += sorted(glob.glob(os.path.join(package_dir, pattern)))
    system_lib = ctypes.util.find_library("rdkafka")
    if system_lib:
        candidates.append(system_lib)
    if not candidates:
        raise MockKafkaUnavailable("librdkafka not found (install confluent-kafka)")
    try:
        lib = ctypes.CDLL(candidates[0])
        _declare_signatures(lib)
    except (OSError, AttributeError) as exc:
        raise MockKafkaUnavailable(f"cannot use {candidates[0]}: {exc}") from exc
    return lib


def _declare_signatures(lib: ctypes.CDLL) -> None:
    """Give ctypes the C signatures it needs (pointers must not be truncated to int)."""
    vp, cp, size = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t
    lib.rd_kafka_conf_new.restype = vp
    lib.rd_kafka_conf_new.argtypes = []
    lib.rd_kafka_conf_set.restype = ctypes.c_int
    lib.rd_kafka_conf_set.argtypes = [vp, cp, cp, cp, size]
    lib.rd_kafka_conf_destroy.restype = None
    lib.rd_kafka_conf_destroy.argtypes = [vp]
    lib.rd_kafka_new.restype = vp
    lib.rd_kafka_new.argtypes = [ctypes.c_int, vp, cp, size]
    lib.rd_kafka_destroy.restype = None
    lib.rd_kafka_destroy.argtypes = [vp]
    lib.rd_kafka_mock_cluster_new.restype = vp
    lib.rd_kafka_mock_cluster_new.argtypes = [vp, ctypes.c_int]
    lib.rd_kafka_mock_cluster_bootstraps.restype = cp
    lib.rd_kafka_mock_cluster_bootstraps.argtypes = [vp]
    lib.rd_kafka_mock_cluster_destroy.restype = None
    lib.rd_kafka_mock_cluster_destroy.argtypes = [vp]
    lib.rd_kafka_mock_group_initial_rebalance_delay_ms.restype = None
    lib.rd_kafka_mock_group_initial_rebalance_delay_ms.argtypes = [vp, ctypes.c_int32]


class MockKafkaCluster:
    """A librdkafka mock cluster listening on 127.0.0.1 (random ports)."""

    def __init__(self, brokers: int = 1) -> None:
        self._brokers = brokers
        self._lib: ctypes.CDLL | None = None
        self._handle: int | None = None
        self._cluster: int | None = None
        self._bootstrap: str | None = None

    @property
    def bootstrap(self) -> str:
        """``host:port[,host:port...]`` of the running cluster."""
        if self._bootstrap is None:
            raise RuntimeError("MockKafkaCluster is not started")
        return self._bootstrap

    def start(self) -> str:
        """Start the cluster and return its bootstrap servers string."""
        if self._bootstrap is not None:
            return self._bootstrap
        lib = _load_librdkafka()
        errstr = ctypes.create_string_buffer(512)
        conf = lib.rd_kafka_conf_new()
        # The owning handle has no bootstrap.servers; level 4 hides that notice
        # (CONFWARN is logged at level 5) but keeps warnings and errors.
        res = lib.rd_kafka_conf_set(conf, b"log_level", b"4", errstr, len(errstr))
        if res != _RD_KAFKA_CONF_OK:
            lib.rd_kafka_conf_destroy(conf)
            raise MockKafkaUnavailable(f"rd_kafka_conf_set: {errstr.value.decode()}")
        handle = lib.rd_kafka_new(_RD_KAFKA_PRODUCER, conf, errstr, len(errstr))
        if not handle:  # on failure conf is still ours
            lib.rd_kafka_conf_destroy(conf)
            raise MockKafkaUnavailable(f"rd_kafka_new: {errstr.value.decode()}")
        cluster = lib.rd_kafka_mock_cluster_new(handle, self._brokers)
        if not cluster:
            lib.rd_kafka_destroy(handle)
            raise MockKafkaUnavailable("rd_kafka_mock_cluster_new failed")
        # The broker default (3 s) only slows the first join of every group.
        lib.rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, 0)
        self._lib, self._handle, self._cluster = lib, handle, cluster
        self._bootstrap = lib.rd_kafka_mock_cluster_bootstraps(cluster).decode()
        return self._bootstrap

    def close(self) -> None:
        """Destroy the cluster and its owning handle (idempotent)."""
        if self._lib is None:
            return
        self._lib.rd_kafka_mock_cluster_destroy(self._cluster)
        self._lib.rd_kafka_destroy(self._handle)
        self._lib = self._handle = self._cluster = self._bootstrap = None

    def __enter__(self) -> MockKafkaCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _skip_or_fail(problem: str) -> NoReturn:
    """Fail under CI / ``CCHC_REQUIRE_KAFKA=1``, otherwise skip."""
    reason = f"mock Kafka cluster unavailable: {problem}"
    if os.environ.get("CI") or os.environ.get("CCHC_REQUIRE_KAFKA") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers (``127.0.0.1:PORT``) of a session-wide mock Kafka cluster."""
    cluster = MockKafkaCluster()
    try:
        cluster.start()
    except MockKafkaUnavailable as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:
        _skip_or_fail(problem)
    try:
        yield cluster.bootstrap
    finally:
        cluster.close()
