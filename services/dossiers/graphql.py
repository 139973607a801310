"""GraphQL types and resolvers of the dossiers service."""

from __future__ import annotations

import strawberry

from shared.graphql import service_status_field


@strawberry.type
class Query:
    dossiers_status = service_status_field("dossiers")
