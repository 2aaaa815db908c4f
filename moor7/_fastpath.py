"""The fast path: the converter's own hooks, compiled per model into one plain function.

cattrs stays the converter of record. For each type it is asked for, the fast path
takes the hook the converter chose (the rules of ``_convert.py`` record what each of
their hooks does in ``_convert._RULES``) and writes one Python function that does the
same for the values a healthy answer holds: a ``dict`` per record, and for each field
the JSON type the gateway usually sends (``str`` for text, ``int`` for numbers and
enums, a listed enum value, a time already read). Those cases are inlined, each the
first branch of the hook it stands for; every other value is handed to the field's
hook itself, the function the converter would call. Instances are made with
``object.__new__`` and their slots set directly, as attrs' ``__init__`` would set them,
without its frozen-class guard.

No error of the fast path reaches a caller: any exception (a missing required key, a
hook's complaint, anything unforeseen) makes :func:`moor7._convert.structure` run the
converter on the same data from the start, so a bad record fails with exactly the
converter's error, path and message. A model with attrs features the fast path does
not reproduce (validators, converters, ``__attrs_post_init__``, hidden slots such as a
cached hash, fields outside ``__init__``) is not compiled: its hook is called instead.
"""

from __future__ import annotations

import itertools
import operator
import types
from collections.abc import Callable
from typing import Any

import attrs
import cattrs

from ._convert import (
    _RULES,
    _TIMES,
    Rule,
    _dig,
    _hook,
    _to_int,
    _to_optional_bool,
    _to_optional_datetime,
    _to_optional_float,
    _to_optional_int,
    _to_optional_str,
    _to_str,
)

__all__ = ["FastPath"]

_MISSING = object()

# The leaves whose first branch is inlined, by hook: {v} is the value, {call} the hook
# called on it. Each expression is the hook's own first test and result, verbatim.
_LEAVES: dict[Callable[..., Any], str] = {
    _to_str: "{v} if type({v}) is str else {call}",
    _to_int: "{v} if type({v}) is int else {call}",
    _to_optional_str: "({v} or None) if type({v}) is str else {call}",
    _to_optional_int: "{v} if type({v}) is int else {call}",
    _to_optional_float: "{v} if type({v}) is float else {call}",
    _to_optional_bool: "{v} if type({v}) is bool else {call}",
}


def _compilable(cls: type) -> bool:
    """Whether setting each field's slot is all that attrs' ``__init__`` does for *cls*."""
    if getattr(cls, "__attrs_pre_init__", None) or getattr(cls, "__attrs_post_init__", None):
        return False
    fields = attrs.fields(cls)
    for field in fields:
        if not field.init or field.validator is not None or field.converter is not None:
            return False
        if isinstance(field.default, attrs.Factory) and field.default.takes_self:  # type: ignore[arg-type]  # attrs.Factory is a class at run time
            return False
        if not isinstance(getattr(cls, field.name, None), types.MemberDescriptorType):
            return False  # not a slot (a dict class): keep attrs' own __init__
    # Every slot must be a field: a cached hash, say, is a slot that __init__ sets too.
    slots = {
        name
        for klass in cls.__mro__
        for name in getattr(klass, "__slots__", ())
        if name not in ("__weakref__", "__dict__")
    }
    return slots == {field.name for field in fields}


