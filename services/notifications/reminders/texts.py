"""The words of reminders (Vietnamese: they go to the officers of a unit)."""

from __future__ import annotations

from datetime import date, datetime

from services.notifications.reminders.schemas import DossierDueSoonIn, TargetAtRiskIn, TaskReminderIn
from shared.clock import VN_TZ


def _day(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _instant(at: datetime) -> str:
    return at.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m/%Y")


def _task(t: TaskReminderIn) -> str:
    label = f"{t.task_label}. " if t.task_label else ""
    plan = f" (kế hoạch số {t.plan_number})" if t.plan_number else ""
    return f"nhiệm vụ {label}{t.task_title}{plan}"


def task_due_soon(t: TaskReminderIn) -> tuple[str, str]:
    return (
        f"Nhắc việc: còn {t.offset_days} ngày làm việc đến hạn",
        f"Đơn vị {t.unit_code}: {_task(t)} đến hạn ngày {_day(t.due)}, còn {t.offset_days} ngày làm việc.",
    )


def task_overdue(t: TaskReminderIn) -> tuple[str, str]:
    return (
        "Nhiệm vụ quá hạn",
        f"Đơn vị {t.unit_code}: {_task(t)} đã quá hạn ngày {_day(t.due)} mà chưa hoàn thành.",
    )


def dossier_due_soon(d: DossierDueSoonIn) -> tuple[str, str]:
    procedure = f" ({d.procedure.name})" if d.procedure and d.procedure.name else ""
    deadline = f" Hạn gửi văn bản xin lỗi: {_instant(d.apology_deadline)}." if d.apology_deadline else ""
    return (
        f"Hạn xin lỗi hôm nay: hồ sơ {d.ma_ho_so}",
        f"Hạn xin lỗi hôm nay: hồ sơ {d.ma_ho_so}{procedure} đến hạn trả kết quả lúc {_instant(d.due_at)}. "
        f"Nếu không kịp trả kết quả, gửi văn bản xin lỗi và hẹn lại ngày trả cho người nộp.{deadline}",
    )


def _number(value: float | None) -> str:
    return "?" if value is None else f"{value:g}".replace(".", ",")


def target_at_risk(t: TargetAtRiskIn) -> tuple[str, str]:
    name = t.name or t.code
    return (
        f"Chỉ tiêu có nguy cơ không đạt: {name}",
        f"Đơn vị {t.unit}, kỳ {t.period}: chỉ tiêu {name} hiện đạt {_number(t.value)}, mục tiêu {_number(t.target)}.",
    )


def digest(day: date, titles: list[str], limit: int | None) -> tuple[str, str]:
    """One message for the day's held reminders; cut to ``limit`` characters, saying how many were left out."""
    subject = f"Tổng hợp nhắc việc ngày {_day(day)}"
    lines = [f"{subject} ({len(titles)} nội dung):"]
    for i, title in enumerate(titles):
        candidate = "\n".join([*lines, f"- {title}"])
        rest = f"\n… và {len(titles) - i} nội dung khác."
        if limit is not None and len(candidate) + len(rest) > limit:
            return subject, "\n".join(lines) + rest
        lines.append(f"- {title}")
    return subject, "\n".join(lines)
