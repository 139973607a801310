"""Every GraphQL error carries ``extensions.code``: the request's faults say what was wrong, the
server's are masked."""

from __future__ import annotations

import strawberry
from pydantic import BaseModel, Field, ValidationError

from shared.graphql import ErrorCodes, invalid_input


class Hours(BaseModel):
    windows: list[str] = Field(max_length=2)


@strawberry.type
class Query:
    @strawberry.field
    def hours(self, windows: list[str]) -> int:
        try:
            return len(Hours(windows=windows).windows)
        except ValidationError as exc:
            raise invalid_input(exc, lambda errors: [{**e, "msg": "Nhiều nhất 2 khung giờ."} for e in errors]) from None

    @strawberry.field
    def broken(self) -> int:
        raise RuntimeError("password=hunter2")


SCHEMA = strawberry.Schema(query=Query, extensions=[ErrorCodes])
HOURS = "query($w: [String!]!) { hours(windows: $w) }"


def test_a_variable_of_the_wrong_type_is_the_requests_fault_and_a_resolvers_crash_stays_masked():
    [error] = SCHEMA.execute_sync(HOURS, variable_values={"w": [730]}).errors or []
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "String cannot represent a non string value: 730" in error.message
    [crash] = SCHEMA.execute_sync("{ broken }").errors or []
    assert crash.extensions == {"code": "INTERNAL_SERVER_ERROR"} and "hunter2" not in crash.message


def test_invalid_input_names_each_field_with_its_type_and_the_translated_message():
    [error] = SCHEMA.execute_sync(HOURS, variable_values={"w": ["a", "b", "c"]}).errors or []
    assert error.extensions == {
        "code": "INVALID_INPUT", "errors": [{"field": "windows", "message": "Nhiều nhất 2 khung giờ.", "type": "too_long"}]
    }  # fmt: skip
