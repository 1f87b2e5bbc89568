"""The Jinja2 templates compiled ahead of time: one Python module each in templates_compiled/ (`make templates`).

Not pure: it reads templates/ and templates_compiled/. Compiling a template (Jinja2's lexer,
parser and code generator, then Python's compiler) was about 11 ms of a cold post view; a
compiled module loads from its bytecode like any other module. Each module ends with the
digest of the source it was made from and of Jinja2's version: a template whose module is
missing or made from another source or Jinja2 is compiled from its source as before, so a
stale module is never used (and tests/test_templates.py fails until `make templates`).
"""
from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import jinja2

COMPILED_DIR = Path(__file__).parent / "templates_compiled"
FOOTER = "# Generated from chalicelib/templates/{name} by `make templates`; do not edit.\n"


def module_path(name: str, compiled_dir: Path = COMPILED_DIR) -> Path:
    """Where the compiled module of template `name` lives: `post.html` -> templates_compiled/post_html.py."""
    return compiled_dir / (name.replace(".", "_").replace("/", "__") + ".py")


def source_digest(source: str) -> str:
    """What a compiled module must have been made from: the template's source and Jinja2's version."""
    return hashlib.sha256(f"jinja2 {jinja2.__version__}\n{source}".encode()).hexdigest()


def module_source(environment: jinja2.Environment, name: str) -> str:
    """The Python module `make templates` writes for template `name` (its line numbers are Jinja2's own,
    so a template's error still names its line: the digest comes last)."""
    if environment.loader is None:
        raise TypeError("the environment has no loader")
    source, filename, _ = environment.loader.get_source(environment, name)
    code = environment.compile(source, name, filename, raw=True, defer_init=True)
    return f"{code}\n{FOOTER.format(name=name)}SOURCE_DIGEST = {source_digest(source)!r}\n"


def expected_modules(environment: jinja2.Environment, names: list[str],
                     compiled_dir: Path = COMPILED_DIR) -> dict[Path, str]:
    """Every compiled module `make templates` writes, by path, for the templates `names`."""
    return {module_path(name, compiled_dir): module_source(environment, name) for name in names}


class CompiledLoader(jinja2.FileSystemLoader):
    """Templates from templates/, each from its compiled module when that was made from its current source."""

    def __init__(self, templates_dir: Path, compiled_dir: Path = COMPILED_DIR) -> None:
        super().__init__(str(templates_dir))
        self.compiled_dir = compiled_dir

    def load(self, environment: jinja2.Environment, name: str,
             globals: MutableMapping[str, Any] | None = None) -> jinja2.Template:
        """The template, from its compiled module if that is up to date, else compiled from its source."""
        source, _, _ = self.get_source(environment, name)
        module = self._module(name)
        if module is None or getattr(module, "SOURCE_DIGEST", None) != source_digest(source):
            return super().load(environment, name, globals)
        return environment.template_class.from_module_dict(environment, vars(module), globals or {})

    def _module(self, name: str) -> Any:
        """The compiled module of `name`, freshly executed (Jinja2 binds it to one environment), or None."""
        path = module_path(name, self.compiled_dir)
        spec = importlib.util.spec_from_file_location(f"chalicelib.templates_compiled.{path.stem}", path)
        if spec is None or spec.loader is None or not path.is_file():
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # from its bytecode in __pycache__, like any module
        return module
