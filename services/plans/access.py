"""Who may call each route and GraphQL root field of plans (shared.access; docs/security.md)."""

from __future__ import annotations

from shared.access import Access, AccessTable

R, W, A = Access.READ, Access.WRITE, Access.ADMIN

ACCESS = AccessTable(
    routes={
        # the units registry and its groups: the system's set-up
        ("POST", "/v1/units:import"): A,
        ("PUT", "/v1/units/{code}"): A,
        ("PATCH", "/v1/units/{code}"): A,
        ("DELETE", "/v1/units/{code}"): A,
        ("GET", "/v1/units/{code}"): R,
        ("GET", "/v1/units"): R,
        ("PUT", "/v1/unit-groups/{code}"): A,
        ("DELETE", "/v1/unit-groups/{code}"): A,
        ("GET", "/v1/unit-groups/{code}"): R,
        ("GET", "/v1/unit-groups"): R,
        ("GET", "/v1/units/{code}/obligations"): R,
        ("GET", "/v1/units/{code}/overdue"): R,
        # plans, their tasks and targets: the units' own work
        ("POST", "/v1/plans:import"): W,
        ("POST", "/v1/plans"): W,
        ("GET", "/v1/plans"): R,
        ("GET", "/v1/plans/{plan_id}"): R,
        ("GET", "/v1/plans/{plan_id}/revisions"): R,
        ("GET", "/v1/plans/{plan_id}/tree"): R,
        ("POST", "/v1/plans/{plan_id}/nodes"): W,
        ("PATCH", "/v1/nodes/{node_id}"): W,
        ("POST", "/v1/plans/{plan_id}:publish"): W,
        ("POST", "/v1/plans/{plan_id}:close"): W,
        ("GET", "/v1/tasks"): R,
        ("GET", "/v1/obligations/{obligation_id}"): R,
        ("PATCH", "/v1/obligations/{obligation_id}"): W,
        ("GET", "/v1/obligations/{obligation_id}/occurrences"): R,
        ("GET", "/v1/occurrences/{occurrence_id}"): R,
        ("PATCH", "/v1/occurrences/{occurrence_id}"): W,
        ("GET", "/v1/plans/{plan_id}/targets"): R,
        ("POST", "/v1/plans/{plan_id}/targets"): W,
        ("PUT", "/v1/targets/{target_id}"): W,
        ("POST", "/v1/targets/{target_id}:confirm"): W,
        ("DELETE", "/v1/targets/{target_id}"): W,
        # API keys (plans owns them for every service)
        ("POST", "/v1/api-keys"): A,
        ("GET", "/v1/api-keys"): A,
        ("GET", "/v1/api-keys/{key_id}"): A,
        ("POST", "/v1/api-keys/{key_id}:revoke"): A,
    },
    queries={
        "plansStatus": R,
        "units": R,
        "unit": R,
        "unitGroups": R,
        "plans": R,
        "plan": R,
        "unitObligations": R,
        "overdueObligations": R,
        "searchTasks": R,
        "apiKeys": A,
    },
    mutations={
        "upsertUnit": A,
        "patchUnit": A,
        "importPlan": W,
        "publishPlan": W,
        "addNode": W,
        "changeNode": W,
        "reportProgress": W,
        "reportOccurrenceProgress": W,
        "setTarget": W,
        "updateTarget": W,
        "confirmTarget": W,
        "createApiKey": A,
        "revokeApiKey": A,
    },
)
