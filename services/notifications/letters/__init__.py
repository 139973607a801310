"""Apology letters (docs/domain.md §5): one per (dossier, missed due date), in the legal form in force at
the dossier's receipt, numbered per issuing unit and year, rendered as an NĐ 30/2020 document."""
