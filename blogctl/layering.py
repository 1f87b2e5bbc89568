"""The layering rules of the deployed code, checked on its imports: `python -m blogctl.layering`.

1. Pure modules (PURE_MODULES) do no I/O: they import nothing that reaches AWS, files,
   the network, processes or the environment (IO_MODULES), and from chalicelib only
   other pure modules and the errors. A new pure module goes in the list.
2. chalicelib imports neither chalice (app.py maps its errors to HTTP) nor the tools
   (blogctl, bench, the tests) nor app.py.
3. Only AWS_MODULES talk to AWS: no other deployed file (chalicelib, app.py) imports
   boto3 or botocore.
4. The flows (FLOWS: serving, an upload, the rebuild) do not import each other: what they
   share lives in the model, the planner and the indexer; services.py wires them together.

Every import counts, at the top of a file or inside a function (lazy imports too); they
are read with `ast`, so nothing is imported to check them. The tests run this (so `make
test` and CI do); `python -m blogctl.layering` prints the violations and exits 1 on any.
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Rule 1: modules that compute only.
PURE_MODULES = (
    "chalicelib/model.py",
    "chalicelib/transitions.py",
    "chalicelib/posts.py",
    "chalicelib/render.py",
    "chalicelib/shortcodes.py",
    "chalicelib/highlighting.py",
    "chalicelib/sanitizer.py",
    "chalicelib/images.py",
    "chalicelib/search/__init__.py",
    "chalicelib/search/text.py",
    "chalicelib/search/shards.py",
    "chalicelib/search/query.py",
    "chalicelib/search/snippets.py",
    "chalicelib/search/engine.py",
    "chalicelib/feeds.py",
    "chalicelib/pages.py",
    "chalicelib/links.py",
    "chalicelib/dates.py",
    "chalicelib/security.py",
    "chalicelib/lru.py",
    "chalicelib/preview.py",
)
# What a pure module may import from chalicelib besides the pure modules: errors are plain values.
PURE_MAY_IMPORT = ("chalicelib.errors",)
# Imports that mean I/O: AWS, files, network, processes, environment, logging output.
IO_MODULES = (
    "boto3", "botocore", "chalice",
    "os", "pathlib", "io", "shutil", "tempfile", "glob", "fileinput", "sqlite3",
    "socket", "ssl", "select", "selectors", "urllib.request", "http.client", "http.server", "requests",
    "subprocess", "multiprocessing", "asyncio", "logging",
)
# Known exceptions, each with the reason it is allowed for now.
PURE_EXCEPTIONS = {
    # io.StringIO: Pygments writes into an in-memory buffer; no file, no stream.
    "chalicelib/highlighting.py": ("io",),
}

# Rule 2: what chalicelib must not import.
TOOLS = ("chalice", "blogctl", "bench", "tests", "app", "conftest", "iam")

# Rule 3: the only deployed files that talk to AWS: the store (S3, DynamoDB, SQS), the clients,
# and cdn.py's one CloudFront call (made with a client it is given).
AWS_MODULES = ("chalicelib/store.py", "chalicelib/aws.py", "chalicelib/cdn.py")
AWS_SDK = ("boto3", "botocore")

# Rule 4: one module per flow; none reaches into another.
FLOWS = ("chalicelib/site.py", "chalicelib/ingest.py", "chalicelib/rebuild.py")


@dataclass(frozen=True)
class Import:
    """One module an import statement names, and where."""

    module: str
    line: int


@dataclass(frozen=True)
class Violation:
    """One import that breaks a rule."""

    path: str
    line: int
    module: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.module}: {self.rule}"


def module_name(path: str) -> str:
    """'chalicelib/posts.py' -> 'chalicelib.posts'."""
    return path[:-len(".py")].replace("/", ".").removesuffix(".__init__")


def imports_in(source: str, path: str) -> Iterator[Import]:
    """Every module the file's import statements name, anywhere in it (inside functions too).

    `from a import b` names `a` and `a.b` (b may be a module); relative imports are made
    absolute from `path`.
    """
    package = module_name(path).split(".")[:-1] if not path.endswith("__init__.py") else module_name(path).split(".")
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1] if node.level > 1 else package
                parent = ".".join([*base, node.module] if node.module else base)
            else:
                parent = node.module or ""
            if parent:
                yield Import(parent, node.lineno)
            for alias in node.names:
                if alias.name != "*":
                    yield Import(f"{parent}.{alias.name}" if parent else alias.name, node.lineno)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            yield Import("<dynamic import>", node.lineno)


def _is_dynamic_import(func: ast.expr) -> bool:
    """__import__(...) or importlib.import_module(...): a check of imports cannot follow those."""
    if isinstance(func, ast.Name):
        return func.id == "__import__"
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    """Is `module` one of `prefixes` or inside one of them?"""
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def deployed_files(root: Path) -> list[str]:
    """app.py and every Python file under chalicelib/, relative to `root`."""
    files = sorted(p.relative_to(root).as_posix() for p in (root / "chalicelib").rglob("*.py"))
    return (["app.py"] if (root / "app.py").exists() else []) + files


def check_file(path: str, source: str) -> list[Violation]:
    """The rules' violations in one deployed file (`path` relative to the project)."""
    found: list[Violation] = []
    pure_chalicelib = tuple(module_name(p) for p in PURE_MODULES) + PURE_MAY_IMPORT
    for imported in imports_in(source, path):
        module, line = imported.module, imported.line
        if path in PURE_MODULES:
            if module == "<dynamic import>":
                found.append(Violation(path, line, module, "a pure module imports only what can be checked"))
            elif within(module, IO_MODULES) and not within(module, PURE_EXCEPTIONS.get(path, ())):
                found.append(Violation(path, line, module, "a pure module does no I/O"))
            elif within(module, ("chalicelib",)) and module != "chalicelib" and not within(module, pure_chalicelib):
                found.append(Violation(path, line, module,
                                       "a pure module imports only pure modules and chalicelib.errors"))
        if path.startswith("chalicelib/") and within(module, TOOLS):
            found.append(Violation(path, line, module, "chalicelib imports neither chalice, app.py nor the tools"))
        if path not in AWS_MODULES and within(module, AWS_SDK):
            found.append(Violation(path, line, module, f"only {', '.join(AWS_MODULES)} talk to AWS"))
        if path in FLOWS and within(module, tuple(module_name(f) for f in FLOWS if f != path)):
            found.append(Violation(path, line, module, "a flow does not import another flow (site, ingest, rebuild)"))
    return found


def check(root: Path = PROJECT_DIR) -> list[Violation]:
    """Every violation in the deployed code under `root`, and every pure module that is missing."""
    missing = [Violation(path, 0, "-", "listed in PURE_MODULES but missing: update the list")
               for path in PURE_MODULES if not (root / path).exists()]
    found = [violation for path in deployed_files(root)
             for violation in check_file(path, (root / path).read_text(encoding="utf-8"))]
    return missing + sorted(set(found), key=lambda v: (v.path, v.line, v.module, v.rule))


def main(root: Path = PROJECT_DIR) -> int:
    """Print the violations; exit 1 if there are any."""
    violations = check(root)
    for violation in violations:
        print(violation)
    print(f"layering: {len(violations)} violation(s) in {len(deployed_files(root))} deployed files")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
