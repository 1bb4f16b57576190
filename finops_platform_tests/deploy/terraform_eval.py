"""A small evaluator of this repository's Terraform, for tests that cannot run `terraform plan`.

No provider can be downloaded here, so Terraform itself cannot evaluate the configuration. This
walks python-hcl2's syntax tree and evaluates exactly the expression forms the modules use for
names, locations and policies (strings with interpolation, references, function calls, `for`
expressions, conditionals, comparisons): anything else raises `Unsupported`, so a new form in
an evaluated expression fails a test instead of being guessed. Values Terraform knows only
after apply (a resource's ARN, say) evaluate to `Unknown`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from lark import Token, Tree


class EvalError(Exception):
    """What Terraform reports as an error at evaluation (a missing key): `try` catches it."""


class Unsupported(Exception):
    """An expression form or function this evaluator does not implement."""


@dataclass(frozen=True)
class Unknown:
    """A value known only after apply, named by the reference it came from."""

    reference: str


def _nodes(tree: Tree) -> list[Tree]:
    """The children that mean something (no punctuation tokens, comments or new lines)."""
    return [c for c in tree.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _name(tree: Tree) -> str:
    return str(tree.children[0])


@dataclass
class Block:
    """A block (`resource "type" "name" { ... }`): its kind, labels, attributes and blocks."""

    kind: str
    labels: tuple[str, ...]
    attributes: dict[str, Tree] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]


def _block(tree: Tree) -> Block:
    parts = _nodes(tree)
    labels = tuple(_string_literal(p) for p in parts[1:-1])
    block = Block(_name(parts[0]), labels)
    for item in _nodes(parts[-1]):
        if item.data == "attribute":
            key, value = _nodes(item)
            block.attributes[_name(key)] = value
        else:
            block.blocks.append(_block(item))
    return block


def _string_literal(tree: Tree) -> str:
    parts = [c for c in _nodes(tree) if c.data == "string_part"]
    if any(isinstance(c, Tree) for p in parts for c in p.children):
        raise Unsupported("a block label with interpolation")
    return "".join(str(c) for p in parts for c in p.children)


@cache
def parse_module(directory: Path) -> list[Block]:
    """The top-level blocks of every `.tf` file of a module directory."""
    blocks = []
    for path in sorted(directory.glob("*.tf")):
        tree = hcl2.parses_to_tree(path.read_text(encoding="utf-8"))
        blocks += [_block(t) for t in _nodes(_nodes(tree)[0]) if t.data == "block"]
    return blocks


def _try(evaluate: Callable[[Tree], Any], *args: Tree) -> Any:
    for arg in args:
        try:
            return evaluate(arg)
        except EvalError:
            continue
    raise EvalError("no argument of try() could be evaluated")


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    raise EvalError("coalesce(): every argument is null or empty")


def _jsonencode(value: Any) -> str:
    """JSON, as Terraform writes it; a value known only after apply is written as
    `{"$unknown": reference}` (read it back with `json_with_unknowns`)."""
    return json.dumps(value, default=lambda v: {UNKNOWN_KEY: v.reference})


UNKNOWN_KEY = "$unknown"


def json_with_unknowns(text: str) -> Any:
    """A `jsonencode` result read back, its unknown values as `Unknown` again."""
    hook = lambda d: Unknown(d[UNKNOWN_KEY]) if set(d) == {UNKNOWN_KEY} else d  # noqa: E731
    return json.loads(text, object_hook=hook)


def _merge(*maps: dict[str, Any]) -> dict[str, Any]:
    return {k: v for m in maps for k, v in m.items()}


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "coalesce": _coalesce,
    "coalescelist": lambda *lists: next((v for v in lists if v), []),
    "trimprefix": lambda s, prefix: s.removeprefix(prefix),
    "trimsuffix": lambda s, suffix: s.removesuffix(suffix),
    "split": lambda sep, s: s.split(sep),
    "distinct": lambda values: list(dict.fromkeys(values)),
    "concat": lambda *lists: [v for values in lists for v in values],
    "toset": lambda values: sorted(set(values)),
    "jsondecode": json.loads,
    "jsonencode": _jsonencode,
    "startswith": lambda s, prefix: s.startswith(prefix),
    "merge": _merge,
    "tostring": lambda v: (
        v if isinstance(v, Unknown) else str(v).lower() if isinstance(v, bool) else str(v)
    ),
}

BINARY = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "&&": lambda a, b: a and b,
    "||": lambda a, b: a or b,
}


class Module:
    """One module directory, its variables set: evaluates its locals, resources and children."""

    def __init__(self, directory: Path, variables: dict[str, Any], data: dict[str, Any]) -> None:
        self.directory = directory
        self.blocks = parse_module(directory)
        self.data = data  # "type.name.attribute" of data sources -> value
        declared = {b.labels[0]: b for b in self.blocks if b.kind == "variable"}
        unknown = set(variables) - set(declared)
        if unknown:
            raise EvalError(f"{directory}: no variable {sorted(unknown)}")
        self.variables = {}
        for name, block in declared.items():
            if name in variables:
                self.variables[name] = variables[name]
            elif "default" in block.attributes:
                self.variables[name] = self.evaluate(block.attributes["default"])
            else:
                raise EvalError(f"{directory}: variable {name!r} is required")
        self.locals = {
            name: tree
            for b in self.blocks
            if b.kind == "locals"
            for name, tree in b.attributes.items()
        }

    def block(self, kind: str, *labels: str) -> Block:
        (found,) = [b for b in self.blocks if b.kind == kind and b.labels == labels]
        return found

    def local(self, name: str) -> Any:
        if name not in self.locals:
            raise EvalError(f"no local {name!r}")
        return self.evaluate(self.locals[name])

    def module_for_each(self, name: str) -> dict[str, Any]:
        return self.evaluate(self.block("module", name).attributes["for_each"])

    def child(self, name: str, each: tuple[str, Any] | None = None) -> Module:
        """The module called `name` (one instance of it, for a `for_each` call)."""
        call = self.block("module", name)
        scope = {"each": {"key": each[0], "value": each[1]}} if each else {}
        arguments = {
            key: self.evaluate(tree, scope)
            for key, tree in call.attributes.items()
            if key not in ("source", "for_each")
        }
        source = self.directory / self.evaluate(call.attributes["source"])
        return Module(source.resolve(), arguments, self.data)

    def output(self, name: str) -> Any:
        return self.evaluate(self.block("output", name).attributes["value"])

    def attribute(self, block: Block, name: str, scope: dict[str, Any] | None = None) -> Any:
        if name not in block.attributes:
            return Unknown(".".join([*block.labels, name]))
        return self.evaluate(block.attributes[name], scope)

    def evaluate(self, tree: Tree, scope: dict[str, Any] | None = None) -> Any:
        return _Evaluation(self, scope or {}).value(tree)


class _Evaluation:
    """One expression's evaluation: the module, plus the names bound by `each` and `for`."""

    def __init__(self, module: Module, scope: dict[str, Any]) -> None:
        self.module, self.scope = module, scope

    def value(self, tree: Tree) -> Any:
        method = getattr(self, f"_{tree.data}", None)
        if method is None:
            raise Unsupported(f"expression form {tree.data!r}")
        return method(tree)

    def _expr_term(self, tree: Tree) -> Any:
        (inner,) = _nodes(tree)
        return self.value(inner)

    def _int_lit(self, tree: Tree) -> int:
        return int(str(tree.children[0]))

    def _literal_value(self, tree: Tree) -> Any:
        return {"true": True, "false": False, "null": None}[str(tree.children[0])]

    def _string(self, tree: Tree) -> Any:
        pieces = []
        for part in (c for c in _nodes(tree) if c.data == "string_part"):
            for child in part.children:
                if isinstance(child, Token):
                    pieces.append(str(child).replace('\\"', '"').replace("\\\\", "\\"))
                else:  # an interpolation: ${ expression }
                    pieces.append(self.value(_nodes(child)[0]))
        if len(pieces) == 1 and isinstance(pieces[0], Unknown):
            return pieces[0]
        if any(isinstance(p, Unknown) for p in pieces):
            # A template around an unknown value: unknown, named by the whole template.
            return Unknown(
                "".join(f"${{{p.reference}}}" if isinstance(p, Unknown) else str(p) for p in pieces)
            )
        return "".join(str(p) for p in pieces)

    def _tuple(self, tree: Tree) -> list[Any]:
        return [self.value(item) for item in _nodes(tree)]

    def _object(self, tree: Tree) -> dict[str, Any]:
        result = {}
        for element in _nodes(tree):
            key, value = _nodes(element)
            (term,) = _nodes(key)
            (inner,) = _nodes(term) if term.data == "expr_term" else (term,)
            name = _name(inner) if inner.data == "identifier" else self.value(inner)
            result[name] = self.value(value)
        return result

    def _identifier(self, tree: Tree) -> Any:
        name = _name(tree)
        if name in self.scope:
            return self.scope[name]
        roots = {
            "var": lambda: self.module.variables,
            "local": lambda: _Lazy(self.module.local),
            "path": lambda: {"module": str(self.module.directory)},
            "module": lambda: _Lazy(self._module_call),
            "data": lambda: _Path("data", lambda ref: self.module.data.get(ref, Unknown(ref))),
        }
        if name in roots:
            return roots[name]()
        return _Path(name, self._resource_attribute)

    def _module_call(self, name: str) -> Any:
        if {"for_each", "count"} & set(self.module.block("module", name).attributes):
            return Unknown(f"module.{name}")
        return _Lazy(self.module.child(name).output)

    def _resource_attribute(self, reference: str) -> Any:
        kind, name, attribute = reference.split(".")
        return self.module.attribute(self.module.block("resource", kind, name), attribute)

    def _get_attr_expr_term(self, tree: Tree) -> Any:
        target, get_attr = _nodes(tree)
        return _attribute(self.value(target), _name(_nodes(get_attr)[0]))

    def _index_expr_term(self, tree: Tree) -> Any:
        target, index = _nodes(tree)
        container, key = self.value(target), self.value(_nodes(index)[0])
        if isinstance(container, _Path):  # a resource's instance: the same config
            return container
        if isinstance(container, Unknown):  # one instance of an unknown: named by its key
            return Unknown(f"{container.reference}[{key!r}]")
        try:
            return container[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise EvalError(f"no index {key!r}") from exc

    def _conditional(self, tree: Tree) -> Any:
        condition, yes, no = _nodes(tree)
        return self.value(yes) if self.value(condition) else self.value(no)

    def _binary_op(self, tree: Tree) -> Any:
        left, term = _nodes(tree)
        operator, right = term.children[0], _nodes(term)[-1]
        symbol = str(operator.children[0]) if isinstance(operator, Tree) else str(operator)
        if symbol not in BINARY:
            raise Unsupported(f"operator {symbol!r}")
        return BINARY[symbol](self.value(left), self.value(right))

    def _function_call(self, tree: Tree) -> Any:
        parts = _nodes(tree)
        name = _name(parts[0])
        args = _nodes(parts[1]) if len(parts) > 1 else []
        if name == "try":
            return _try(self.value, *args)
        if name == "file":
            return (self.module.directory / self.value(args[0])).read_text(encoding="utf-8")
        if name not in FUNCTIONS:
            raise Unsupported(f"function {name}()")
        return FUNCTIONS[name](*[self.value(a) for a in args])

    def _for_object_expr(self, tree: Tree) -> Any:
        intro, key, value, *rest = _nodes(tree)
        bindings = self._bindings(intro, rest)
        if isinstance(bindings, Unknown):
            return bindings
        return {self.value_in(key, b): self.value_in(value, b) for b in bindings}

    def _for_tuple_expr(self, tree: Tree) -> Any:
        intro, value, *rest = _nodes(tree)
        bindings = self._bindings(intro, rest)
        if isinstance(bindings, Unknown):
            return bindings
        return [self.value_in(value, b) for b in bindings]

    def _bindings(self, intro: Tree, rest: list[Tree]) -> list[dict[str, Any]] | Unknown:
        *names, collection = [_name(n) if n.data == "identifier" else n for n in _nodes(intro)]
        items = self.value(collection)
        if isinstance(items, Unknown):
            return items
        return list(self._bound(names, items, rest))

    def _bound(self, names: list[str], items: Any, rest: list[Tree]) -> Iterator[dict[str, Any]]:
        pairs = items.items() if isinstance(items, dict) else enumerate(items)
        condition = _nodes(rest[0])[0] if rest else None
        for key, item in pairs:
            bound = {names[0]: item} if len(names) == 1 else {names[0]: key, names[1]: item}
            if condition is None or self.value_in(condition, bound):
                yield bound

    def value_in(self, tree: Tree, bound: dict[str, Any]) -> Any:
        return _Evaluation(self.module, {**self.scope, **bound}).value(tree)


class _Lazy:
    """`local`, `module.<name>`: an attribute is looked up only when an expression asks."""

    def __init__(self, lookup: Callable[[str], Any]) -> None:
        self.lookup = lookup


class _Path:
    """A reference being built, `data.aws_partition.current.partition`, resolved when complete."""

    def __init__(self, reference: str, resolve: Callable[[str], Any], depth: int = 0) -> None:
        self.reference, self.resolve, self.depth = reference, resolve, depth

    def then(self, name: str) -> Any:
        reference = f"{self.reference}.{name}"
        complete = self.depth + 1 == (3 if self.reference.startswith("data") else 2)
        if complete:
            return self.resolve(reference.removeprefix("data."))
        return _Path(reference, self.resolve, self.depth + 1)


def _attribute(value: Any, name: str) -> Any:
    if isinstance(value, Unknown):
        return Unknown(f"{value.reference}.{name}")
    if isinstance(value, _Lazy):
        return value.lookup(name)
    if isinstance(value, _Path):
        return value.then(name)
    if isinstance(value, dict):
        if name not in value:
            raise EvalError(f"no attribute {name!r}")
        return value[name]
    raise EvalError(f"{type(value).__name__} has no attribute {name!r}")
