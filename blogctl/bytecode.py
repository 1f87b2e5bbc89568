"""Bytecode in the deployment zip: a .pyc for each module, where CPython looks for it.

Chalice zips sources only (`chalice package`, `chalice deploy`), and Lambda unpacks the zip into
a read-only /var/task: without bytecode in the zip, every cold start compiles every module it
imports (a local run, with its __pycache__ folders, never sees that). `add_bytecode` rewrites the
zip with each module's bytecode at `<folder>/__pycache__/<module>.cpython-3XY.pyc`, for the
Python that builds it, which must be the functions' runtime (`check_runtimes`). `make package`
calls it on the zip Chalice packaged, `make deploy` on the zip Chalice is about to upload
(blogctl/chalicecli.py).
"""
from __future__ import annotations

import os
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

# Hash-based and unchecked (PEP 552): the pyc is used without looking at its source. Lambda
# unpacks the zip, so the sources' mtimes are not the ones a timestamp pyc (the default) records
# and every one would be found stale and compiled again; a checked hash would read and hash
# every source at each start. So a pyc must never outlive its source: `add_bytecode` drops every
# pyc the zip had and compiles each module again, whenever it runs on a zip.
INVALIDATION = py_compile.PycInvalidationMode.UNCHECKED_HASH
# Optimization level 0 whatever this interpreter's -O: the name CPython looks for at level 0
# (no `.opt-1`), and asserts and docstrings kept (Jinja2 and others may read docstrings).
OPTIMIZE = 0
# Pygments' lexers stay source only: some 260 of its 340 modules, whose bytecode (1.5 MB zipped)
# would take the zip past its 5 MB (6.2 MB with it, against 4.7 MB without). No function imports
# one at its start: the blog loads a lexer module the first time a container highlights one of
# its languages (ALLOWED_LEXERS reach some 40 of them). The lexer table is read by every highlight.
SOURCE_ONLY = "pygments/lexers/"
COMPILED_ANYWAY = frozenset({"pygments/lexers/__init__.py", "pygments/lexers/_mapping.py"})

Entries = dict[str, tuple[zipfile.ZipInfo, bytes]]  # a zip's files by name: how each is stored, its bytes


class BytecodeError(Exception):
    """The zip cannot get its bytecode: a module does not compile, or the runtime is another Python."""


# What giving a zip its bytecode can raise: reading or writing it, a runtime or a module refused
FAILURES = (OSError, ValueError, zipfile.BadZipFile, BytecodeError)


def runtime() -> str:
    """The Lambda runtime whose bytecode this interpreter writes, e.g. 'python3.11'."""
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def function_runtimes(template: dict[str, Any]) -> dict[str, Any]:
    """The runtime of each function of Chalice's SAM template, by the function's name."""
    return {name: resource["Properties"].get("Runtime")
            for name, resource in template.get("Resources", {}).items()
            if resource.get("Type") == "AWS::Serverless::Function"}


def check_runtimes(runtimes: dict[str, Any]) -> None:
    """Refuse when a function (`runtimes`: what each runs) runs on another Python than this one.

    Chalice (1.34, `Config.lambda_python_version` in chalice/config.py) gives the functions the
    runtime of the interpreter that runs `chalice package` or `chalice deploy`: python3.X from
    3.10 to 3.14, but python3.10 below and python3.15 above. A pyc loads only in the version that
    wrote it (its magic number): of another one's, Lambda would compile every module at every
    cold start again.
    """
    if sys.implementation.name != "cpython":
        raise BytecodeError(f"bytecode must be CPython's, not {sys.implementation.name}'s")
    other = {name: value for name, value in runtimes.items() if value != runtime()}
    if other:
        shown = ", ".join(f"{name} runs {value}" for name, value in sorted(other.items()))
        raise BytecodeError(f"this is {runtime()}, whose bytecode the functions cannot use ({shown}): "
                            "build with the Python of the runtime (README: Prerequisites)")


