"""The package as an editor sees it: a docstring on every public name, and type stubs
(shipped beside the module) that declare every public class, method and field."""

import ast
import inspect
from pathlib import Path

import banyan

STUB = Path(banyan.__file__).with_name("__init__.pyi")


def public_members(cls):
    inherited = set(dir(tuple)) if issubclass(cls, tuple) else set()
    return {name for name, _ in inspect.getmembers(cls)
            if not name.startswith("_") and name not in inherited}


def stub_classes():
    tree = ast.parse(STUB.read_text())
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign):
                    names.add(item.target.id)
            classes[node.name] = (names, [b.id for b in node.bases if isinstance(b, ast.Name)])
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return classes, functions


def declared(classes, name):
    names, bases = classes[name]
    out = set(names)
    for base in bases:
        if base in classes:
            out |= declared(classes, base)
    return out


def test_every_public_name_has_a_docstring():
    missing = []
    for name in banyan.__all__:
        obj = getattr(banyan, name)
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj) and not issubclass(obj, tuple):
            for member in public_members(obj):
                attr = inspect.getattr_static(obj, member)
                documented = isinstance(attr, property) or callable(attr)
                if documented and not (getattr(attr, "__doc__", "") or "").strip():
                    missing.append(f"{name}.{member}")
    for scope_member in ("contacts", "search", "publish", "transaction"):
        assert getattr(banyan.Engine, scope_member).__doc__
    assert missing == []


def test_the_stubs_declare_every_public_name_method_and_field():
    assert STUB.exists(), "the stubs are made by the build (stubgen.py)"
    assert (STUB.parent / "py.typed").exists()
    classes, functions = stub_classes()
    assert "open" in functions
    absent = []
    for name in banyan.__all__:
        obj = getattr(banyan, name)
        if inspect.isclass(obj):
            if name not in classes:
                absent.append(name)
                continue
            have = declared(classes, name)
            wanted = set(public_members(obj))
            if issubclass(obj, banyan.Record):
                wanted |= set(obj._fields) | {"custom"}
            if issubclass(obj, banyan.Error):
                wanted = {"code", "message", "field"}
            absent += [f"{name}.{m}" for m in sorted(wanted - have)]
        elif callable(obj) and name not in functions:
            absent.append(name)
    assert absent == []


def test_record_field_types_in_the_stubs_follow_the_descriptors():
    text = STUB.read_text()
    assert "class Contact(Record):" in text
    assert "    emails: list[ContactPoint]" in text
    assert "    amount: Money" in text
    assert "    expected_close: Optional[date]" in text
    assert "    created_at: Optional[datetime]" in text
