"""Code blocks as HTML, highlighted by Pygments within a known budget. Pure: no I/O.

Pygments lexers are regular expressions run over the whole block, and many are
superlinear on unlucky input: an unclosed comment or string, or a long run of tabs,
makes each position scan to the end (2,200 tabs in an `easytrieve` block took 23 s;
C, Java and C# are quadratic on `/*` or tab-newline runs). Three rules bound the cost:
- a block is lexed in pieces of at most HIGHLIGHT_CHUNK_CHARS, cut at line ends, so
  no scan goes further than one piece and the cost is linear in the block's size (a
  comment or string across a cut may be coloured wrongly; the text is always right);
- only languages in ALLOWED_LEXERS are highlighted, each measured on adversarial input
  (tests/test_highlighting.py: the cost from n to 4n characters grows linearly);
- a block longer than MAX_HIGHLIGHT_CHARS, and code past MAX_HIGHLIGHTED_CHARS in one
  post, is shown plain (escaped, with its `language-…` class).
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from html import escape
from typing import Any

HIGHLIGHT_CHUNK_CHARS = 600  # the longest text one lexer run sees
MAX_HIGHLIGHT_CHARS = 50_000  # one block; a longer listing is shown plain
MAX_HIGHLIGHTED_CHARS = 50_000  # one post, all blocks together

# Languages bloggers write, by the name Pygments gives their lexer; every alias works
# (```py, ```sh, ```js, ```c++). Left out because even in pieces they are slow on
# adversarial input: csharp (35 µs a character), easytrieve, autoit, autohotkey, aspectj, arduino,
# console, ...
ALLOWED_LEXERS = frozenset({
    "bash", "batch", "c", "clojure", "cmake", "cpp", "css", "d", "dart", "diff", "docker",
    "elixir", "elm", "erlang", "fortran", "fsharp", "go", "graphql", "groovy", "haskell", "hcl", "html",
    "ini", "java", "javascript", "json", "julia", "kotlin", "latex", "lua", "make", "markdown", "matlab",
    "nginx", "nim", "nix", "objective-c", "ocaml", "perl", "php", "powershell", "protobuf", "python",
    "pycon", "pytb", "r", "ruby", "rust", "scala", "scheme", "scss", "sql", "swift", "tcl", "text",
    "toml", "typescript", "vim", "xml", "yaml", "zig",
})

# Every token colour of these two has at least 4.5:1 contrast (WCAG AA) on the site's code
# background (style.css --code-bg), light and dark: tests/test_look.py checks it.
PYGMENTS_LIGHT_STYLE = "xcode"
PYGMENTS_DARK_STYLE = "lightbulb"


def plain(code: str, language: str = "") -> str:
    """A code block without highlighting, escaped."""
    css = f' class="language-{escape(language)}"' if language else ""
    return f"<pre><code{css}>{escape(code, quote=False)}</code></pre>\n"


def can_highlight(language: str, code: str) -> bool:
    """Is this block's language allowed and the block small enough to highlight?"""
    return len(code) <= MAX_HIGHLIGHT_CHARS and lexer_name(language) is not None


@functools.lru_cache(maxsize=512)
def lexer_name(language: str) -> str | None:
    """The allowed lexer a fence's language names (by any alias), or None.

    Found as get_lexer_by_name finds Pygments' own lexers, from their table: no lexer is
    loaded (its rules compiled) just to be refused, and an unknown name never makes Pygments
    look for plugin lexers in every installed package's metadata (about 20 ms, once a process).
    """
    from pygments.lexers import get_all_lexers

    alias = language.lower()
    for _, aliases, _, _ in get_all_lexers(plugins=False):
        if alias in aliases:
            return aliases[0] if aliases[0] in ALLOWED_LEXERS else None
    return None


@functools.lru_cache(maxsize=128)
def highlight(code: str, language: str) -> str:
    """Code as Pygments HTML with CSS classes, or plain when the language or size is not allowed.

    Cached: a post's page, its feed entry and its API answer highlight the same blocks.
    """
    name = lexer_name(language) if len(code) <= MAX_HIGHLIGHT_CHARS else None
    if name is None:
        return plain(code, language)
    return highlight_with(code, name)


def highlight_with(code: str, lexer_alias: str) -> str:
    """Code highlighted by one lexer, piece by piece (any lexer: the sweep test measures them)."""
    from io import StringIO

    lexer = _lexer(lexer_alias)
    text = code.strip("\n") + "\n"  # what Pygments' own stripnl/ensurenl would make of it
    tokens = itertools.chain.from_iterable(lexer.get_tokens(piece) for piece in pieces(text))
    out = StringIO()
    _code_formatter().format(tokens, out)
    return out.getvalue()


def pieces(text: str, size: int = HIGHLIGHT_CHUNK_CHARS) -> Iterator[str]:
    """`text` in consecutive pieces of at most `size` characters, cut after a newline when there is one."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            newline = text.rfind("\n", start, end)
            end = newline + 1 if newline >= start else end
        yield text[start:end]
        start = end


@functools.lru_cache(maxsize=64)
def _lexer(alias: str) -> Any:
    """A lexer that leaves each piece's newlines alone, so the pieces join up exactly."""
    from pygments.lexers import get_lexer_by_name

    return get_lexer_by_name(alias, stripnl=False, ensurenl=False)


@functools.lru_cache(maxsize=1)
def _code_formatter() -> Any:
    """The one HTML formatter for code blocks: making one builds a whole style table, so make it once."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="highlight", wrapcode=True)


def pygments_css() -> str:
    """The highlighting stylesheet (static/pygments.css is this, written by `make css`)."""
    from pygments.formatters import HtmlFormatter

    light: str = HtmlFormatter(style=PYGMENTS_LIGHT_STYLE).get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    dark: str = HtmlFormatter(style=PYGMENTS_DARK_STYLE).get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    indented = "\n".join("  " + line for line in dark.splitlines())
    return (f"/* Generated by `make css` from Pygments ({PYGMENTS_LIGHT_STYLE}, {PYGMENTS_DARK_STYLE}); "
            f"do not edit. */\n{light}\n@media (prefers-color-scheme: dark) {{\n{indented}\n}}\n")
