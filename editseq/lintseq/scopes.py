"""Which bindings each name use depends on: a pyflakes-grade scope analysis, done once per program.

The walk follows pyflakes' processing order (module and class bodies in source order, function
and lambda bodies deferred, comprehensions in place) so that "defined" means what pyflakes means
by it. Every use is reduced to a predicate over bindings that the sampler can re-evaluate cheaply
after each deletion instead of re-linting the program:

    defined(use) = all ``requires`` units alive
                   and (a ``local_before`` binding alive
                        or (no ``local_after`` binding alive
                            and (``builtin`` or an ``outer`` binding alive)))

``local_after`` holds the later bindings that make a name local to a function (using it before
them is an error). Unconditional ``del`` statements are themselves uses that need a prior binding
in their own scope, and they hide earlier bindings from later uses. An annotation postponed by
``from __future__ import annotations`` requires that import; without it, its ``eager`` predicate
(the annotation read where it stands) decides.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from editseq.lintseq.pyflakes_rules import (
    TYPED_ARGUMENTS,
    TYPING_MODULES,
    export_lists,
    is_named,
    typed_arguments,
)

BUILTINS = frozenset(dir(builtins)) | {"__file__", "__builtins__", "__annotations__", "WindowsError"}
CLASS_MAGIC = frozenset({"__module__", "__qualname__"})

MODULE, CLASS, FUNCTION, COMPREHENSION, TYPE = range(5)  # TYPE: a definition's type parameters (3.12)

UNDEFINED_NAME = "undefined-name"
UNDEFINED_EXPORT = "undefined-export"
UNDEFINED_DEL = "undefined-name-in-del"
NO_NONLOCAL_BINDING = "nonlocal-without-binding"


@dataclass
class Binding:
    """One binding of a name: the unit that makes it (deleting the unit removes it) and its
    position in the walk, which orders it against uses and ``del``s."""

    unit: int
    pos: int
    end_pos: int | None = None  # ``except ... as name`` is unbound after its handler


@dataclass
class Use:
    """One use of a name, reduced to the ``defined(use)`` predicate of the module docstring, so
    the sampler re-checks it after a deletion without linting again."""

    unit: int
    line: int  # 1-based
    name: str
    code: str
    requires: list[int] = field(default_factory=list)  # units
    local_before: list[int] = field(default_factory=list)  # binding ids
    local_after: list[int] = field(default_factory=list)
    outer: list[int] = field(default_factory=list)
    builtin: bool = False
    eager: Use | None = None  # a postponed annotation once ``requires`` fails: read where it stands


@dataclass
class _Scope:
    kind: int
    parent: _Scope | None
    bindings: dict[str, list[int]] = field(default_factory=dict)
    # unconditional dels: (position, last position they hide earlier bindings at; None: for good)
    dels: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    decls: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (global|nonlocal, unit)


@dataclass
class _PendingUse:
    scope: _Scope
    pos: int
    name: str
    unit: int
    line: int
    code: str
    deferred: bool
    escapes: tuple[int, ...] = ()  # bindings any one of which, alive, makes the use no use (see _typing_member)
    postponed: bool = False  # an annotation read at the end only by ``from __future__ import annotations``


def _ordered_fields(cls: type) -> tuple[str, ...]:
    """pyflakes' field order: ``iter`` before target, generators before element, value first."""
    fields = cls._fields
    first = "iter" if "iter" in fields else "generators" if "generators" in fields else "value"
    return tuple(sorted(fields, key=lambda f: f != first))


_FIELDS: dict[type, tuple[str, ...]] = {}


