"""Who may call each route and GraphQL root field of notifications (shared.access; docs/security.md)."""

from __future__ import annotations

from shared.access import Access, AccessTable

R, W, A = Access.READ, Access.WRITE, Access.ADMIN

ACCESS = AccessTable(
    routes={
        ("GET", "/v1/recipients"): R,
        ("GET", "/v1/recipients/{unit_code}"): R,
        # who of a unit gets its reminders: the unit's own officers keep it
        ("GET", "/v1/recipients/{unit_code}/contacts"): R,
        ("POST", "/v1/recipients/{unit_code}/contacts"): W,
        ("PUT", "/v1/recipients/{unit_code}/contacts/{contact_id}"): W,
        ("DELETE", "/v1/recipients/{unit_code}/contacts/{contact_id}"): W,
        ("GET", "/v1/deliveries"): R,
        ("GET", "/v1/deliveries/{delivery_id}"): R,
        # webhook endpoints: the system's set-up (their secrets, where events go)
        ("POST", "/v1/webhooks"): A,
        ("GET", "/v1/webhooks"): A,
        ("GET", "/v1/webhooks/{endpoint_id}"): A,
        ("PATCH", "/v1/webhooks/{endpoint_id}"): A,
        ("DELETE", "/v1/webhooks/{endpoint_id}"): A,
        ("POST", "/v1/webhooks/{endpoint_id}/secret:rotate"): A,
        ("POST", "/v1/webhooks/{endpoint_id}:test"): A,
        ("GET", "/v1/webhooks/{endpoint_id}/deliveries"): A,
        ("GET", "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}"): A,
        ("POST", "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}:redeliver"): A,
        # letters: written, approved and issued by the units' officers
        ("GET", "/v1/letters"): R,
        ("POST", "/v1/letters"): W,
        ("GET", "/v1/letters/print-queue"): R,
        ("GET", "/v1/letters/{letter_id}.pdf"): R,
        ("GET", "/v1/letters/{letter_id}/text"): R,
        ("GET", "/v1/letters/{letter_id}"): R,
        ("POST", "/v1/letters/{letter_id}:approve"): W,
        ("POST", "/v1/letters/{letter_id}:issue"): W,
        ("POST", "/v1/letters/{letter_id}:deliver"): W,
        ("POST", "/v1/letters/{letter_id}:fail"): W,
        ("GET", "/v1/letter-settings:default"): R,
        ("PUT", "/v1/letter-settings:default"): A,
        ("GET", "/v1/letter-settings/{unit_code}"): R,
        ("PUT", "/v1/letter-settings/{unit_code}"): A,
    },
    queries={
        "letters": R,
        "letter": R,
        "letterPrintQueue": R,
        "deliveries": R,
        "deliveryAttempts": R,
        "webhookEndpoints": A,
        "webhookDeliveries": A,
        "webhookAttempts": A,
        "contacts": R,
        "notificationsStatus": R,
        "recipients": R,
    },
    mutations={
        "createLetter": W,
        "approveLetter": W,
        "issueLetter": W,
        "markLetterDelivered": W,
        "markLetterFailed": W,
        "createWebhook": A,
        "updateWebhook": A,
        "deleteWebhook": A,
        "rotateWebhookSecret": A,
        "testWebhook": A,
        "redeliverWebhook": A,
        "addContact": W,
        "replaceContact": W,
        "removeContact": W,
    },
)
