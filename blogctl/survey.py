"""What readers find of an imported site, counted: `blogctl import SITE_DIR --check BLOG_URL`.

After an import, on the running blog, for the README's table of real blogs:

- post files: what the old generator reads as posts, by extension. Markdown is imported;
  other formats (`.html`, `.rst`, notebooks) are skipped, and named here;
- valid (not rejected), published, rejected with reasons, unpublished (draft, scheduled,
  expired). The share published is of the valid posts the old site published
  (valid, less the unpublished);
- posts with visible junk: text a reader sees that the author did not mean as text.
  Each published post's page is parsed (html5lib, as a browser parses it) and the text a
  reader sees of the post (title, body, and the summary listings show) is searched for
  the markup of the old generators (JUNK_PATTERNS). Code, preformatted text and keyboard
  input are left out: there such text is the author's;
- images referenced in the post sources (Markdown, HTML, and shortcodes or Liquid tags
  naming an image file) against those in the pages, and those the blog serves;
- no unpublished post public: each draft, scheduled or expired post's address and old
  addresses show no page of it, its API entry is 404, and neither the feed nor the
  sitemap names it.

`find_junk` and `source_images` are pure; `survey_site` makes the requests.
"""
from __future__ import annotations

import concurrent.futures
import html
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import html5lib
import mistune

from blogctl.importer import IMPORT_WORKERS, MAX_REPORTED, Check, OldSite, PostReport, Report, follow
from chalicelib import posts, shortcodes

# What the old generators would have turned into something else, by kind. A post counts
# once however many it shows; each kind is counted per post.
HTML_ELEMENTS = (
    "a", "abbr", "article", "aside", "audio", "b", "big", "blockquote", "br", "button", "canvas", "caption",
    "center", "cite", "code", "col", "colgroup", "dd", "del", "details", "div", "dl", "dt", "em", "embed",
    "figcaption", "figure", "font", "footer", "form", "h[1-6]", "header", "hr", "i", "iframe", "img",
    "input", "ins", "kbd", "label", "li", "link", "main", "mark", "meta", "nav", "noscript", "object", "ol",
    "p", "picture", "pre", "q", "s", "samp", "script", "section", "small", "source", "span", "strike",
    "strong", "style", "sub", "summary", "sup", "svg", "table", "tbody", "td", "tfoot", "th", "thead",
    "time", "tr", "track", "tt", "u", "ul", "video", "wbr",
)
JUNK_PATTERNS = {
    "Hugo shortcode": re.compile(r"\{\{[<%].{0,300}?[>%]\}\}|\{\{[<%]|[>%]\}\}"),
    "Liquid tag": re.compile(r"(?<!\{)\{%-?\s*\w[^%]{0,300}?%\}(?!\})|(?<!\{)\{%|%\}(?!\})"),
    "Liquid output": re.compile(r"\{\{-?\s*[A-Za-z_][\w.\[\]'\"-]*(?:\s*\|[^{}\n]*)?\s*-?\}\}"),
    "kramdown attributes": re.compile(r"\{:\s*[.#\w][^}\n]{0,200}\}?|\{::"),
    "HTML as text": re.compile(rf"</?(?:{'|'.join(HTML_ELEMENTS)})(?:\s[^<>\n]{{0,300}})?/?>", re.I),
    "HTML comment": re.compile(r"<!--|-->"),
    "entity as text": re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});"),
    "Pelican link": re.compile(r"\|(?:filename|static|attach)\||\{(?:filename|static|attach|index|tag|category)\}"),
    "table of contents marker": re.compile(r"\[TOC\]"),
    "Markdown as text": re.compile(r"!?\[[^\]\n]{0,300}\]\((?:https?:|/|\.{1,2}/|#)[^)\s]*\)|\[\^[\w-]+\]"),
}
# Math is counted apart: the blog renders no math (no script on its pages), so TeX shows as
# written; that is a missing feature, not markup the blog failed to render.
MATH_KIND = "TeX math"
MATH_PATTERN = re.compile(r"\$\$.{1,2000}?\$\$|\\\(.{1,500}?\\\)|\\\[.{1,2000}?\\\]|\\(?:frac|mathbf|mathcal|"
                          r"sum|alpha|beta|theta|lambda|sigma|mu|partial|nabla|cdot|left|right|begin)\b", re.S)
