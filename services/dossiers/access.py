"""Who may call each route and GraphQL root field of dossiers (shared.access; docs/security.md)."""

from __future__ import annotations

from shared.access import Access, AccessTable

R, D, W, P, A = Access.READ, Access.DOSSIER_READ, Access.WRITE, Access.PUSH, Access.ADMIN

ACCESS = AccessTable(
    routes={
        ("GET", "/v1/calendar/due"): R,
        ("GET", "/v1/calendar/days"): R,
        ("PUT", "/v1/calendar/days/{day}"): A,
        ("DELETE", "/v1/calendar/days/{day}"): A,
        ("GET", "/v1/calendar/units/{unit}/hours"): R,
        ("PUT", "/v1/calendar/units/{unit}/hours"): A,
        ("DELETE", "/v1/calendar/units/{unit}/hours"): A,
        ("PUT", "/v1/procedures/{ma_tthc}"): A,
        ("GET", "/v1/procedures/{ma_tthc}"): R,
        ("GET", "/v1/procedures"): R,
        ("POST", "/v1/dossiers"): W,
        ("POST", "/v1/dossiers/{ma_ho_so}/transitions"): W,
        ("GET", "/v1/dossiers/{ma_ho_so}"): D,
        ("GET", "/v1/dossiers"): D,
        ("POST", "/v1/sync/dvcqg"): P,
        ("PUT", "/v1/sync/keys/{key_id}/secret"): A,
        ("DELETE", "/v1/sync/keys/{key_id}/secret"): A,
    },
    queries={"dossiersStatus": R, "dossier": D, "dossiers": D, "officeHours": R},
    mutations={"setOfficeHours": A, "clearOfficeHours": A},
)
