"""GraphQL types and resolvers of the scoring service."""

from __future__ import annotations

import strawberry

from shared.graphql import service_status_field


@strawberry.type
class Query:
    scoring_status = service_status_field("scoring")
