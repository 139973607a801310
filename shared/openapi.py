"""What each service's OpenAPI says beyond what FastAPI derives from the routes: every refusal a
client can get is declared, on each operation, with the problem+json body :mod:`shared.problems`
answers with (FastAPI's own ``{detail: [...]}`` 422 schema is not what answers, so it goes).

The statuses an operation declares follow from its shape, so no route repeats them:

- 401 and 403 on every operation but the operational ones (health, readiness), which stay open;
- 400 (a refusal of the domain), 404 (a thing its path, query or body names does not exist) and
  422 (invalid fields) on every operation that reads input;
- 409 on every write (a version changed, a duplicate, a move the status machine forbids);
- the limits of ``shared.request_limits`` and ``shared.rate_limits``: 429 and 503 (no answer in
  time) on every operation but the operational ones, 408, 413 and 415 on every one with a body;
- anything else a route declares in its own ``responses`` (413 for a body over a limit, 503 for
  readiness) gets the problem body too.

A route that reads its body itself (to answer record by record) declares it with :func:`read_body`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
OPEN_TAGS = frozenset({"operations"})  # health and readiness answer without a key
WRITES = frozenset({"post", "put", "patch", "delete"})
STATUS_TEXT = {
    400: "Refused by a rule of the domain (`code` says which; `errors` names the fields)",
    401: "No valid API key: send `Authorization: Bearer <key>`",
    403: "The key's role or unit may not do this",
    404: "Something the request names does not exist (`detail` says what)",
    409: "Conflicts with the current state: a version that changed, a duplicate, a move the rules forbid",
    413: "The body is larger than this route accepts",
    415: "The body's media type is not one this route reads",
    408: "The body did not arrive in time",
    422: "Some fields are invalid: one entry per field in `errors`",
    429: "Too many requests: wait as `Retry-After` says",
    503: "Not answered in time (readiness: `checks` says what is unreachable)",
}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "type": "object",
        "description": "RFC 9457 problem details: every 4xx and 5xx answer of this API",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {
                "type": "string",
                "description": "A URI naming the kind of problem; `about:blank` when `title` and `code` say it all",
                "examples": ["about:blank"],
            },
            "title": {"type": "string", "description": "A short name of the problem", "examples": ["not_found"]},
            "status": {"type": "integer", "description": "The HTTP status, repeated", "examples": [404]},
            "detail": {
                "type": "string",
                "description": "What went wrong in this request, for a person",
                "examples": ["No dossier 000.00.12.H42-240415-0007."],
            },
            "code": {
                "type": "string",
                "description": "A stable machine-readable code (`invalid_request`, `not_found`, `conflict`, "
                "`payload_too_large`...)",
                "examples": ["not_found"],
            },
            "errors": {
                "type": "array",
                "description": "One entry per field at fault (empty or absent when no field is)",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
            },
        },
        "additionalProperties": True,
    },
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "type": "object",
        "description": "One field at fault",
        "required": ["field", "message"],
        "properties": {
            "field": {
                "type": "string",
                "description": "The field's dotted path, e.g. `body.applicant.email` or `query.status.0` "
                "(empty for the body as a whole)",
            },
            "message": {"type": "string", "description": "What is wrong with it, for a person"},
            "type": {"type": "string", "description": "The kind of error (pydantic's type, e.g. `missing`)"},
        },
        "additionalProperties": True,
    },
}
FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")
COMPONENTS = "x-components"  # schemas an operation brings, moved to the components by declare_problems
REF_TEMPLATE = "#/components/schemas/{model}"


def read_body(models: Sequence[type[BaseModel]], examples: Mapping[str, Any]) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that reads its JSON body itself: one of ``models``
    (with their schemas), and ``examples`` by name."""
    refs, definitions = models_json_schema([(m, "validation") for m in models], ref_template=REF_TEMPLATE)
    one_of = [refs[(m, "validation")] for m in models]
    schema = one_of[0] if len(one_of) == 1 else {"oneOf": one_of}
    content = {"schema": schema, "examples": {name: {"value": value} for name, value in examples.items()}}
    return {
        "requestBody": {"required": True, "content": {"application/json": content}},
        COMPONENTS: definitions["$defs"],
    }


def statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The refusals an operation can answer with, from its shape (see the module's docstring)."""
    found = {int(code) for code in operation.get("responses", {}) if code.startswith(("4", "5"))}
    found.discard(422)  # FastAPI adds it to every operation with parameters; decided below
    if OPEN_TAGS.isdisjoint(operation.get("tags", [])):
        found |= {401, 403, 429, 503}
    if operation.get("parameters") or "requestBody" in operation:
        found |= {400, 404, 422}
    if "requestBody" in operation:
        found |= {408, 413, 415}
    if method in WRITES:
        found.add(409)
    return found


def declare_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with the problem+json body on every refusal each operation can answer."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_ERROR_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(SCHEMAS)
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            for name, schema in operation.pop(COMPONENTS, {}).items():
                schemas.setdefault(name, schema)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses(method, operation)):
                declared = responses.get(str(status), {}) if status != 422 else {}  # not FastAPI's text
                responses[str(status)] = {
                    "description": declared.get("description") or STATUS_TEXT.get(status, "Refused"),
                    "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
                }
            operation["responses"] = dict(sorted(responses.items()))
    return spec


def install_openapi(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI the one :func:`declare_problems` completes (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_problems(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
