"""What one GraphQL request may ask: depth, aliases and tokens (strawberry's own limiters), an
estimated cost refused before anything runs, and the database sessions it may hold at once.

The database sessions: each request gets :data:`~shared.uow.session_slots` (a semaphore of
``limits_graphql_connections``) which every unit of work its resolvers open takes a slot of, so a
query of many root fields waits for its own sessions instead of taking the whole pool.

The cost of a query is the number of fields it may resolve: each field counts 1 plus its
sub-selection, and a field with a page-size argument (``first``, ``limit``; a variable counts at
its default, else :data:`~shared.paging.MAX_PAGE`; an absent one at the schema's default) counts
its sub-selection that many times. ``{ dossiers(first: 500) { items { maHoSo } } }`` costs
1 + 500 × 2 = 1,001; a thousand aliases of it, a million.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    MaxIntrospectionDepthRule,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext

from shared.paging import MAX_PAGE
from shared.settings import Settings

PAGE_ARGUMENTS = ("first", "limit")


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories of the schema extensions enforcing the ``limits_graphql_*`` settings (one set per request)."""
    cost = cost_rule(settings.limits_graphql_max_cost)
    return [
        partial(MaxTokensLimiter, max_token_count=settings.limits_graphql_max_tokens),
        partial(QueryDepthLimiter, max_depth=settings.limits_graphql_max_depth, should_ignore=_introspection),
        partial(MaxAliasesLimiter, max_alias_count=settings.limits_graphql_max_aliases),
        partial(AddValidationRules, [cost, MaxIntrospectionDepthRule]),
    ]


def _introspection(context: IgnoreContext) -> bool:
    """Introspection (GraphiQL's own query is 13 deep) is bounded by graphql-core's MaxIntrospectionDepthRule instead."""
    return context.field_name.startswith("__")


def cost_rule(max_cost: int) -> type[ValidationRule]:
    """A validation rule refusing an operation whose cost (module docstring) exceeds ``max_cost``."""

    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
            context = self.context
            root = context.schema.get_root_type(node.operation)
            fragments = {d.name.value: d for d in context.document.definitions if isinstance(d, FragmentDefinitionNode)}
            defaults = {
                v.variable.name.value: int(v.default_value.value)
                for v in node.variable_definitions or ()
                if isinstance(v.default_value, IntValueNode)
            }
            estimate = _Estimate(context, fragments, defaults, max_cost)
            cost = estimate.selection(node.selection_set, root, ())
            if cost > max_cost:
                name = f" {node.name.value}" if node.name else ""
                self.report_error(
                    GraphQLError(
                        f"The query{name} may resolve about {cost:,} fields; at most {max_cost:,} are allowed. "
                        "Ask for smaller pages or fewer fields.",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "max_cost": max_cost},
                    )
                )

    return CostLimit


class _Estimate:
    def __init__(
        self,
        context: ValidationContext,
        fragments: dict[str, FragmentDefinitionNode],
        defaults: dict[str, int],
        max_cost: int,
    ) -> None:
        self.context = context
        self.fragments = fragments
        self.defaults = defaults
        self.max_cost = max_cost

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, seen: tuple) -> int:
        """The cost of ``selection_set``; stops adding once past the limit (the answer is then refused anyway)."""
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.context.schema.get_type(condition.name.value) if condition else parent
                total += self.selection(selection.selection_set, inner, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:  # a cycle is refused by graphql-core's own rule
                    inner = self.context.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection(fragment.selection_set, inner, (*seen, name))
            if total > self.max_cost:
                break
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, seen: tuple) -> int:
        definition = (
            parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else None
        )
        child = get_named_type(definition.type) if definition is not None else None
        times = 1
        for name in PAGE_ARGUMENTS:
            argument = next((a for a in node.arguments or () if a.name.value == name), None)
            if argument is not None:
                times = self._value(argument.value)
            elif definition is not None and name in definition.args:
                default = definition.args[name].default_value
                times = default if isinstance(default, int) else times
        return 1 + max(1, times) * self.selection(node.selection_set, child, seen)

    def _value(self, value: object) -> int:
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            return self.defaults.get(value.name.value, MAX_PAGE)
        return 1