# Inside these a reader expects the characters as written (and html5lib gives us the text a
# browser shows, so a tag there was escaped on purpose).
LITERAL_ELEMENTS = frozenset({"pre", "code", "kbd", "samp", "script", "style", "template", "textarea", "var"})
BLOCK_ELEMENTS = frozenset({"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
                            "figure", "figcaption", "blockquote", "br", "dd", "dt", "table", "section", "details",
                            "summary", "hr"})
SNIPPET_CHARS = 40      # of context on each side of a piece of junk, in the report
MAX_JUNK_PER_POST = 5   # pieces of junk kept per post (all are counted)
UNPUBLISHED = ("draft", "scheduled", "expired")
MAX_SITEMAP_FILES = 2000  # sitemap files read for the leak check (one a month: 166 years of posts)
NOT_MARKDOWN = "not Markdown"  # how the importer's reason for a skipped post file of another format begins

# Tags that name an image file but show something else: a video's poster, an escaped example.
NOT_IMAGE_TAGS = frozenset({"video", "audio", "youtube", "vimeo", "literal", "raw"})
_IMAGE_PATH_RE = re.compile(r"""[^\s"'=()]+\.(?:png|jpe?g|gif|webp|svg|avif)(?=[\s"')?#]|$)""", re.I)
_TEMPLATE_TAG_RE = re.compile(r"\{\{[<%].{0,2000}?[>%]\}\}|\{%.{0,2000}?%\}", re.S)
# Code the generators keep as written: its image tags show as text, not images.
_TEMPLATE_CODE_RE = re.compile(r"\{%-?\s*(highlight|raw)\b.*?\{%-?\s*end\1\s*-?%\}|\{\{[<%]\s*highlight\b.*?"
                               r"\{\{[<%]\s*/highlight\s*[>%]\}\}", re.S)
_TAG_NAME_RE = re.compile(r"^(?:\{\{[<%]|\{%)-?\s*([\w./-]+)")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_HTML_IMAGE_RE = re.compile(r"<img\b", re.I)
_ESCAPED_RE = re.compile(r"&lt;/?[A-Za-z][^\n<]{0,300}?(?:&gt;|>)"
                         r"|&amp;(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")
_BACKSLASHED_TAG_RE = re.compile(r"\\<(/?[A-Za-z][^\n<>]{0,300}>)")
_RAW_BLOCK_RE = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.S)
_HUGO_ESCAPE_RE = re.compile(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}", re.S)
# Liquid output (`{{ site.url }}`) inside an image's address: a word, so the address stays one.
_LIQUID_OUTPUT_RE = re.compile(r"\{\{-?[^{}<%\n]{1,300}?-?\}\}")
_FOOTNOTE_REF_RE = re.compile(r"\[\^([^\]\s]{1,500})\](?!:)")
_FOOTNOTE_KEY_RE = re.compile(r"^ {0,4}\[\^([^\]\s]{1,500})\]:", re.M)
_CODE_SPAN_RE = re.compile(r"(?<!`)(`+)(?!`)(.{1,2000}?)(?<!`)\1(?!`)", re.S)
_SITEMAP_LOC_RE = re.compile(r"<sitemap>\s*<loc>([^<]{1,2000})</loc>")


@dataclass(frozen=True)
class Junk:
    """One piece of junk on a page: its kind, where (title, body, summary) and what the reader sees around it."""

    kind: str
    where: str
    snippet: str


def _element_name(element: Any) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def _classes(element: Any) -> list[str]:
    return str(element.get("class") or "").split()