def pyc_name(source: str) -> str:
    """Where CPython looks for a module's bytecode: 'a/b.py' -> 'a/__pycache__/b.cpython-311.pyc'.

    Made here rather than by importlib.util.cache_from_source, which a PYTHONPYCACHEPREFIX
    on the building machine would move out of the zip's layout.
    """
    path = PurePosixPath(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc")


def is_cached_bytecode(name: str) -> bool:
    """Is this file of the zip a pyc where CPython caches a module's bytecode (PEP 3147)?"""
    path = PurePosixPath(name)
    return path.parent.name == "__pycache__" and path.suffix == ".pyc"


def compiles(name: str) -> bool:
    """Does this file of the zip get its bytecode (a module, and not one left as source)?"""
    return name.endswith(".py") and (not name.startswith(SOURCE_ONLY) or name in COMPILED_ANYWAY)


def compile_sources(sources: dict[str, bytes]) -> dict[str, bytes]:
    """Each source's pyc bytes, by the source's name; BytecodeError naming every one that does not compile."""
    pycs, failures = {}, []
    with tempfile.TemporaryDirectory(prefix="blog-bytecode-") as folder:
        root = Path(folder)
        for name, data in sources.items():
            source, pyc = root / name, root / pyc_name(name)
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_bytes(data)
            try:  # dfile: tracebacks name the zip's path (the import then sets the real one)
                py_compile.compile(str(source), cfile=str(pyc), dfile=name, doraise=True, optimize=OPTIMIZE,
                                   invalidation_mode=INVALIDATION)
            except py_compile.PyCompileError as err:
                failures.append(err.msg.strip())
                continue
            pycs[name] = pyc.read_bytes()
    if failures:
        raise BytecodeError(f"{len(failures)} module(s) in the zip do not compile, so it would ship without "
                            "their bytecode:\n" + "\n".join(failures))
    return pycs


def read_entries(path: Path) -> Entries:
    """Every file of a zip, with how it is stored."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: (info, archive.read(info)) for info in archive.infolist()}


def write_entries(path: Path, entries: Entries) -> None:
    """Replace the zip at `path`: its files in name order, each stored as its ZipInfo says (time, mode, compression)."""
    # A partial file of this call's own, then one atomic rename: two deploys from one project may
    # rewrite Chalice's cached zip at once, and each reads the zip to upload it right after.
    handle, partial = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file, zipfile.ZipFile(file, "w") as archive:
            for name in sorted(entries):
                like, data = entries[name]
                info = zipfile.ZipInfo(name, like.date_time)
                info.external_attr, info.create_system, info.compress_type = (
                    like.external_attr, like.create_system, like.compress_type)
                archive.writestr(info, data)
        os.chmod(partial, path.stat().st_mode & 0o777)  # the zip's own mode, not mkstemp's 0600
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def add_bytecode(path: Path) -> list[str]:
    """Rewrite the zip at `path` with the bytecode of its modules, and no other; say how many."""
    # Whatever bytecode the zip has goes first. Chalice zips chalicelib/ as it finds it, local
    # __pycache__ folders too: a local run's timestamp pycs (of no use on Lambda), a deleted
    # module's among them. And a zip Chalice reuses may have had its bytecode added before.
    entries = {name: entry for name, entry in read_entries(path).items() if not is_cached_bytecode(name)}
    sources = {name: data for name, (_, data) in entries.items() if compiles(name)}
    for name, pyc in compile_sources(sources).items():
        # stored as Chalice stores its source: the same fixed time and mode (CPython gives a pyc its source's mode)
        entries[pyc_name(name)] = (entries[name][0], pyc)
    write_entries(path, entries)
    left = sum(name.endswith(".py") for name in entries) - len(sources)
    return [f"{len(sources)} modules compiled for {runtime()} (unchecked-hash pycs, optimization level {OPTIMIZE}); "
            f"{left} Pygments lexer modules left as source"]
