"""Demo data of the notifications service (``cchc run --demo``): default letter settings under which
every unit issues the apology of a late dossier on its own, so the headline flow shows from the start."""

from __future__ import annotations

from services.notifications.letters import policy
from services.notifications.letters.schemas import LetterSettingsIn
from shared.service import ServiceContext

DEMO_DEFAULT = LetterSettingsIn(
    issuing_body="Cơ quan giải quyết thủ tục hành chính",
    signer_authority="KT. Thủ trưởng cơ quan",
    signer_title="Phó Thủ trưởng cơ quan",
    signer_name="Nguyễn Văn Minh",
    auto_issue=True,
)


async def load_demo(context: ServiceContext) -> None:
    async with context.uow() as uow:
        await policy.put_settings(uow, policy.DEFAULT, DEMO_DEFAULT.model_dump())
        await uow.commit()
