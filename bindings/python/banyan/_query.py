"""Filter expressions: ``F.last_name.startswith("Lo") & ~F.email.is_null()``.

An expression is a tree of tuples the extension turns into the engine's filter; field
names are the records' public names (``"email"``, ``"created_at"``, ``"custom.tier"``),
checked by the engine when the query runs.
"""

from __future__ import annotations

from typing import Any, Iterable


class Condition:
    """A filter condition; combine with ``&`` (and), ``|`` (or) and ``~`` (not)."""

    __slots__ = ("_tree",)

    def __init__(self, tree: tuple) -> None:
        self._tree = tree

    def __and__(self, other: "Condition") -> "Condition":
        return Condition(("and", _flatten("and", self, _condition(other))))

    def __or__(self, other: "Condition") -> "Condition":
        return Condition(("or", _flatten("or", self, _condition(other))))

    def __invert__(self) -> "Condition":
        return Condition(("not", self._tree))

    def __bool__(self) -> bool:
        raise TypeError("combine conditions with &, | and ~, not with and, or and not")

    def __repr__(self) -> str:
        return f"Condition({_describe(self._tree)})"


def _condition(value: Any) -> Condition:
    if not isinstance(value, Condition):
        raise TypeError(f"expected a condition made with banyan.F, got {type(value).__name__}")
    return value


def _flatten(kind: str, *conditions: Condition) -> tuple:
    children = []
    for c in conditions:
        if c._tree[0] == kind:
            children.extend(c._tree[1])
        else:
            children.append(c._tree)
    return tuple(children)


def _describe(tree: tuple) -> str:
    kind = tree[0]
    if kind == "all":
        return "all"
    if kind == "not":
        return f"~({_describe(tree[1])})"
    if kind in ("and", "or"):
        joiner = " & " if kind == "and" else " | "
        return joiner.join(f"({_describe(c)})" for c in tree[1])
    _, field, op, values = tree
    return f"{field} {op} {', '.join(repr(v) for v in values)}".rstrip()


class Field:
    """A field of a record in a filter: compare it to make a condition."""

    __slots__ = ("name",)
    __hash__ = None  # type: ignore[assignment]  # == makes a condition

    def __init__(self, name: str) -> None:
        self.name = name

    def _cmp(self, op: str, *values: Any) -> Condition:
        return Condition(("cmp", self.name, op, values))

    def __eq__(self, value: Any) -> Condition:  # type: ignore[override]
        """Equal to ``value``; ``== None`` is ``is_null()``."""
        return self.is_null() if value is None else self._cmp("eq", value)

    def __ne__(self, value: Any) -> Condition:  # type: ignore[override]
        """Not equal to ``value``; ``!= None`` is ``~is_null()``."""
        return ~self.is_null() if value is None else self._cmp("ne", value)

    def __lt__(self, value: Any) -> Condition:
        return self._cmp("lt", value)

    def __le__(self, value: Any) -> Condition:
        return self._cmp("le", value)

    def __gt__(self, value: Any) -> Condition:
        return self._cmp("gt", value)

    def __ge__(self, value: Any) -> Condition:
        return self._cmp("ge", value)

    def isin(self, values: Iterable[Any]) -> Condition:
        """One of ``values``."""
        return Condition(("cmp", self.name, "in", tuple(values)))

    def contains(self, text: str) -> Condition:
        """Contains ``text``, ignoring case."""
        return self._cmp("contains", text)

    def startswith(self, text: str) -> Condition:
        """Starts with ``text``, ignoring case."""
        return self._cmp("starts_with", text)

    def is_null(self) -> Condition:
        """Has no value."""
        return Condition(("cmp", self.name, "is_null", ()))

    def __repr__(self) -> str:
        return f"F.{self.name}"


class _Fields:
    """``F.name`` or ``F["custom.tier"]``: a field to compare."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Field:
        if name.startswith("_"):
            raise AttributeError(name)
        return Field(name)

    def __getitem__(self, name: str) -> Field:
        return Field(name)


F = _Fields()
EVERYTHING = Condition(("all",))


def combine(conditions: Iterable[Condition], equal: dict) -> Condition:
    """The conditions and ``field == value`` for each keyword, all of them."""
    parts = [_condition(c) for c in conditions]
    parts += [Field(name) == value for name, value in equal.items()]
    if not parts:
        return EVERYTHING
    result = parts[0]
    for part in parts[1:]:
        result = result & part
    return result