class FastPath:
    """The fast functions of one converter, each compiled on first use, then kept.

    Args:
        converter: A converter made by :func:`moor7._convert.make_converter`, whose
            hooks record their rules.
    """

    def __init__(self, converter: cattrs.Converter) -> None:
        self._converter = converter
        self._functions: dict[Any, Callable[[Any], Any]] = {}
        self._building: set[Any] = set()
        self._names = itertools.count()

    def function(self, type_: Any) -> Callable[[Any], Any]:
        """The fast function for *type_*: compiled where the rules allow, else the hook.

        Its result equals the converter's for every value it accepts; on any other
        value it raises, and the caller must then ask the converter (see the module
        docstring).
        """
        found = self._functions.get(type_)
        if found is not None:
            return found
        hook = _hook(self._converter, type_)
        rule = _RULES.get(hook)
        function: Callable[[Any], Any] | None = None
        # A model that contains itself, at any depth, calls its hook at the inner level.
        if rule is not None and type_ not in self._building:
            self._building.add(type_)
            try:
                function = self._compile(rule, hook, type_)
            finally:
                self._building.discard(type_)
        if function is None:

            def function(value: Any, hook: Any = hook, type_: Any = type_) -> Any:
                return hook(value, type_)

            if type_ in self._building:
                return function  # a stand-in for the inner level only: not kept
        self._functions[type_] = function
        return function

    def _compile(self, rule: Rule, hook: Any, type_: Any) -> Callable[[Any], Any] | None:
        namespace: dict[str, Any] = {}
        name = f"structure_{getattr(type_, '__name__', 'list')}"
        if rule.kind == "model":
            if not _compilable(rule.type):
                return None
            namespace.update(_hook=hook, _type=type_)
            lines = self._model(rule, namespace, name)
        elif rule.kind == "list":
            lines = [
                f"def {name}(value):",
                f"    return {self._expression('value', hook, type_, namespace)}",
            ]
        elif rule.kind == "result list":
            # None for the type, as the ResultList's hook calls its items' hook.
            items = self._expression("value", rule.inner, None, namespace)
            namespace["_result"] = rule.type
            lines = [
                f"def {name}(value):",
                f"    result = _result({items})",
                "    result.raw = value",
                "    return result",
            ]
        else:
            return None
        source = "\n".join(lines)
        # Our own source, written from the models' fields: nothing from outside runs.
        exec(compile(source, f"<moor7 fast path for {type_!r}>", "exec"), namespace)  # noqa: S102
        return namespace[name]  # type: ignore[no-any-return]

    def _bind(self, namespace: dict[str, Any], value: Any, prefix: str) -> str:
        name = f"{prefix}{next(self._names)}"
        namespace[name] = value
        return name

    def _expression(self, v: str, hook: Any, type_: Any, namespace: dict[str, Any]) -> str:
        """An expression for what *hook* makes of *v*, its rule's common case inlined."""
        h = self._bind(namespace, hook, "_h")
        t = self._bind(namespace, type_, "_t")
        call = f"{h}({v}, {t})"
        leaf = _LEAVES.get(hook)
        if leaf is not None:
            return leaf.format(v=v, call=call)
        if hook is _to_optional_datetime:
            # A time already read comes from the hook's own cache; any other, the hook.
            get = self._bind(namespace, _TIMES.get, "_times")
            return f"({get}({v}) or {call}) if type({v}) is str else {call}"
        rule = _RULES.get(hook)
        if rule is None:
            return call
        if rule.kind == "model":
            # The model's function sends anything but a dict to the model's hook itself.
            return f"{self._bind(namespace, self.function(rule.type), '_f')}({v})"
        if rule.kind == "optional model":
            function = self._bind(namespace, self.function(rule.type), "_f")
            return f"{function}({v}) if type({v}) is dict else {call}"
        if rule.kind == "list":
            item_rule = _RULES.get(rule.inner)
            if item_rule is not None and item_rule.kind == "model":
                # map() calls the model's function from C: no comprehension's function
                # object made per list (a list of two groups per number), and no frame.
                function = self._bind(namespace, self.function(item_rule.type), "_f")
                return f"list(map({function}, {v})) if type({v}) is list else {call}"
            item = f"_item{next(self._names)}"
            each = self._expression(item, rule.inner, rule.type, namespace)
            return f"[{each} for {item} in {v}] if type({v}) is list else {call}"
        return call

    def _assign(self, v: str, hook: Any, type_: Any, namespace: dict[str, Any]) -> list[str]:
        """Statements that set ``x`` to what *hook* makes of *v*."""
        rule = _RULES.get(hook)
        if rule is None or rule.kind != "enum":
            return [f"x = {self._expression(v, hook, type_, namespace)}"]
        # A member found by its value, as the hook looks it up first; anything else (a
        # number sent as text, an unlisted value, "") the hook decides.
        members = {key: member for key, member in rule.inner.items() if key != ""}
        get = self._bind(namespace, members.get, "_members")
        h = self._bind(namespace, hook, "_h")
        t = self._bind(namespace, type_, "_t")
        namespace["_MISSING"] = _MISSING
        plain = "int" if rule.type is int else "str"
        return [
            f"x = {get}({v}, _MISSING) if type({v}) is {plain} else _MISSING",
            "if x is _MISSING:",
            f"    x = {h}({v}, {t})",
        ]

    def _model(self, rule: Rule, namespace: dict[str, Any], name: str) -> list[str]:
        cls = rule.type
        namespace.update(_new=object.__new__, _cls=cls, _dig=_dig)
        keys = [wire for _, wire in rule.inner if isinstance(wire, str)]
        head = [
            # A dict, as JSON gives; any other value the model's hook decides.
            "    if type(value) is not dict:",
            "        return _hook(value, _type)",
        ]
        sparse = self._model_body(rule, namespace, None)
        if len(keys) < 2:
            return [f"def {name}(value):", *head, *sparse]
        # A whole record, the common case: every key read at once, by one C call; a
        # record that lacks one (KeyError) takes the function that reads key by key.
        namespace["_every_key"] = operator.itemgetter(*keys)
        names = {key: f"_k{index}" for index, key in enumerate(keys)}
        return [
            f"def {name}_sparse(value):",
            *sparse,
            f"def {name}(value):",
            *head,
            "    try:",
            f"        {', '.join(names.values())} = _every_key(value)",
            "    except KeyError:",
            f"        return {name}_sparse(value)",
            *self._model_body(rule, namespace, names),
        ]

    def _model_body(
        self, rule: Rule, namespace: dict[str, Any], read: dict[str, str] | None
    ) -> list[str]:
        """Make the instance and set each field; each key's value from its variable in
        *read* (all read already), else read from the record key by key."""
        cls = rule.type
        fields = {field.name: field for field in attrs.fields(cls)}
        lines = ["    instance = _new(_cls)"]
        for name, wire in rule.inner:
            field = fields[name]
            setter = self._bind(namespace, getattr(cls, name).__set__, f"_set_{name}")
            if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]  # a class at run time
                factory = field.default.factory
                default = self._bind(namespace, factory, "_factory") + "()"
            else:
                default = self._bind(namespace, field.default, "_default")
            if wire is None:
                # Not read from data: raw is the record itself, the rest their default.
                lines.append(f"    {setter}(instance, {'value' if name == 'raw' else default})")
                continue
            hook = _hook(self._converter, field.type)
            if isinstance(wire, tuple):
                # A nested value: the hook always sees it, None when a level is missing.
                path = self._bind(namespace, wire, "_path")
                lines.append(f"    v = _dig(value, {path})")
                lines += [f"    {line}" for line in self._assign("v", hook, field.type, namespace)]
            elif read is not None:
                assign = self._assign(read[wire], hook, field.type, namespace)
                lines += [f"    {line}" for line in assign]
            elif field.default is attrs.NOTHING:
                # Required: a missing key raises KeyError, and the converter reports it.
                lines.append(f"    v = value[{wire!r}]")
                lines += [f"    {line}" for line in self._assign("v", hook, field.type, namespace)]
            else:
                lines.append(f"    if {wire!r} in value:")
                lines.append(f"        v = value[{wire!r}]")
                assign = self._assign("v", hook, field.type, namespace)
                lines += [f"        {line}" for line in assign]
                lines.append("    else:")
                lines.append(f"        x = {default}")
            lines.append(f"    {setter}(instance, x)")
        lines.append("    return instance")
        return lines