def _visible(element: Any) -> str:
    """The text a reader sees in `element`, literal elements left out, blocks on lines of their own."""
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(element, False)]
    while stack:  # by hand, not recursion: author's HTML may nest deeper than Python's stack
        node, closing = stack.pop()
        if closing:
            parts.append("\n" if _element_name(node) in BLOCK_ELEMENTS else "")
            parts.append(node.tail or "")
            continue
        name = _element_name(node)
        if node is not element and (name in LITERAL_ELEMENTS or not name or "toc" in _classes(node)):
            parts.append(node.tail or "")  # the toc repeats the headings
            continue
        parts.append(node.text or "")
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node)))
    if parts:
        parts[-1] = ""  # the element's own tail is outside it
    return "".join(parts)


def _find(root: Any, name: str, css_class: str) -> Any:
    return next((e for e in root.iter() if _element_name(e) == name and css_class in _classes(e)), None)


def page_texts(page: str) -> dict[str, str]:
    """What a reader sees of the post on its page: {'title', 'body', 'summary'} ('' when missing)."""
    root = html5lib.parse(page, namespaceHTMLElements=False)
    article = _find(root, "article", "post")
    title = next((e for e in article.iter() if _element_name(e) == "h1"), None) if article is not None else None
    body = _find(article, "div", "post-body") if article is not None else None
    summary = next((e.get("content") or "" for e in root.iter()
                    if _element_name(e) == "meta" and e.get("name") == "description"), "")
    return {"title": _visible(title) if title is not None else "", "body": _visible(body) if body is not None else "",
            "summary": summary}


def author_literals(body: str) -> str:
    """The text a post's author wrote to be shown as it is, for find_junk to leave alone:
    escaped HTML (`&lt;div&gt;`, `&amp;mdash;`, `\\<b>`), Jekyll's `{% raw %}` blocks,
    Hugo's escaped shortcodes (`{{</* figure */>}}`), code spans (the summary shows them as
    plain text) and footnote marks without a note (`[^1]`), as a reader sees them."""
    parts = [html.unescape(m.group()) for m in _ESCAPED_RE.finditer(body)]
    parts += ["<" + m.group(1) for m in _BACKSLASHED_TAG_RE.finditer(body)]
    parts += [m.group(1) for m in _RAW_BLOCK_RE.finditer(body)]
    parts += ["{{" + "".join(m.groups()) + "}}" for m in _HUGO_ESCAPE_RE.finditer(body)]
    parts += [m.group(2).strip() for m in _CODE_SPAN_RE.finditer(body)]  # summaries show code spans as text
    notes = set(_FOOTNOTE_KEY_RE.findall(body))  # a mark without its note is text in every generator
    parts += [m.group() for m in _FOOTNOTE_REF_RE.finditer(body) if m.group(1) not in notes]
    return "\n".join(parts)


def find_junk(page: str, literals: str = "") -> list[Junk]:
    """Every piece of unrendered markup (JUNK_PATTERNS) and of TeX (MATH_KIND) a reader sees on a
    post's page, but for what `literals` (author_literals of its source) shows on purpose."""
    found = []
    patterns = [*JUNK_PATTERNS.items(), (MATH_KIND, MATH_PATTERN)]
    for where, text in page_texts(page).items():
        for kind, pattern in patterns:
            for match in pattern.finditer(text):
                if kind != MATH_KIND and match.group() in literals:
                    continue
                start, end = max(0, match.start() - SNIPPET_CHARS), match.end() + SNIPPET_CHARS
                snippet = " ".join(text[start:end].split())
                found.append(Junk(kind, where, snippet))
    return found


def page_images(page: str) -> list[str]:
    """The `src` of every image in a post page's body."""
    root = html5lib.parse(page, namespaceHTMLElements=False)
    body = _find(root, "div", "post-body")
    if body is None:
        return []
    return [str(e.get("src")) for e in body.iter() if _element_name(e) == "img" and e.get("src")]


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    kept, position = [], 0
    for start, end in spans:
        if start < position:
            continue
        kept.append(text[position:start])
        kept.append("\n\n" if "\n" in text[start:end] else " ")
        position = end
    kept.append(text[position:])
    return "".join(kept)


