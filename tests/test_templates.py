"""The templates compiled ahead of time (chalicelib/compiled.py): up to date, used, and never used stale."""
from __future__ import annotations

import shutil

import pytest

from chalicelib import compiled, services, templates
from conftest import source

PAGES = ["/", "/posts/one", "/posts/two", "/tags", "/tags/python", "/authors/ada-lovelace", "/archive",
         "/archive/2024/02", "/search?q=post", "/search?q=", "/no/such/page"]


def test_the_compiled_templates_are_up_to_date():
    expected = compiled.expected_modules(templates.environment(), templates.template_names())
    shipped = {path: path.read_text(encoding="utf-8") for path in compiled.COMPILED_DIR.glob("*.py")}
    assert sorted(shipped) == sorted(expected), "run `make templates` to regenerate chalicelib/templates_compiled/"
    assert [p.name for p in expected if shipped[p] != expected[p]] == [], "run `make templates` to regenerate them"


def test_every_template_loads_from_its_compiled_module():
    env = templates.environment()
    assert {name: env.get_template(name).filename for name in templates.template_names()} == \
        {name: str(compiled.module_path(name)) for name in templates.template_names()}


@pytest.fixture
def blog(publish):
    publish("posts/one.md", source("First post", date="2024-01-01T23:30:00-05:00", tags=["Python"],
                                   author="Ada Lovelace", body="Hello `inline` code.\n\n```python\nprint(1)\n```"))
    publish("posts/two.md", source("Second post", date="2024-02-01", tags=["Python", "AWS"]))


def pages(http) -> dict[str, tuple[int, str]]:
    """Every kind of page, from a new site and a new template environment (nothing cached)."""
    services.reset()
    services.site()  # read the settings now: the test client swaps in config.json's variables per request
    templates.environment.cache_clear()
    return {path: (reply.status_code, reply.text) for path in PAGES for reply in [http.get(path)]}


@pytest.fixture
def fresh_environment():
    """The template environment is made again after the test (which makes its own)."""
    yield
    templates.environment.cache_clear()


def test_pages_from_the_compiled_templates_are_those_from_the_sources(http, blog, monkeypatch, fresh_environment):
    from_modules = pages(http)
    monkeypatch.setattr(compiled, "source_digest", lambda source: "no module matches this")
    from_sources = pages(http)
    assert templates.environment().get_template("post.html").filename.endswith("templates/post.html")
    assert from_modules == from_sources
    assert [status for status, _ in from_modules.values()] == [200] * (len(PAGES) - 1) + [404]


def test_an_edited_template_is_compiled_from_its_source_until_make_templates(tmp_path):
    import jinja2

    shutil.copytree(templates.TEMPLATES_DIR, tmp_path / "templates")
    edited = tmp_path / "templates" / "error.html"
    edited.write_text(edited.read_text(encoding="utf-8").replace("{% block content %}", "{% block content %}EDITED"),
                      encoding="utf-8")
    env = jinja2.Environment(loader=compiled.CompiledLoader(tmp_path / "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    assert env.get_template("error.html").filename == str(edited)
    assert env.get_template("base.html").filename == str(compiled.module_path("base.html"))
    page = env.get_template("error.html").render(title="Not found", message="Gone.", css_name="s.css",
                                                 site={"title": "T"}, link=str, absolute=str)
    assert "EDITED" in page and "<h1>Not found</h1>" in page


def test_a_template_without_a_compiled_module_is_compiled_from_its_source(tmp_path):
    import jinja2

    (tmp_path / "new.html").write_text("Hello {{ name }}", encoding="utf-8")
    env = jinja2.Environment(loader=compiled.CompiledLoader(tmp_path, tmp_path / "none"), autoescape=True)
    assert env.get_template("new.html").render(name="<you>") == "Hello &lt;you&gt;"
