"""plans lists at scale: task search through trigrams (PostgreSQL), a unit's occurrences and the plans lists in page order

- ``plan_nodes.search_text``: a GIN index of its trigrams (``pg_trgm``), PostgreSQL only, so
  ``LIKE '%word%'`` for a rare word reads the nodes holding its trigrams instead of every task in
  id order (the planner still walks the key for a word most tasks hold). SQLite keeps its scan.
  ``pg_trgm`` is a trusted extension: the database's owner may create it.
- ``ix_occurrences_unit_code_due`` gains ``id``: the owed and overdue pages, in (due, id) order,
  are read in that order and stop after a page, instead of sorting every match of the unit.
- ``ix_plans_issuer_code`` gains ``id`` and ``ix_plans_year`` (year, id) is new: the plans of an
  issuer or of a year, newest first, are read in page order.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 13:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_plan_nodes_search_text",
            "plan_nodes",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    _replace("occurrences", "ix_occurrences_unit_code_due", ["unit_code", "due", "id"])
    _replace("plans", "ix_plans_issuer_code", ["issuer_code", "id"])
    op.create_index("ix_plans_year", "plans", ["year", "id"])


def downgrade() -> None:
    op.drop_index("ix_plans_year", table_name="plans")
    _replace("plans", "ix_plans_issuer_code", ["issuer_code"])
    _replace("occurrences", "ix_occurrences_unit_code_due", ["unit_code", "due"])
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_plan_nodes_search_text", table_name="plan_nodes")  # the extension may serve others


def _replace(table: str, name: str, columns: list[str]) -> None:
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns)
