"""Search analysis and query parsing: folding, stop words, plurals, a post's terms, the query's words."""
from __future__ import annotations

import pytest

from chalicelib.errors import BadRequest
from chalicelib.search import query as q
from chalicelib.search import text


def test_a_text_folds_in_place_character_for_character():
    sample = "Ça, Ωmega — naïve Résumé «déjà» ÉCOLE ω Ål Z"  # (no 'ĳ': it folds to two letters)
    assert text.fold_in_place(sample) == "".join(text.fold(c) for c in sample).lower()
    assert len(text.fold_in_place(sample)) == len(sample)
    assert text.fold_in_place("Straße") is None and text.fold_in_place("e\u0301clair") is None
    assert text.fold_in_place("Plain ASCII") == "plain ascii"


def test_words_fold_case_and_accents_and_split_on_punctuation():
    assert text.words("Café CRÈME, naïve_façade: Straße!") == ["cafe", "creme", "naive", "facade", "strasse"]
    assert text.words("it's") == ["it", "s"]
    assert text.words("e\u0301clair") == ["eclair"]  # a decomposed accent stays in its word


@pytest.mark.parametrize("plural, singular", [
    ("posts", "post"), ("stories", "story"), ("boxes", "box"), ("caches", "cache"), ("classes", "class"),
    ("movies", "movie"), ("heroes", "hero"), ("tomatoes", "tomato"), ("churches", "church"),
    ("databases", "database"), ("horses", "horse"), ("statuses", "status"), ("indexes", "index"),
    ("days", "day"), ("apis", "api"), ("ties", "tie"), ("queries", "query"), ("aliases", "alias"),
])
def test_plurals_meet_their_singular(plural, singular):
    assert text.stem(plural) == text.stem(singular)


@pytest.mark.parametrize("one, other", [
    ("note", "not"), ("rose", "ros"), ("code", "cod"), ("news", "new"), ("status", "statu"),
    ("class", "clas"), ("posts", "poster"), ("hate", "hat"),
])
def test_different_words_stay_apart(one, other):
    assert text.stem(one) != text.stem(other)


def test_only_latin_letters_are_stemmed():
    assert text.stem("1990s") == "1990s"
    assert text.stem("привет") == "привет"
    assert text.stem("gas") == "gas" and text.stem("aws") == "aws"


def test_terms_drop_stop_words_lone_letters_and_absurd_words():
    assert text.terms("The cat and a dog, 2 x") == ["cat", "dog", "2"]
    assert text.term("a" * (text.MAX_TERM_BYTES + 1)) is None
    assert text.term("é" * (text.MAX_TERM_BYTES // 2)) is not None  # the bound is in bytes


def test_analyze_weighs_title_and_tags_and_counts_length():
    doc = text.analyze("s", "2024-01-02T10:00:00Z", "Boxes", ["Moving Day"], "A box and another box.")
    assert doc.terms["box"] == text.TITLE_WEIGHT + 2
    assert doc.terms["moving"] == text.TAG_WEIGHT and doc.terms["dai"] == text.TAG_WEIGHT
    assert doc.terms["another"] == 1
    assert doc.length == sum(doc.terms.values())
    assert doc.day == 19724  # 2024-01-02
    assert doc.forms == {"dai": "day"}  # 'box' is a word itself; 'dai' is not


def test_analyze_keeps_the_heaviest_terms_and_the_title_within_its_bounds():
    body = " ".join(f"word{n}" for n in range(8_000)) + " repeated repeated"
    doc = text.analyze("s", "2024-01-02", "Title words", [], body)
    stored = sum(text.stored_bytes(t, n, doc.forms.get(t, t)) for t, n in doc.terms.items())
    assert text.MAX_DOC_TERMS_BYTES - 20 < stored <= text.MAX_DOC_TERMS_BYTES
    assert {text.term("title"), "word", "repeated", "word0"} <= set(doc.terms)
    assert "word7999" not in doc.terms  # the last of the equals go first


def test_a_long_post_keeps_the_words_it_uses_once():
    # 5,000 distinct words, most of them once (as in a long post): every one is kept, not its 1,000 heaviest.
    body = " ".join(f"{n:04d}wombat" for n in range(5_000))
    assert "4999wombat" in text.analyze("s", "2024-01-02", "Notes", [], body).terms
    long_text = "early " + "filler " * text.MAX_TEXT_CHARS + "late"
    assert "late" not in text.analyze("s", "2024-01-02", "", [], long_text).terms


def test_query_words_must_all_match_and_stop_words_drop():
    parsed = q.parse_query("The Boxes of  stories ")
    assert [w.term for w in parsed.words] == ["box", "stori"]
    assert parsed.text == "The Boxes of stories"
    assert not any(w.prefix for w in parsed.words)  # a trailing space: the last word is finished
    assert not q.parse_query("the of and")
    assert not q.parse_query("")


def test_the_last_word_is_a_prefix_while_typing():
    parsed = q.parse_query("python gen")
    assert [(w.term, w.prefix) for w in parsed.words] == [("python", False), ("gen", True)]
    assert not q.parse_query("python ge").words[-1].prefix  # too short to complete
    assert not q.parse_query('"python gen"').words[-1].prefix  # inside a phrase


def test_quoted_phrases_keep_their_order_and_stop_words():
    parsed = q.parse_query('„One Saved” "the box" boxes')
    assert parsed.phrases == (("one", "saved"), ("the", "box"))
    assert [w.term for w in parsed.words] == ["one", "saved", "box"]
    unclosed = q.parse_query('"one saved')
    assert unclosed.phrases == () and [w.term for w in unclosed.words] == ["one", "saved"]


def test_words_joined_without_a_space_are_a_phrase():
    parsed = q.parse_query("kangaroo.js 3.5 don't e-mail 3.5")
    assert parsed.phrases == (("kangaroo", "js"), ("3", "5"), ("don", "t"), ("e", "mail"))  # once each
    assert [w.term for w in parsed.words] == ["kangaroo", "js", "don", "mail", "3", "5"]
    assert q.parse_query("x86_64 e‐mail").phrases == (("x86", "64"), ("e", "mail"))
    assert q.parse_query("wombat's burrows").phrases == ()  # a possessive: the word alone
    assert q.parse_query("wombat/burrow, tunnel").phrases == ()  # other marks join nothing
    assert q.parse_query('"kangaroo.js hops"').phrases == (("kangaroo", "js", "hop"),)  # quoted: one phrase


def test_queries_are_bounded():
    with pytest.raises(BadRequest):
        q.parse_query("a" * (q.MAX_QUERY_CHARS + 1))
    many = q.parse_query(" ".join(f"w{n}" for n in range(40)))
    assert len(many.words) == q.MAX_QUERY_WORDS and many.words[-1].term == "w39"  # the last typed are kept
    phrases = q.parse_query(" ".join(f'"a{n} b{n}"' for n in range(10)))
    assert len(phrases.phrases) == q.MAX_PHRASES
    long_phrase = q.parse_query('"' + " ".join(f"w{n}" for n in range(30)) + '"')
    assert len(long_phrase.phrases[0]) == q.MAX_PHRASE_WORDS


def test_edit_distance_counts_swaps_and_stops_at_its_limit():
    assert q.edit_distance("pyhton", "python", 2) == 1
    assert q.edit_distance("kangaroi", "kangaroo", 2) == 1
    assert q.edit_distance("cat", "dog", 1) == 2  # over the limit: limit + 1
    assert q.edit_distance("short", "a much longer word", 2) == 3
