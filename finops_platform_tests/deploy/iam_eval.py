"""IAM policy evaluation for the tests: does a policy allow this action on this resource?

The rules are IAM's for identity policies, as far as the platform's policies use them: an
explicit Deny wins; otherwise some Allow statement must match the action and the resource
(`*` matches any run of characters, `?` one, actions case-insensitively) and satisfy every
condition (a condition on a key the request lacks is not satisfied). A condition operator this
module does not know raises, rather than being read as satisfied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from finops_platform_tests.deploy.terraform_eval import Block, Module, Unknown, Unsupported


@dataclass(frozen=True)
class Condition:
    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str | Unknown, ...]
    conditions: tuple[Condition, ...]


def policy_statements(module: Module, document: str) -> list[Statement]:
    """The statements of `data "aws_iam_policy_document" "<document>"`, evaluated in `module`."""
    block = module.block("data", "aws_iam_policy_document", document)
    if block.children("dynamic") or set(block.attributes) - {"source_policy_documents"}:
        raise Unsupported(f"policy {document}: only static statement blocks are evaluated")
    statements = []
    sources = block.attributes.get("source_policy_documents")
    for source in module.evaluate(sources) if sources else []:
        # Another document of the module: data.aws_iam_policy_document.<name>.json
        reference = source.reference if isinstance(source, Unknown) else ""
        match = re.fullmatch(r"aws_iam_policy_document\.(\w+)\.json", reference)
        if match is None:
            raise Unsupported(f"policy {document}: source document {source!r}")
        statements += policy_statements(module, match[1])
    return statements + [_statement(module, s) for s in block.children("statement")]


def _statement(module: Module, block: Block) -> Statement:
    known = {"sid", "effect", "actions", "resources"}
    if set(block.attributes) - known or {b.kind for b in block.blocks} - {"condition"}:
        raise Unsupported(f"statement {block.attributes.get('sid')}: not/principals not evaluated")
    value = module.evaluate
    return Statement(
        effect=value(block.attributes["effect"]) if "effect" in block.attributes else "Allow",
        actions=tuple(value(block.attributes["actions"])),
        resources=tuple(value(block.attributes["resources"])),
        conditions=tuple(
            Condition(
                value(c.attributes["test"]),
                value(c.attributes["variable"]),
                tuple(value(c.attributes["values"])),
            )
            for c in block.children("condition")
        ),
    )


def matches(pattern: str | Unknown, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcard matching. An Unknown (an ARN known after apply) matches no probe."""
    if isinstance(pattern, Unknown):
        return False
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


OPERATORS = {
    "StringEquals": lambda pattern, value: pattern == value,
    "StringLike": matches,
    "ArnEquals": lambda pattern, value: pattern == value,
    "ArnLike": matches,
    "Bool": lambda pattern, value: pattern.lower() == value.lower(),
}


def _satisfied(condition: Condition, context: Mapping[str, str]) -> bool:
    if condition.test not in OPERATORS:
        raise Unsupported(f"condition operator {condition.test}")
    if condition.variable not in context:
        return False
    value = context[condition.variable]
    return any(OPERATORS[condition.test](v, value) for v in condition.values)


def _applies(statement: Statement, action: str, resource: str, context: Mapping[str, str]) -> bool:
    return (
        any(matches(a, action, ignore_case=True) for a in statement.actions)
        and any(matches(r, resource) for r in statement.resources)
        and all(_satisfied(c, context) for c in statement.conditions)
    )


def allows(
    statements: Sequence[Statement],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """Whether `statements` allow `action` on `resource` in a request with `context` keys."""
    applying = [s for s in statements if _applies(s, action, resource, context or {})]
    return any(s.effect == "Allow" for s in applying) and not any(
        s.effect == "Deny" for s in applying
    )


def data_actions(statement: Statement) -> list[str]:
    """The statement's actions on the platform's data services (S3, Glue, Athena)."""
    return [a for a in statement.actions if a.split(":")[0].lower() in ("s3", "glue", "athena")]