def _tokens(tokens: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    stack = list(reversed(tokens))
    while stack:
        token = stack.pop()
        yield token
        stack.extend(reversed(token.get("children") or []))


_markdown_tree = mistune.create_markdown(renderer=None, plugins=["table", "footnotes", "strikethrough"])


def _tag_name(tag: str) -> str:
    found = _TAG_NAME_RE.match(tag)
    return found.group(1).lower() if found else ""


def source_images(body: str) -> int:
    """How many images a post's Markdown body shows its readers, by the old generator's rules.

    Markdown images (inline and by reference), HTML `<img>`, and shortcodes or Liquid tags
    that name an image file (`{{< figure src="a.png" >}}`, `{% include image.html url="a.png" %}`);
    not those in code, in `{% highlight %}`/`{% raw %}` or in HTML comments.
    """
    text = _without(body, shortcodes.code_regions(body))
    text = _TEMPLATE_CODE_RE.sub(" ", text)
    text = _COMMENT_RE.sub(" ", text)
    count = len(_HTML_IMAGE_RE.findall(text))
    tags = list(_TEMPLATE_TAG_RE.finditer(text))
    count += sum(1 for tag in tags if _IMAGE_PATH_RE.search(tag.group()) and not _HTML_IMAGE_RE.search(tag.group())
                 and _tag_name(tag.group()) not in NOT_IMAGE_TAGS)
    markdown = _LIQUID_OUTPUT_RE.sub("liquid", _TEMPLATE_TAG_RE.sub(" ", text))
    tree: Any = _markdown_tree(markdown)
    return count + sum(1 for token in _tokens(tree) if token["type"] == "image")


# -- the survey --


@dataclass
class PostJunk:
    """A published post that shows junk: which kinds, and the first few pieces."""

    key: str
    url: str
    kinds: list[str]
    pieces: list[Junk]


@dataclass
class Survey:
    """The numbers of one imported site, as the README's table shows them."""

    generator: str
    files: dict[str, int] = field(default_factory=dict)         # post files by extension (Markdown and other)
    markdown_files: int = 0
    published: int = 0
    waiting: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)   # (key, reason)
    unpublished: dict[str, int] = field(default_factory=dict)       # draft / scheduled / expired
    junk: list[PostJunk] = field(default_factory=list)
    junk_kinds: dict[str, int] = field(default_factory=dict)        # posts showing each kind
    math: list[str] = field(default_factory=list)                   # posts showing TeX as written
    images_referenced: int = 0
    images_in_pages: int = 0
    images_on_other_hosts: int = 0
    lost_images: list[tuple[str, int, int]] = field(default_factory=list)  # (key, referenced, in the page)
    missing_pages: list[str] = field(default_factory=list)          # published, yet no page at its URL
    unpublished_checked: int = 0
    unpublished_public: list[str] = field(default_factory=list)     # what a reader could see of them

    @property
    def valid(self) -> int:
        """Markdown post files that are not rejected."""
        return self.markdown_files - len(self.rejected)

    @property
    def meant_public(self) -> int:
        """Valid posts that the old site published too (not drafts, not scheduled, not expired)."""
        return self.valid - sum(self.unpublished.values())

    def summary(self) -> str:
        """A few lines of numbers."""
        def share(part: int, whole: int) -> str:
            return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else f"{part}/0"

        other = {ext: n for ext, n in self.files.items() if ext not in posts.SOURCE_SUFFIXES}
        by_ext = ", ".join(f"{n} {ext}" for ext, n in sorted(self.files.items(), key=lambda item: -item[1]))
        return "\n".join([
            f"post files {sum(self.files.values())} ({by_ext or 'none'})"
            + (f"; {sum(other.values())} not Markdown, not imported" if other else ""),
            f"valid {self.valid} of {self.markdown_files}; published {share(self.published, self.meant_public)} of the "
            f"valid ones the old site published; unpublished "
            + (", ".join(f"{n} {s}" for s, n in self.unpublished.items()) or "none")
            + (f"; still waiting for ingest {self.waiting}" if self.waiting else ""),
            f"posts with visible junk {share(len(self.junk), self.published)}"
            + (" (" + ", ".join(f"{k} {n}" for k, n in sorted(self.junk_kinds.items(), key=lambda i: -i[1])) + ")"
               if self.junk_kinds else ""),
            f"posts showing TeX math as written (the blog renders no math) {share(len(self.math), self.published)}",
            f"images referenced {self.images_referenced}, in the pages {self.images_in_pages} "
            f"({self.images_on_other_hosts} on other hosts)",
            f"unpublished posts public {len(self.unpublished_public)} of {self.unpublished_checked} checked",
        ] + ([f"published posts without a page {len(self.missing_pages)}"] if self.missing_pages else []))

    def details(self) -> list[str]:
        """What falls short, post by post (at most MAX_REPORTED of each)."""
        lines = [f"rejected {key}: {why}" for key, why in self.rejected[:MAX_REPORTED]]
        for post in self.junk[:MAX_REPORTED]:
            lines.append(f"junk in {post.url} ({', '.join(post.kinds)}):")
            lines += [f"    {piece.kind} in the {piece.where}: …{piece.snippet}…" for piece in post.pieces]
        lines += [f"images: {key} references {wanted}, its page shows {shown}"
                  for key, wanted, shown in self.lost_images[:MAX_REPORTED]]
        lines += [f"public: {what}" for what in self.unpublished_public[:MAX_REPORTED]]
        lines += [f"no page at {url}" for url in self.missing_pages[:MAX_REPORTED]]
        return lines

    def row(self, name: str, check: Check | None = None) -> str:
        """The README's table row: blog, generator, post files, valid, published, junk, images
        (referenced in the sources / in the pages / served by the blog, of those on its own host),
        unpublished posts (and how many of them are public)."""
        def percent(part: int, whole: int) -> str:
            return f"{100 * part / whole:.1f}%" if whole else "-"

        other = sum(self.files.values()) - self.markdown_files
        served = f"{check.images_ok}/{check.images}" if check else "-"
        unpublished = sum(self.unpublished.values())
        return (f"| {name} | {self.generator.capitalize()} | {self.markdown_files}"
                + (f" (+{other} not Markdown)" if other else "")
                + f" | {self.valid} | {self.published} ({percent(self.published, self.meant_public)}) "
                f"| {len(self.junk)} ({percent(len(self.junk), self.published)}) "
                f"| {self.images_referenced} / {self.images_in_pages} / {served} "
                f"| {unpublished}: {len(self.unpublished_public)} public |")


