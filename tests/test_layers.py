"""The arrows between layers, read from every import in diary/: a wrong import fails with its
file and line.

web → access, services, rules, store.db (for the request's connection); services → access, store,
rules; access → store, rules; store → nothing of the app; rules → rules only. Only web sees the
request, Flask-Login or templates.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "diary"

ALLOWED = {
    "web": {"web", "access", "services", "rules", "store.db", "create_app"},
    "services": {"services", "access", "store", "rules"},
    "access": {"store", "rules"},
    "store": {"store"},
    "rules": {"rules"},
}
WEB_ONLY = ("flask_login", "flask.request", "flask.render_template", "flask.templating",
            "flask_wtf", "wtforms")


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return "access" if parts == ("access",) else parts[0]


def imports(path: Path, source: str | None = None):
    """(line, dotted name) of everything this module imports, relative imports made absolute."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + tuple((node.module or "").split(".")) if node.module
                                  else base)
            else:
                module = node.module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def app_target(name: str) -> str | None:
    """'diary.store.db.write' -> 'store.db'; 'diary.access' -> 'access'; libraries -> None."""
    parts = name.split(".")
    if parts[0] != "diary":
        return None
    rest = parts[1:]
    if not rest:
        return None
    if rest[0] == "create_app":
        return "create_app"
    if rest[0] in ("store",) and len(rest) > 1 and rest[1] == "db":
        return "store.db"
    return rest[0]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.name == "access.py")


def violations(path: Path, source: str | None = None) -> list[str]:
    layer = layer_of(path)
    wrong = []
    for line, name in imports(path, source):
        target = app_target(name)
        if target is not None:
            allowed = ALLOWED[layer]
            if target not in allowed and not (target.startswith("store") and "store" in allowed):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
        elif layer != "web" and name.startswith(WEB_ONLY):
            wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name} (web only)")
    return wrong


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_arrows(path):
    wrong = violations(path)
    assert not wrong, "\n".join(wrong)


def test_the_factory_only_builds_the_app():
    names = {target for _, name in imports(PACKAGE / "__init__.py")
             if (target := app_target(name))}
    assert names <= {"store.db", "web"}, names


@pytest.mark.parametrize("module, source", [
    ("store/entries.py", "from ..services import flags"),
    ("store/entries.py", "from .. import access"),
    ("rules/chart.py", "from ..store import db"),
    ("rules/chart.py", "from flask_login import current_user"),
    ("access.py", "from .services import entries"),
    ("access.py", "from flask import request"),
    ("services/entries.py", "from ..web import forms"),
    ("services/entries.py", "import diary.web.timeline"),
    ("web/patient.py", "from ..store import entries"),
])
def test_the_checker_names_a_wrong_arrow(module, source):
    found = violations(PACKAGE / module, "\n\n" + source)
    assert found and found[0].startswith(f"diary/{module}:3 imports "), found


def test_the_checker_lets_the_right_arrows_pass():
    assert violations(PACKAGE / "web" / "patient.py", "from ..services import entries") == []
    assert violations(PACKAGE / "services" / "flags.py", "from ..store.db import write") == []
