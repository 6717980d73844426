"""Compiling tenant templates: refused when nested too deep, when a constant would fold into a
huge value, or when they name private attributes.

Jinja folds constant expressions while compiling, so a template like `{{ "a" * 10**9 }}` would
cost the web process that compiles it: the sandbox intercepts those operators and its filters
take the context (Jinja folds neither), and this module evaluates the constant ones under the
sandbox's bounds to refuse them with `template/invalid` before anything is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.nodes import EvalContext, Impossible

from shared.templating.limits import ValueTooLarge, check_deadline, check_printed
from shared.templating.sandbox import BoundedSandbox
from shared.templating.sizes import bounded_list

MAX_NESTING = 50  # brackets, and nodes of the parsed template, one inside another
_OPENING = {"lparen", "lbracket", "lbrace"}
_CLOSING = {"rparen", "rbracket", "rbrace"}


def compile_template(environment: BoundedSandbox, source: str) -> Template:
    """The compiled template, or TemplateSyntaxError saying what is wrong and where."""
    _check_brackets(environment, source)
    try:
        tree = environment.parse(source)
    except RecursionError:
        raise TemplateSyntaxError(
            f"the template nests more than {MAX_NESTING} levels deep", 1
        ) from None
    _check_depth(tree)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attribute = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", "")
        if isinstance(attribute, str) and attribute.startswith("_"):
            raise TemplateSyntaxError(
                f"{attribute!r} is private and can't be used in a template", node.lineno
            )
    _check_constants(environment, tree)
    bound_loops(tree)
    try:
        return environment.from_string(tree)
    except RecursionError:
        raise TemplateSyntaxError(
            f"the template nests more than {MAX_NESTING} levels deep", 1
        ) from None


def _check_brackets(environment: BoundedSandbox, source: str) -> None:
    """Count bracket depth on the tokens, before the recursive parser sees them."""
    depth = 0
    for lineno, kind, _ in environment.lex(source):
        if kind in _OPENING:
            depth += 1
            if depth > MAX_NESTING:
                raise TemplateSyntaxError(
                    f"brackets nest more than {MAX_NESTING} levels deep", lineno
                )
        elif kind in _CLOSING:
            depth -= 1


def _check_depth(tree: nodes.Template) -> None:
    """Refuse expressions and blocks nested past MAX_NESTING (without recursing)."""
    pending: list[tuple[nodes.Node, int]] = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_NESTING:
            raise TemplateSyntaxError(
                f"expressions or blocks nest more than {MAX_NESTING} levels deep",
                getattr(node, "lineno", 1) or 1,
            )
        pending.extend((child, depth + 1) for child in node.iter_child_nodes())


def _check_constants(environment: BoundedSandbox, tree: nodes.Template) -> None:
    """Evaluate the constant operations under the sandbox's bounds: a bomb is refused here.
    The largest constant expressions are evaluated, each once, with all their parts."""
    context = EvalContext(environment)
    pending: list[nodes.Node] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, nodes.BinExpr | nodes.Filter | nodes.Call):
            try:
                _fold(environment, context, node)
                continue
            except ValueTooLarge as exc:
                raise TemplateSyntaxError(str(exc), node.lineno) from None
            except Exception:  # noqa: BLE001, S110 - not a constant, or fails only at render time
                pass
        pending.extend(node.iter_child_nodes())


def _fold(environment: BoundedSandbox, context: EvalContext, node: nodes.Node) -> Any:
    """The value of a constant expression, computed with the sandbox's checks."""
    if isinstance(node, nodes.BinExpr) and node.operator in environment.intercepted_binops:
        left = _fold(environment, context, node.left)
        right = _fold(environment, context, node.right)
        return environment.call_binop(None, node.operator, left, right)
    if isinstance(node, nodes.List | nodes.Tuple):
        return check_printed([_fold(environment, context, item) for item in node.items])
    if isinstance(node, nodes.Filter) and node.node is not None:
        evaluate = getattr(environment.filters.get(node.name), "with_eval_context", None)
        if evaluate is None or node.dyn_args or node.dyn_kwargs:
            raise Impossible()
        arguments = [_fold(environment, context, node.node)]
        arguments += [_fold(environment, context, argument) for argument in node.args]
        keywords = {kw.key: _fold(environment, context, kw.value) for kw in node.kwargs}
        return evaluate(context, *arguments, **keywords)
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
        function = environment.globals.get(node.node.name)
        if node.node.name not in ("range", "lipsum") or node.kwargs or node.dyn_args:
            raise Impossible()
        return function(*(_fold(environment, context, argument) for argument in node.args))
    return node.as_const(context)


def iterate(iterable: Any) -> Iterator[Any]:
    """A `for` loop's items, with a deadline check before each (see `bound_loops`); an
    iterator's items are taken first within the bound, as `loop.length` would take them."""
    for item in bounded_list(iterable) if isinstance(iterable, Iterator) else iterable:
        check_deadline()
        yield item


def _through(function: str, argument: nodes.Expr) -> nodes.Call:
    """The call of a function of ours on an expression of the template."""
    name = nodes.ImportedName(function, lineno=argument.lineno)
    return nodes.Call(name, [argument], [], None, None, lineno=argument.lineno)


def bound_loops(tree: nodes.Template) -> None:
    """Make every `for` loop of a parsed template iterate through `iterate`, and every
    `*args` of a call go through `bounded_list` (Python takes all the items of an iterator
    into a tuple in one step)."""
    for loop in tree.find_all(nodes.For):
        loop.iter = _through(f"{__name__}.iterate", loop.iter)
    for call in tree.find_all((nodes.Call, nodes.Filter, nodes.Test)):
        if call.dyn_args is not None:
            call.dyn_args = _through("shared.templating.sizes.bounded_list", call.dyn_args)