def _count_files(site: OldSite, report: Report) -> Counter[str]:
    found: Counter[str] = Counter()
    for post in report.posts:
        found[_suffix(post.key)] += 1
    for path, why in report.skipped:
        if why.startswith(NOT_MARKDOWN):
            found[_suffix(path)] += 1
    return found


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[name.rfind("."):].lower() if "." in name else "(none)"


def _names(text: str, slug: str) -> bool:
    return re.search(rf"/posts/{re.escape(quote(slug))}(?=[\"'<#?/\s]|$)", text) is not None


def _shows_post(html: str, slug: str) -> bool:
    """Is this page the post `slug` (its canonical link names it)?"""
    root = html5lib.parse(html, namespaceHTMLElements=False)
    return any(_element_name(e) == "link" and e.get("rel") == "canonical"
               and urlsplit(str(e.get("href") or "")).path.endswith(f"/posts/{quote(slug)}") for e in root.iter())


def survey_site(site: OldSite, report: Report, blog_url: str) -> Survey:
    """Count, on the running blog at `blog_url`, what readers find of the site `report` imported."""
    base = blog_url.rstrip("/")
    host = urlsplit(base).netloc
    survey = Survey(site.generator)
    files = _count_files(site, report)
    survey.files = dict(files)
    survey.markdown_files = len(report.posts)
    statuses = Counter(p.status for p in report.posts)
    survey.published, survey.waiting = statuses["published"], statuses["waiting"]
    survey.unpublished = {s: statuses[s] for s in UNPUBLISHED if statuses[s]}
    survey.rejected = [(p.key, p.message) for p in report.posts if p.status == "error"]
    paths = {u.key: u.path for u in site.uploads if u.is_post}
    published = [p for p in report.posts if p.status == "published"]
    published_slugs = {p.slug for p in published}
    kinds: Counter[str] = Counter()

    def page(post: PostReport) -> tuple[PostReport, str]:
        _, status, _, body = follow(base + post.new_url)
        return post, body.decode("utf-8", "replace") if status == 200 else ""

    with concurrent.futures.ThreadPoolExecutor(IMPORT_WORKERS) as pool:
        for post, html in pool.map(page, published):
            body = posts.body_of(paths[post.key].read_bytes()) if post.key in paths else ""
            wanted = source_images(body)
            shown = page_images(html) if html else []
            survey.images_referenced += wanted
            survey.images_in_pages += len(shown)
            survey.images_on_other_hosts += sum(1 for src in shown if urlsplit(src).netloc not in ("", host))
            if len(shown) < wanted:
                survey.lost_images.append((post.key, wanted, len(shown)))
            if not html:
                survey.missing_pages.append(post.new_url)
                continue
            junk = find_junk(html, author_literals(body))
            if any(piece.kind == MATH_KIND for piece in junk):
                survey.math.append(post.new_url)
                junk = [piece for piece in junk if piece.kind != MATH_KIND]
            if junk:
                found = list(dict.fromkeys(piece.kind for piece in junk))
                kinds.update(found)
                survey.junk.append(PostJunk(post.key, post.new_url, found, junk[:MAX_JUNK_PER_POST]))
        survey.junk_kinds = dict(kinds)
        hidden = [p for p in report.posts if p.status in UNPUBLISHED and p.slug and p.slug not in published_slugs]
        survey.unpublished_checked = len(hidden)
        survey.unpublished_public = _leaks(hidden, base, pool)
    return survey