class ScopeAnalysis:
    """Walks a module once and produces ``bindings`` and ``uses`` (see the module docstring)."""

    def __init__(self, tree: ast.Module, line_unit: list[int]) -> None:
        self.line_unit = line_unit
        self.bindings: list[Binding] = []
        self.uses: list[Use] = []
        self._pending: list[_PendingUse] = []
        self._pos = 0
        self._module = _Scope(MODULE, None)
        self._scope = self._module
        self._deferred: deque[tuple[_Scope, ast.AST, int]] = deque()  # pyflakes' FIFO order
        self._conditional = 0  # depth inside if/while/ifexp (for ``del``)
        self._future_annotations: int | None = None  # unit of ``from __future__ import annotations``
        self._in_annotation = False
        self._typed: tuple[int, ...] | None = None  # in a type expression outside annotations: its escapes
        self._typing: dict[int, str] = {}  # bindings of typing imports: the member's name, "" for the module
        self._decl_bindings: dict[str, list[int]] = {}  # module bindings made by global/nonlocal
        for stmt in tree.body:
            self._visit(stmt)
        while self._deferred:
            scope, fn, conditional = self._deferred.popleft()
            self._conditional = conditional
            self._run_function(scope, fn)
        self._resolve_all()

    # -- helpers ---------------------------------------------------------------------------
    def _tick(self) -> int:
        self._pos += 1
        return self._pos

    def _unit(self, node: ast.AST) -> int:
        return self.line_unit[node.lineno - 1]  # type: ignore[attr-defined]

    def _bind(self, name: str, node: ast.AST, scope: _Scope | None = None) -> int:
        scope = scope or self._scope
        bid = len(self.bindings)
        self.bindings.append(Binding(self._unit(node), self._tick()))
        scope.bindings.setdefault(name, []).append(bid)
        return bid

    def _use(self, name: str, node: ast.AST, code: str = UNDEFINED_NAME, deferred: bool = False,
             escapes: tuple[int, ...] = ()) -> None:
        postponed = not deferred and self._in_annotation and self._future_annotations is not None
        self._pending.append(
            _PendingUse(self._scope, self._tick(), name, self._unit(node), node.lineno, code,  # type: ignore[attr-defined]
                        deferred or postponed, escapes, postponed)
        )

    def _visit(self, node: ast.AST) -> None:
        method = getattr(self, "_visit_" + type(node).__name__, None)
        if method is not None:
            method(node)
        else:
            self._children(node)

    def _children(self, node: ast.AST) -> None:
        cls = type(node)
        fields = _FIELDS.get(cls)
        if fields is None:
            fields = _FIELDS[cls] = _ordered_fields(cls)
        for name in fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self._visit(item)
            elif isinstance(value, ast.AST):
                self._visit(value)

    def _visit_all(self, nodes: list) -> None:
        for n in nodes:
            if n is not None:
                self._visit(n)

    # -- names -----------------------------------------------------------------------------
    def _visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._use(node.id, node)
        elif isinstance(node.ctx, ast.Store):
            self._store(node.id, node)
        else:
            self._delete(node.id, node)

    def _store(self, name: str, node: ast.AST, scope: _Scope | None = None) -> int:
        scope = scope or self._scope
        decl = scope.decls.get(name)
        if decl is not None:
            # a store under ``global``/``nonlocal`` binds the outer name; it needs its declaration
            self._pending.append(
                _PendingUse(scope, self._tick(), name, self._unit(node), node.lineno, UNDEFINED_NAME, True)  # type: ignore[attr-defined]
            )
            target = self._module if decl[0] == "global" else scope
            return self._bind(name, node, target)
        return self._bind(name, node, scope)

    def _delete(self, name: str, node: ast.AST) -> None:
        if self._conditional:
            return  # pyflakes cannot know whether a conditional ``del`` runs
        self._use(name, node, UNDEFINED_DEL)
        self._scope.dels.setdefault(name, []).append((self._tick(), None))

    def _visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._visit(node.value)
        scope = self._scope
        while scope.kind == COMPREHENSION and scope.parent is not None:
            scope = scope.parent
        self._store(node.target.id, node.target, scope)  # type: ignore[attr-defined]

    def _visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self._use(node.target.id, node.target)
            self._visit(node.value)
            self._store(node.target.id, node.target)
            if self._scope is self._module and node.target.id == "__all__":
                self._exports(node.value, node)
        else:
            self._visit(node.value)
            self._visit(node.target)

    def _visit_Assign(self, node: ast.Assign) -> None:
        self._visit(node.value)
        self._visit_all(node.targets)
        if self._scope is self._module and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            self._exports(node.value, node)

    def _visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._annotation(node.annotation)
        if node.value is not None:
            alias = self._typing_member(node.annotation)
            self._visit_typed(node.value, alias[1] if alias is not None and alias[0] == "TypeAlias" else None)
            self._visit(node.target)
            if self._scope is self._module and isinstance(node.target, ast.Name) and node.target.id == "__all__":
                self._exports(node.value, node)
        elif not isinstance(node.target, ast.Name):
            self._visit(node.target)

    def _exports(self, value: ast.AST, stmt: ast.AST) -> None:
        for container in export_lists(value):
            for elt in container.elts:
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                    self._use(elt.value, stmt, UNDEFINED_EXPORT, deferred=True)

    # -- annotations -----------------------------------------------------------------------
    def _annotation(self, node: ast.AST | None) -> None:
        if node is None:
            return
        saved, self._in_annotation = self._in_annotation, True
        try:
            self._annotation_expr(node)
        finally:
            self._in_annotation = saved

    def _annotation_expr(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self._string_annotation(node)
            return
        if isinstance(node, ast.Subscript) and is_named(node.value, "Literal"):
            self._visit(node.value)
            self._annotation_values([node.slice])
            return
        if isinstance(node, ast.Subscript) and is_named(node.value, "Annotated"):
            self._visit(node.value)
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            self._annotation_expr(parts[0] if len(parts) > 1 else node.slice)  # the type; the rest is metadata
            self._annotation_values(parts[1:])
            return
        if isinstance(node, ast.Name):
            self._visit(node)
            return
        for child in ast.iter_child_nodes(node):
            self._annotation_expr(child)

    def _annotation_values(self, nodes: list[ast.expr]) -> None:
        """Parts of an annotation that are values (``Literal``'s, ``Annotated``'s metadata), as
        pyflakes reads them: names used where they stand, strings no forward references."""
        saved, self._in_annotation = self._in_annotation, False
        try:
            for node in nodes:
                self._visit_typed(node, None)
        finally:
            self._in_annotation = saved

    def _string_annotation(self, node: ast.Constant, escapes: tuple[int, ...] = ()) -> None:
        """The names of a string read as a type (a forward reference), used once the scope has run."""
        try:
            expr = ast.parse(node.value.strip(), mode="eval").body
        except SyntaxError:
            return
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                self._use(sub.id, node, deferred=True, escapes=escapes)

    # -- type expressions outside annotations, as pyflakes finds them ---------------------------
    # ``Alias = Callable[["A"], B]``, ``TypeVar("T", bound="A")``, ``cast("A", x)``: pyflakes reads
    # their strings as forward references, so deleting ``class A`` makes them undefined names
    def _visit_typed(self, node: ast.AST, typed: tuple[int, ...] | None) -> None:
        saved, self._typed = self._typed, typed
        try:
            self._visit(node)
        finally:
            self._typed = saved

    def _visit_Constant(self, node: ast.Constant) -> None:
        if self._typed is not None and isinstance(node.value, str):
            self._string_annotation(node, self._typed)

    def _visit_Subscript(self, node: ast.Subscript) -> None:
        self._visit(node.value)
        if is_named(node.value, "Literal"):
            self._visit_typed(node.slice, None)
        elif is_named(node.value, "Annotated"):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            self._visit(parts[0] if len(parts) > 1 else node.slice)  # the type; the rest is metadata
            for meta in parts[1:]:
                self._visit_typed(meta, None)
        else:
            member = self._typing_member(node.value)
            self._visit_typed(node.slice, _either(self._typed, member[1] if member is not None else None))

    def _visit_Call(self, node: ast.Call) -> None:
        member = self._typing_member(node.func)
        if member is None or (member[0] not in TYPED_ARGUMENTS and member[0] not in ("TypedDict", "NamedTuple")):
            self._children(node)
            return
        escapes = member[1]
        untyped = self._typed if escapes else None  # escaped, the call is no typing call: context as is
        for child, typed in typed_arguments(node, member[0]):
            self._visit_typed(child, _either(self._typed, escapes) if typed else untyped)

    def _typing_member(self, node: ast.AST) -> tuple[str, tuple[int, ...]] | None:
        """The typing member ``node`` names (``List``, ``typing.List``) by pyflakes' rule (its name's
        binding is an import from ``typing`` or ``typing_extensions``), and the escapes: the bindings
        that shadow that import (``List = list`` after it). pyflakes looks at the binding a name
        has now, which deletions change: while an escape is alive, it sees no typing member."""
        if isinstance(node, ast.Name):
            return self._typing_binding(node.id, module=False)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found = self._typing_binding(node.value.id, module=True)
            return (node.attr, found[1]) if found is not None else None
        return None

    def _typing_binding(self, name: str, module: bool) -> tuple[str, tuple[int, ...]] | None:
        escapes: list[int] = []
        scope: _Scope | None = self._scope
        while scope is not None:
            for bid in reversed(scope.bindings.get(name, ())):
                member = self._typing.get(bid)
                if member is not None and (member == "") == module:
                    return member, tuple(escapes)
                if self.bindings[bid].end_pos is None:  # an ended ``except ... as`` binding shadows nothing
                    escapes.append(bid)
            scope = scope.parent
        return None

    # -- definitions -----------------------------------------------------------------------
    def _visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for deco in getattr(node, "decorator_list", []):
            self._visit(deco)
        with self._type_params(node):
            args = node.args
            if not isinstance(node, ast.Lambda):
                for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
                    if arg is not None:
                        self._annotation(arg.annotation)
                self._annotation(node.returns)
            self._visit_all([*args.defaults, *args.kw_defaults])
            self._deferred.append((self._scope, node, self._conditional))
        if not isinstance(node, ast.Lambda):
            self._bind(node.name, node)

    _visit_AsyncFunctionDef = _visit_FunctionDef
    _visit_Lambda = _visit_FunctionDef

    def _run_function(self, parent: _Scope, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        saved = self._scope
        self._scope = _Scope(FUNCTION, parent)
        args = node.args
        for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
            if arg is not None:
                self._bind(arg.arg, node)
        if isinstance(node, ast.Lambda):
            self._visit(node.body)
        else:
            for stmt in node.body:
                self._visit(stmt)
        self._scope = saved

    def _visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_all(node.decorator_list)
        with self._type_params(node):
            self._visit_all(node.bases)
            self._visit_all(node.keywords)
            saved = self._scope
            self._scope = _Scope(CLASS, saved)
            for stmt in node.body:
                self._visit(stmt)
            self._scope = saved
        self._bind(node.name, node)

    # -- type parameters and aliases (Python 3.12), in pyflakes' scope of their own -----------------
    @contextlib.contextmanager
    def _type_params(self, node: ast.AST) -> Iterator[None]:
        """A scope binding ``node``'s type parameters (``def f[T]``, ``class C[T]``) while its
        annotations, bases and body are visited; they were undefined names."""
        params = getattr(node, "type_params", None)
        if not params:
            yield
            return
        saved = self._scope
        self._scope = _Scope(TYPE, saved)
        try:
            self._visit_all(params)
            yield
        finally:
            self._scope = saved

    def _visit_lazy(self, nodes: list) -> None:
        """The names of what Python evaluates only when it is used (a type alias's value, a type
        parameter's bound or default), used once the scope has run: they may be bound later."""
        for node in nodes:
            for sub in ast.walk(node) if node is not None else ():
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                    self._use(sub.id, sub, deferred=True)

    def _visit_TypeVar(self, node: ast.AST) -> None:
        self._bind(node.name, node)  # type: ignore[attr-defined]
        self._visit_lazy([getattr(node, "bound", None), getattr(node, "default_value", None)])

    _visit_ParamSpec = _visit_TypeVar
    _visit_TypeVarTuple = _visit_TypeVar

    def _visit_TypeAlias(self, node: ast.AST) -> None:
        """``type X[T] = value``: its value is evaluated when used, so it may name what comes later."""
        self._visit(node.name)  # type: ignore[attr-defined]
        with self._type_params(node):
            self._visit_lazy([node.value])  # type: ignore[attr-defined]

    def _comprehension(self, node: ast.AST, elts: list[ast.AST]) -> None:
        generators = node.generators  # type: ignore[attr-defined]
        self._visit(generators[0].iter)  # evaluated in the enclosing scope (Python's rule, and pyflakes')
        saved = self._scope
        self._scope = _Scope(COMPREHENSION, saved)
        for n, gen in enumerate(generators):
            if n:
                self._visit(gen.iter)
            self._visit(gen.target)
            self._visit_all(gen.ifs)
        self._visit_all(elts)
        self._scope = saved

    def _visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    _visit_SetComp = _visit_ListComp
    _visit_GeneratorExp = _visit_ListComp

    def _visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def _visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self._bind("*", node, self._module)
                continue
            if isinstance(node, ast.ImportFrom) and node.module == "__future__" and alias.name == "annotations":
                self._future_annotations = self._unit(node)
            name = alias.asname or alias.name.split(".")[0]
            bid = self._store(name, node)
            if isinstance(node, ast.ImportFrom):
                if node.module in TYPING_MODULES and not node.level:
                    self._typing[bid] = alias.name
            elif alias.name in TYPING_MODULES:
                self._typing[bid] = ""

    _visit_ImportFrom = _visit_Import

    def _visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        if self._scope.kind == MODULE:  # a class body's declarations count, as a function's do
            return
        kind = "global" if isinstance(node, ast.Global) else "nonlocal"
        for name in node.names:
            self._scope.decls[name] = (kind, self._unit(node))
            if kind == "nonlocal":
                self._use(name, node, NO_NONLOCAL_BINDING, deferred=True)
            # pyflakes makes a declared name defined at module level, and withdraws every
            # undefined-name report for it, wherever it is used
            self._decl_bindings.setdefault(name, []).append(self._bind(name, node, self._module))

    _visit_Nonlocal = _visit_Global

    def _visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self._visit(node.type)
        if node.name is None:
            self._visit_all(node.body)
            return
        first = len(self._scope.bindings.get(node.name, ()))
        start = self._bind(node.name, node)
        self._visit_all(node.body)
        end = self._tick()
        # pyflakes unbinds the name at the end of the handler, rebindings inside it included, and
        # restores the binding it had before the handler, even one a ``del`` in the handler hid
        for b in self._scope.bindings[node.name][first:]:
            self.bindings[b].end_pos = end
        dels = self._scope.dels.get(node.name, [])
        for i, (at, until) in enumerate(dels):
            if at > self.bindings[start].pos and until is None:
                dels[i] = (at, end)

    # -- control flow that makes ``del`` conditional -------------------------------------------
    def _visit_If(self, node: ast.If | ast.While | ast.IfExp) -> None:
        self._conditional += 1
        self._children(node)
        self._conditional -= 1

    _visit_While = _visit_If
    _visit_IfExp = _visit_If

    # -- patterns ----------------------------------------------------------------------------
    def _visit_MatchAs(self, node: ast.AST) -> None:
        self._children(node)
        name = getattr(node, "name", None) or getattr(node, "rest", None)
        if name:
            self._store(name, node)

    _visit_MatchStar = _visit_MatchAs
    _visit_MatchMapping = _visit_MatchAs

    # -- resolution --------------------------------------------------------------------------
    def _resolve_all(self) -> None:
        for p in self._pending:
            self.uses.append(self._resolve(p))
        self._pending = []

    def _visible(self, scope: _Scope, name: str, pos: int | None) -> list[int]:
        """Bindings of ``name`` in ``scope`` seen at ``pos`` (None: after the whole scope ran)."""
        ids = scope.bindings.get(name, ())
        dels = scope.dels.get(name, ())
        if pos is None:
            barrier = max((d for d, until in dels if until is None), default=0)
            return [b for b in ids if self.bindings[b].pos > barrier and self.bindings[b].end_pos is None]
        barrier = max((d for d, until in dels if d < pos and (until is None or pos <= until)), default=0)
        out = []
        for b in ids:
            binding = self.bindings[b]
            if barrier < binding.pos < pos and (binding.end_pos is None or pos <= binding.end_pos):
                out.append(b)
        return out

    def _resolve(self, p: _PendingUse) -> Use:
        use = Use(p.unit, p.line, p.name, p.code)
        scope, name = p.scope, p.name
        if p.code == NO_NONLOCAL_BINDING:
            parent = scope.parent
            while parent is not None and parent.kind != MODULE:  # class bodies are skipped, not the end
                if parent.kind == FUNCTION:
                    use.outer.extend(b for b in parent.bindings.get(name, ()) if self.bindings[b].unit != p.unit)
                parent = parent.parent
            return use
        decl = scope.decls.get(name)
        if decl is not None:
            use.requires.append(decl[1])
            if p.code == UNDEFINED_DEL:
                use.builtin = True  # ``del`` of a declared name only needs the declaration
                return use
            target = self._module if decl[0] == "global" else scope.parent
            while target is not None:
                use.outer.extend(self._visible(target, name, None))
                target = target.parent if decl[0] == "nonlocal" else None
            use.builtin = name in BUILTINS
            return use
        if p.postponed and p.code == UNDEFINED_NAME:  # without the import, it needs what is bound before it
            use.requires.append(self._future_annotations)  # type: ignore[arg-type]
            use.eager = self._resolve(replace(p, deferred=False, postponed=False))
        in_order = not p.deferred
        use.local_before = self._visible(scope, name, p.pos if in_order else None) + list(p.escapes)
        if p.code == UNDEFINED_DEL:
            use.outer.extend(self._decl_bindings.get(name, ()))
            return use
        if scope.kind == FUNCTION and in_order:
            use.local_after = [b for b in scope.bindings.get(name, ()) if self.bindings[b].pos > p.pos]
        module_in_order = in_order and scope is self._module
        if p.code == UNDEFINED_NAME:
            use.builtin = name in BUILTINS or (name in CLASS_MAGIC and scope.kind == CLASS) or (
                name == "__class__" and scope.kind == FUNCTION
            )
            module_in_order = self._resolve_outer(use, scope, name, p.pos, in_order)
            # a declaration withdraws the reports made before it; later uses see its binding unless an
            # ``except ... as`` handler around it (a class body's) unbinds the name at its end
            use.outer.extend(b for b in self._decl_bindings.get(name, ())
                             if self.bindings[b].end_pos is None or (in_order and p.pos < self.bindings[b].pos))
        # a star import makes every otherwise undefined name a warning, not an error
        use.outer.extend(self._visible(self._module, "*", p.pos if module_in_order else None))
        return use

    def _resolve_outer(self, use: Use, scope: _Scope, name: str, pos: int, in_order: bool) -> bool:
        """Add enclosing scopes' bindings (pyflakes' lookup rules); return whether the module
        scope was reached while still in source order."""
        if scope is self._module:
            return in_order
        can_access_class = scope.kind in (COMPREHENSION, TYPE)
        prev, target = scope, scope.parent
        while target is not None:
            if prev.kind == FUNCTION:
                in_order = False
            if target.kind == CLASS and not can_access_class:
                target = target.parent
                continue
            can_access_class = target.kind in (COMPREHENSION, TYPE)
            use.outer.extend(self._visible(target, name, pos if in_order else None))
            prev, target = target, target.parent
        return in_order


def _either(outer: tuple[int, ...] | None, inner: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The escapes of a string that either of two nested contexts makes a type (None: neither):
    it is none only while both are escaped, so only a binding that escapes both lets it be."""
    if outer is None or inner is None:
        return inner if outer is None else outer
    return tuple(b for b in outer if b in inner)
