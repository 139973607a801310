"""Who may call each route and GraphQL root field of scoring (shared.access; docs/security.md)."""

from __future__ import annotations

from shared.access import Access, AccessTable

R = Access.READ

ACCESS = AccessTable(
    routes={
        ("GET", "/v1/catalogue"): R,
        ("GET", "/v1/indicators"): R,
        ("GET", "/v1/indicators/{code}/series"): R,
        ("GET", "/v1/scorecard"): R,
        ("GET", "/v1/rankings"): R,
        ("GET", "/v1/targets"): R,
    },
    queries={
        "scoringStatus": R,
        "indicators": R,
        "indicatorSeries": R,
        "scorecard": R,
        "rankings": R,
        "scoringTargets": R,
        "indicatorCatalogue": R,
    },
)
