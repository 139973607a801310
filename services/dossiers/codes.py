"""The national codes of a dossier (docs/domain.md §2) and the legal moves between statuses."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Status(IntEnum):
    """TrangThaiHoSo."""

    registered = 1  # Mới đăng ký
    received = 2  # Được tiếp nhận
    not_received = 3  # Không được tiếp nhận
    processing = 4  # Đang xử lý
    awaiting_supplement = 5  # Yêu cầu bổ sung giấy tờ
    awaiting_payment = 6  # Yêu cầu thực hiện nghĩa vụ tài chính
    withdrawn = 7  # Công dân yêu cầu rút hồ sơ
    stopped = 8  # Dừng xử lý
    processed = 9  # Đã xử lý xong
    returned = 10  # Đã trả kết quả

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_finished(self) -> bool:
        """Processing has ended: the clock of the dossier stops here."""
        return self in FINISHED

    @property
    def is_paused(self) -> bool:
        """Waiting for the applicant (documents): working time is not counted."""
        return self is Status.awaiting_supplement


STATUS_LABELS = {
    Status.registered: "Mới đăng ký",
    Status.received: "Được tiếp nhận",
    Status.not_received: "Không được tiếp nhận",
    Status.processing: "Đang xử lý",
    Status.awaiting_supplement: "Yêu cầu bổ sung giấy tờ",
    Status.awaiting_payment: "Yêu cầu thực hiện nghĩa vụ tài chính",
    Status.withdrawn: "Công dân yêu cầu rút hồ sơ",
    Status.stopped: "Dừng xử lý",
    Status.processed: "Đã xử lý xong",
    Status.returned: "Đã trả kết quả",
}

FINISHED = frozenset({Status.not_received, Status.withdrawn, Status.stopped, Status.processed, Status.returned})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.registered: frozenset({Status.received, Status.not_received, Status.withdrawn}),
    Status.received: frozenset({Status.processing, Status.not_received, Status.withdrawn}),
    Status.processing: frozenset(
        {Status.awaiting_supplement, Status.awaiting_payment, Status.withdrawn, Status.stopped, Status.processed}
    ),
    Status.awaiting_supplement: frozenset({Status.processing, Status.withdrawn, Status.stopped}),
    Status.awaiting_payment: frozenset({Status.processing, Status.withdrawn, Status.stopped}),
    Status.processed: frozenset({Status.returned}),
    Status.not_received: frozenset(),
    Status.withdrawn: frozenset(),
    Status.stopped: frozenset(),
    Status.returned: frozenset(),
}

# How far along a status is; breaks ties between two copies of a dossier stamped at the same instant.
PROGRESS_RANK = {
    Status.registered: 0,
    Status.received: 1,
    Status.processing: 2,
    Status.awaiting_supplement: 3,
    Status.awaiting_payment: 3,
    Status.processed: 4,
    Status.returned: 5,
    Status.not_received: 5,
    Status.withdrawn: 5,
    Status.stopped: 5,
}


class Channel(IntEnum):
    """KenhThucHien; an empty value counts as in person."""

    in_person = 1
    online = 2
    post = 3


class SubjectType(IntEnum):
    """LoaiDoiTuong."""

    citizen = 1
    business = 2
    state_body = 3
    other_organisation = 4


class Timeliness(StrEnum):
    open_on_track = "open_on_track"
    open_due_soon = "open_due_soon"
    open_overdue = "open_overdue"
    early = "early"
    on_time = "on_time"
    late = "late"


ON_TIME = frozenset({Timeliness.early.value, Timeliness.on_time.value})


class Origin(StrEnum):
    """Where the dossier's truth lives: received here, or synced from the provincial system."""

    intake = "intake"
    sync = "sync"
