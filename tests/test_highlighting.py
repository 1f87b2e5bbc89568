"""Highlighting within budget: every allowed lexer sees at most one piece at a time and grows linearly.

The sweep times real Pygments runs, so it compares growth (n against 4n characters,
the cheapest of three tries) with a generous factor instead of asserting durations: a
quadratic lexer grows 16-fold, a linear one 4-fold, whatever the machine's speed.
"""
from __future__ import annotations

import pytest

from chalicelib import highlighting
from conftest import cpu_seconds

# Input that made lexers superlinear in the issue and in a sweep of every Pygments lexer:
# runs of white space, unclosed comments and strings, brackets, sigils.
ADVERSARIAL = ["\t\n", "a\t\n", "/*\n", '"\n', "(", "<!--", "$", "1", "-", "a\t"]
GROWTH_LIMIT = 8.0


def cost(lexer: str, text: str) -> float:
    return cpu_seconds(lambda: highlighting.highlight_with(text, lexer))


def repeated(pattern: str, n: int) -> str:
    return (pattern * (n // len(pattern) + 1))[:n]


def growth(lexer: str, pattern: str, n: int, large_cost: float | None = None) -> float:
    """Cost of 4n characters over cost of n, each the cheapest of three runs, alternated (a slow moment
    of a shared machine then has to hit all three runs of one size and none of the other's)."""
    small, large = float("inf"), large_cost if large_cost is not None else float("inf")
    for _ in range(3):
        small = min(small, cost(lexer, repeated(pattern, n)))
        large = min(large, cost(lexer, repeated(pattern, 4 * n)))
    return large / max(small, 1e-4)


@pytest.mark.parametrize("lexer", sorted(highlighting.ALLOWED_LEXERS))
def test_allowed_lexer_grows_linearly_on_adversarial_input(lexer):
    n = highlighting.HIGHLIGHT_CHUNK_CHARS
    for pattern in ADVERSARIAL:
        first = cost(lexer, repeated(pattern, 4 * n))
        if first < 0.002:  # too fast to measure: nothing to grow
            continue
        assert growth(lexer, pattern, n, first) < GROWTH_LIMIT, (lexer, pattern)


def test_a_superlinear_lexer_is_bounded_by_the_pieces():
    # easytrieve took 23 s on 2,200 tabs in one run; in pieces it grows linearly.
    assert highlighting.lexer_name("easytrieve") is None  # and it is not allowed anyway
    assert growth("easytrieve", "\t", highlighting.HIGHLIGHT_CHUNK_CHARS * 2) < GROWTH_LIMIT


def test_lexers_only_ever_see_one_piece(monkeypatch):
    seen: list[str] = []
    lexer = highlighting._lexer("c")
    original = type(lexer).get_tokens

    def recording(self, text, *args, **kwargs):
        seen.append(text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(type(lexer), "get_tokens", recording)
    code = "int x; /* unclosed\n" * 500 + "y" * 2_000 + "\n"
    html = highlighting.highlight_with(code, "c")
    assert max(len(piece) for piece in seen) <= highlighting.HIGHLIGHT_CHUNK_CHARS
    assert "".join(seen) == code
    assert html.count("unclosed") == 500


def test_pieces_cut_after_newlines_and_join_up():
    text = "ab\ncd\n" * 300 + "x" * 1500
    cut = list(highlighting.pieces(text, 100))
    assert "".join(cut) == text
    assert all(len(piece) <= 100 for piece in cut)
    assert all(piece.endswith("\n") for piece in cut[:-16])


def test_aliases_map_to_allowed_lexers_and_others_are_plain():
    assert highlighting.lexer_name("py") == "python"
    assert highlighting.lexer_name("JS") == "javascript"
    assert highlighting.lexer_name("easytrieve") is None
    assert highlighting.lexer_name("no such") is None
    assert highlighting.highlight("\t" * 2200, "easytrieve").startswith('<pre><code class="language-easytrieve">')


def test_every_alias_names_the_lexer_pygments_finds_for_it(monkeypatch):
    from pygments import plugin
    from pygments.lexers import find_lexer_class_by_name, get_all_lexers

    aliases = {alias for _, names, _, _ in get_all_lexers(plugins=False) for alias in names}
    expected = {alias: find_lexer_class_by_name(alias).aliases[0] for alias in aliases}
    monkeypatch.setattr(plugin, "iter_entry_points", lambda group: pytest.fail("looked for plugin lexers"))
    highlighting.lexer_name.cache_clear()
    assert {alias: highlighting.lexer_name(alias) for alias in aliases} == \
        {alias: main if main in highlighting.ALLOWED_LEXERS else None for alias, main in expected.items()}
    assert highlighting.lexer_name("mermaid") is None  # unknown: plain, without a plugin search
    highlighting.lexer_name.cache_clear()


def test_long_blocks_are_plain():
    code = "x = 1\n" * (highlighting.MAX_HIGHLIGHT_CHARS // 6 + 1)
    assert highlighting.highlight(code, "python").startswith("<pre><code")
    assert highlighting.highlight("x = 1\n", "python").startswith('<div class="highlight">')