def _leaks(hidden: list[PostReport], base: str, pool: concurrent.futures.Executor) -> list[str]:
    """What a reader could find of posts that are not published: pages, API entries, feed and sitemap entries."""
    def visit(post: PostReport) -> list[str]:
        found = []
        for path in [post.new_url, *post.old_urls]:
            final, status, _, body = follow(base + quote(path, safe="/%:@!$&'()*+,;=-._~"))
            if status == 200 and _shows_post(body.decode("utf-8", "replace"), post.slug):
                found.append(f"{post.key} ({post.status}) is shown at {path}")
        _, status, _, _ = follow(f"{base}/api/posts/{quote(post.slug)}", "application/json")
        if status != 404:
            found.append(f"{post.key} ({post.status}): /api/posts/{post.slug} answers {status}")
        return found

    listings = {path: follow(base + path, "application/xml")[3].decode("utf-8", "replace")
                for path in ("/feed.xml", "/sitemap.xml")}
    # The sitemap is an index of sitemap files (one a month): the posts are in those.
    for loc in _SITEMAP_LOC_RE.findall(listings["/sitemap.xml"])[:MAX_SITEMAP_FILES]:
        path = urlsplit(html.unescape(loc)).path
        if path.startswith("/sitemaps/"):
            listings[path] = follow(base + path, "application/xml")[3].decode("utf-8", "replace")
    leaks = [leak for found in pool.map(visit, hidden) for leak in found]
    leaks += [f"{post.key} ({post.status}) is in {path}" for post in hidden for path, text in listings.items()
              if _names(text, post.slug)]
    return leaks
