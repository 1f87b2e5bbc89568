"""Hugo shortcodes, Jekyll Liquid and kramdown attribute lists, expanded before Markdown. Pure: no I/O.

Hugo and Jekyll both run these before (or around) Markdown, so this does too: the
Markdown that comes out has HTML, fenced code and URLs where the tags were. What it
knows renders as its generator renders it; what it does not know is left out and named
in a warning with its line, never printed on the page. Code spans and code blocks are
left alone (their text is the author's example), except for the generators' own escapes:
Hugo's `{{</* x */>}}` and Jekyll's `{% raw %}`, which work everywhere.

Links to other posts (`ref`, `relref`, `post_url`, `link`) become root-relative
`/posts/<slug>`, with the slug the blog gives that source; the renderer puts the site's
base before every root-relative URL. Every step moves forward through the text (each
search is remembered), so the cost is linear in the size of the body.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from chalicelib.errors import Problem
from chalicelib.images import IMAGE_SUFFIXES
from chalicelib.posts import slug_from_key
from chalicelib.sanitizer import FRAME_ORIGINS

MAX_TAG_CHARS = 2000  # a shortcode or Liquid tag longer than this is text, not a tag
MAX_WARNINGS = 50  # one post's warnings; past this they are counted, not listed
YOUTUBE_EMBED = FRAME_ORIGINS[0] + "/embed/"
VIMEO_EMBED = FRAME_ORIGINS[1] + "/video/"
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")
# `{{ x }}` is Liquid only when x starts with one of Jekyll's objects.
LIQUID_OBJECTS = frozenset({"site", "page", "post", "include", "layout", "paginator", "forloop", "content",
                            "jekyll", "theme"})

_OPENER_RE = re.compile(r"\{\{|\{%|\{:|\{::")
# `[ \t]*+` takes all leading white space at once: a plain `[ \t]*` before `(?:>[ \t]?)*[ \t]*` splits
# n spaces n ways on every line that is not a fence (issue 12: 1 MiB of deep list items, 2.8 s).
_QUOTED_INDENT = r"^[ \t]*+(?:>[ \t]?)*[ \t]*"
_FENCE_RE = re.compile(_QUOTED_INDENT + r"(`{3,}|~{3,})([^\n]*)$", re.M)
_BLANK_LINE_RE = re.compile(r"\n[ \t]*(?:\n|$)")
_BACKTICKS_RE = re.compile(r"(?<![`\\])`+")
_LIST_ITEM_RE = re.compile(r"^[ \t]{0,3}(?:[*+-]|\d{1,9}[.)])(?:[ \t]|$)")
_ARG_RE = re.compile(r"""\s*(?:([\w.-]+)\s*=\s*)?("(?:[^"\\]|\\.)*"|`[^`]*`|'[^']*'|[^\s"'`=]+)""")
_NAME_RE = re.compile(r"\s*(/?)\s*([\w./-]+)")
_HUGO_ESCAPE_RE = re.compile(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}", re.S)
_RAW_TAG_RE = re.compile(r"\{%-?\s*(?:end)?raw\s*-?%\}")
_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]", re.M)
_IAL_ID_RE = re.compile(r"#([\w-]+)")
_TOC_LINE_RE = re.compile(r"(?:^|\n)[ \t]*(?:[*+-]|1\.)[ \t]+[^\n]*\n?$")
_LIQUID_STRING_RE = re.compile(r"""^\s*(["'])([^"']*)\1\s*\|\s*(relative_url|absolute_url|prepend:[^|]*)\s*$""")
_VARIABLE_RE = re.compile(r"^\s*([\w.-]+)\s*$")


@dataclass(frozen=True)
class Expanded:
    """Markdown with every tag expanded, and what could not be (`line N: …`)."""

    markdown: str
    warnings: tuple[str, ...]


def expand(text: str, params: Mapping[str, Any] | None = None, site_url: str = "", first_line: int = 1,
           markdownify: Callable[[str], str] | None = None) -> Expanded:
    """Expand Hugo shortcodes, Jekyll Liquid and kramdown IALs in a Markdown body."""
    if "{" not in text:
        return Expanded(text, ())
    return _Expander(text, params or {}, site_url, first_line, markdownify or _escape_text).run()


def _escape_text(text: str) -> str:
    return escape(text, quote=False)


class _Expander:
    """One pass over one body."""

    def __init__(self, text: str, params: Mapping[str, Any], site_url: str, first_line: int,
                 markdownify: Callable[[str], str]) -> None:
        self.text = text
        self.params = params
        self.site_url = site_url.rstrip("/")
        self.first_line = first_line
        self.markdownify = markdownify
        self.out: list[str] = []
        self.warnings: list[str] = []
        self.dropped = 0
        self._line_pos, self._line_no = 0, 0
        self._found: dict[str, int] = {}  # the next occurrence of a string, remembered
        self._line_start_cache = (0, 0)
        # A body with Liquid tags is Jekyll's: there `{{ x }}` is Liquid whatever x is.
        self.liquid = re.search(r"\{%-?\s*(?:assign|for|capture|if|unless|case)\s", text) is not None
        self._code = code_regions(text)
        self._code_index = 0

    # -- the scan --

    def run(self) -> Expanded:
        text, pos = self.text, 0
        for opener in _OPENER_RE.finditer(text):
            start = opener.start()
            if start < pos:
                continue  # inside something already consumed
            code_end = self._code_end(start)
            if code_end is not None:
                self.out.append(text[pos:start])
                pos = start
                if text.startswith(("{{</*", "{{%/*", "{%"), start):
                    pos = self._in_code(start, code_end)
                continue
            self.out.append(text[pos:start])
            pos = self._tag(start)
        self.out.append(text[pos:])
        if self.dropped:
            self.warnings.append(f"{self.dropped} more warnings not shown")
        return Expanded("".join(self.out), tuple(self.warnings))

    def _code_end(self, position: int) -> int | None:
        """The end of the code span or block `position` is in, if any."""
        regions = self._code
        while self._code_index < len(regions) and regions[self._code_index][1] <= position:
            self._code_index += 1
        if self._code_index < len(regions) and regions[self._code_index][0] <= position:
            return regions[self._code_index][1]
        return None

    def _in_code(self, start: int, code_end: int) -> int:
        """In code only the generators' escapes work: `{{</* x */>}}` and `{% raw %}`."""
        text = self.text
        escaped = _HUGO_ESCAPE_RE.match(text, start, min(code_end, start + MAX_TAG_CHARS))
        if escaped:
            self.out.append("{{" + escaped.group(1) + escaped.group(2) + escaped.group(3) + "}}")
            return escaped.end()
        raw = _RAW_TAG_RE.match(text, start, min(code_end, start + 40))
        if raw:
            return raw.end()
        self.out.append(text[start])
        return start + 1

    def _tag(self, start: int) -> int:
        """Expand the tag at `start`; return where the text goes on."""
        text = self.text
        if text.startswith("{{<", start) or text.startswith("{{%", start):
            return self._hugo(start)
        if text.startswith("{%", start):
            return self._liquid(start)
        if text.startswith("{{", start):
            return self._liquid_output(start)
        return self._attribute_list(start)

    # -- Hugo --

    def _hugo(self, start: int) -> int:
        text = self.text
        escaped = _HUGO_ESCAPE_RE.match(text, start, start + MAX_TAG_CHARS)
        if escaped:  # {{</* figure */>}} shows the shortcode itself
            self.out.append(_escape_text("{{" + escaped.group(1) + escaped.group(2) + escaped.group(3) + "}}"))
            return escaped.end()
        close_mark = ">}}" if text[start + 2] == "<" else "%}}"
        end = self._next(close_mark, start + 3)
        if end < 0 or end - start > MAX_TAG_CHARS:
            self.out.append(text[start:start + 3])
            return start + 3
        inner = text[start + 3:end]
        after = end + 3
        if inner.strip().startswith("/*"):  # a Hugo comment: {{< /* … */ >}}
            return after
        name_match = _NAME_RE.match(inner)
        if not name_match:
            self.out.append(text[start:after])
            return after
        closing, name = name_match.group(1), name_match.group(2)
        args = _arguments(inner[name_match.end():])
        if closing:
            return after  # the end of a paired shortcode whose start was handled
        if name == "highlight":
            return self._code_block(start, after, args.get(0, ""), r"\{\{[<%]\s*/\s*highlight\s*[>%]\}\}")
        if name.endswith(".inline"):  # an inline shortcode: a Go template, which only Hugo can run
            close = self._search(r"\{\{[<%]\s*/\s*" + re.escape(name) + r"\s*[>%]\}\}", after)
            self.warn(start, f"inline shortcode {{{{< {name} >}}}} (a Hugo template): left out")
            return close.end() if close else after
        handler = _HUGO.get(name)
        if handler is None and _looks_like_image(args):  # a theme's own `img`/`image`: keep the picture
            self.warn(start, f"unknown Hugo shortcode {{{{< {name} >}}}}: shown as a figure of its image")
            handler, args = _figure, {"src": args.get("src") or args.get(0, ""), **args}
        if handler is None:
            self.warn(start, f"unknown Hugo shortcode {{{{< {name} >}}}}: left out")
            return after
        html = handler(self, args, start)
        if name in _INLINE_SHORTCODES:
            self.out.append(html)
        else:
            self._emit_html(start, after, html)
        return after

    # -- Jekyll (Liquid) --

    def _liquid(self, start: int) -> int:
        text = self.text
        end = self._next("%}", start + 2)
        if end < 0 or end - start > MAX_TAG_CHARS:
            self.out.append("{%")
            return start + 2
        inner = text[start + 2:end].strip().strip("-").strip()
        after = end + 2
        word, rest = (inner.split(None, 1) + [""])[:2] if inner else ("", "")
        rest = rest.strip()
        if not re.fullmatch(r"[a-z_]+", word):
            self.out.append("{%")
            return start + 2
        if word == "raw":
            close = self._search(r"\{%-?\s*endraw\s*-?%\}", after)
            if close is None:
                return after
            self.out.append(text[after:close.start()])
            return close.end()
        if word == "endraw":
            return after
        if word == "comment":
            close = self._search(r"\{%-?\s*endcomment\s*-?%\}", after)
            return close.end() if close else after
        if word == "highlight":
            return self._code_block(start, after, rest.split()[0] if rest else "",
                                    r"\{%-?\s*endhighlight\s*-?%\}")
        if word == "post_url":
            self.out.append(_post_path(rest.strip().strip("\"'")))
            return after
        if word == "link":
            target = rest.strip().strip("\"'")
            self.out.append(_post_path(target) if target.endswith(MARKDOWN_SUFFIXES) else "/" + target.lstrip("/"))
            return after
        if word in _LIQUID_EMBEDS:  # Octopress's and Pelican's liquid_tags
            html = _LIQUID_EMBEDS[word](self, rest, start)
            self._emit_html(start, after, html)
            return after
        self.warn(start, f"unknown Liquid tag {{% {word} %}}: left out")
        return after

    def _liquid_output(self, start: int) -> int:
        text = self.text
        end = self._next("}}", start + 2)
        if end < 0 or end - start > MAX_TAG_CHARS:
            self.out.append("{{")
            return start + 2
        inner = text[start + 2:end].strip().strip("-").strip()
        after = end + 2
        string = _LIQUID_STRING_RE.match(inner)
        if string:  # {{ "/assets/x.png" | relative_url }}
            self.out.append(string.group(2))
            return after
        variable = _VARIABLE_RE.match(inner)
        name = variable.group(1) if variable else inner
        if not self.liquid and name.split(".")[0].split("|")[0].strip() not in LIQUID_OBJECTS:
            # Not Liquid: TeX (`\frac{{a}}{b}`), a template shown in prose. Jekyll would eat
            # it, Hugo would not; keeping the author's text loses nothing.
            self.out.append("{{")
            return start + 2
        if name in ("site.url", "site.baseurl"):
            # The renderer puts the right base before root-relative URLs: `{{ site.url }}/x` is `/x`.
            follows = text[after:after + 20]
            if follows.startswith("/") or re.match(r"\{\{\s*site\.baseurl\s*\}\}", follows):
                return after
            self.out.append(self.site_url or "/")
            return after
        if name.startswith("page."):
            value = _param(self.params, name[len("page."):])
            if value is not None:
                self.out.append(_escape_text(str(value)))
                return after
        self.warn(start, f"unknown Liquid value {{{{ {inner[:60]} }}}}: left out")
        return after

    # -- kramdown --

    def _attribute_list(self, start: int) -> int:
        """`{: .class}`, `{:toc}`, `{::options …/}`: applied to headings (ids), dropped elsewhere."""
        text = self.text
        line_end = self._line_end(start)
        end = self._next("}", start)
        if end < 0 or end > line_end:
            self.out.append(text[start:start + 2])
            return start + 2
        after = end + 1
        if text.startswith("{::", start):  # {::comment}…{:/comment}, {::nomarkdown}…{:/}, {::options /}
            name = text[start + 3:end].split()[0].rstrip("/") if text[start + 3:end].split() else ""
            if text[end - 1] != "/" and name:
                close = self._search(r"\{:/(?:" + re.escape(name) + r")?\}", after)
                if close:
                    if name == "nomarkdown":
                        self.out.append(text[after:close.start()])
                    return close.end()
            return after
        content = text[start + 2:end].strip()
        line_start = self._line_start(start)
        alone = not text[line_start:start].strip() and not text[after:line_end].strip()
        if content == "toc":
            self._drop_toc_list()
        elif _HEADING_RE.match(text, line_start) and not text[after:line_end].strip():
            found = _IAL_ID_RE.search(content)
            if found:
                self.out.append("{#" + found.group(1) + "}")
        elif alone and _IAL_ID_RE.search(content):
            self._id_to_previous_heading(_IAL_ID_RE.search(content).group(1))  # type: ignore[union-attr]
        if alone:  # the whole line was the list: drop the line too
            return line_end + 1 if line_end < len(text) else line_end
        return after

    def _id_to_previous_heading(self, anchor: str) -> None:
        """A block IAL under a heading names the heading: '## Setup' + '{: #notes}' -> '## Setup {#notes}'."""
        tail = self.out[-1] if self.out else ""
        line_start = tail.rfind("\n", 0, len(tail) - 1) + 1
        if tail.endswith("\n") and _HEADING_RE.match(tail, line_start):
            self.out[-1] = tail[:-1] + " {#" + anchor + "}\n"

    def _drop_toc_list(self) -> None:
        """kramdown's `* TOC` / `{:toc}` pair: the blog makes its own table of contents."""
        tail = "".join(self.out[-3:])
        found = _TOC_LINE_RE.search(tail)
        if found:
            kept = tail[:found.start()] + ("\n" if found.group(0).startswith("\n") else "")
            del self.out[-3:]
            self.out.append(kept)

    # -- helpers --

    def _code_block(self, start: int, after: int, language: str, closing: str) -> int:
        """A highlight tag pair as a fenced code block (its options, like line numbers, are not kept)."""
        close = self._search(closing, after)
        if close is None:
            self.warn(start, "highlight block without its end tag: left as text")
            return after
        code = self.text[after:close.start()].strip("\n")
        code = _RAW_TAG_RE.sub("", code)
        longest = max((len(m) for m in re.findall(r"`{3,}", code)), default=2)
        fence = "`" * (longest + 1)
        language = re.sub(r"[^\w+#.-]", "", language.strip("\"'"))
        self.out.append(f"\n{fence}{language}\n{code}\n{fence}\n")
        return close.end()

    def _emit_html(self, start: int, after: int, html: str) -> None:
        """HTML alone on its line becomes its own block; inside a line it stays inline."""
        text = self.text
        line_start, line_end = self._line_start(start), self._line_end(after)
        if html and not text[line_start:start].strip() and not text[after:line_end].strip():
            self.out.append(html + "\n")  # with the line's own newline, a blank line ends the block
        else:
            self.out.append(html)

    def _line_start(self, position: int) -> int:
        """Where the line of `position` starts; remembered, since the scan only moves forward."""
        known_at, known = self._line_start_cache
        if position < known_at:
            known_at, known = 0, 0
        newline = self.text.rfind("\n", known_at, position)
        found = newline + 1 if newline >= 0 else known
        self._line_start_cache = (position, found)
        return found

    def _line_end(self, position: int) -> int:
        """Where the line of `position` ends (its newline, or the end of the text)."""
        found = self._next("\n", position)
        return len(self.text) if found < 0 else found

    def _next(self, mark: str, position: int) -> int:
        """Where `mark` next occurs at or after `position` (-1: nowhere); remembered, so linear overall."""
        found = self._found.get(mark)
        if found is None or (found != -1 and found < position):
            found = self.text.find(mark, position)
            self._found[mark] = found
        return found

    def _search(self, pattern: str, position: int) -> re.Match[str] | None:
        """The next match of a closing tag; a miss is remembered, so a thousand openers cost one scan."""
        key = "re:" + pattern
        known = self._found.get(key)
        if known == -1:
            return None
        if known is not None and known >= position:
            found = re.compile(pattern).search(self.text, known)  # starts where it was seen
        else:
            found = re.compile(pattern).search(self.text, position)
        self._found[key] = found.start() if found else -1
        return found

    def warn(self, position: int, message: str) -> None:
        """Record a warning at the line of `position`."""
        if len(self.warnings) >= MAX_WARNINGS:
            self.dropped += 1
            return
        self._line_no += self.text.count("\n", self._line_pos, position)
        self._line_pos = position
        self.warnings.append(str(Problem(message, self.first_line + self._line_no)))


# -- Hugo's built-in shortcodes --

def _figure(expander: _Expander, args: dict[Any, str], start: int) -> str:
    src = args.get("src", "")
    if not src:
        expander.warn(start, "figure without src: left out")
        return ""
    caption, title, attr = args.get("caption", ""), args.get("title", ""), args.get("attr", "")
    alt = args.get("alt") or caption
    size = "".join(f' {k}="{escape(args[k])}"' for k in ("width", "height") if args.get(k))
    image = f'<img src="{escape(src)}" alt="{escape(alt)}"{size}>'
    if args.get("link"):
        image = f'<a href="{escape(args["link"])}">{image}</a>'
    parts = []
    if title:
        parts.append(f"<h4>{escape(title)}</h4>")
    if caption or attr:
        credit = expander.markdownify(attr)
        if args.get("attrlink"):
            credit = f'<a href="{escape(args["attrlink"])}">{credit}</a>'
        parts.append(f"<p>{expander.markdownify(caption)}{credit}</p>")
    css = f' class="{escape(args["class"])}"' if args.get("class") else ""
    figcaption = f"<figcaption>{''.join(parts)}</figcaption>" if parts else ""
    return f"<figure{css}>{image}{figcaption}</figure>"


def _youtube(expander: _Expander, args: dict[Any, str], start: int) -> str:
    video = args.get("id") or args.get(0, "")
    if not re.fullmatch(r"[\w-]{1,64}", video):
        expander.warn(start, "youtube shortcode without a valid video id: left out")
        return ""
    title = escape(args.get("title") or "YouTube video")
    return (f'<div class="embed embed-video"><iframe src="{YOUTUBE_EMBED}{video}" title="{title}" '
            f'width="560" height="315" allowfullscreen></iframe></div>')


def _vimeo(expander: _Expander, args: dict[Any, str], start: int) -> str:
    video = args.get("id") or args.get(0, "")
    if not re.fullmatch(r"\d{1,20}", video):
        expander.warn(start, "vimeo shortcode without a valid video id: left out")
        return ""
    title = escape(args.get("title") or "Vimeo video")
    return (f'<div class="embed embed-video"><iframe src="{VIMEO_EMBED}{video}" title="{title}" '
            f'width="560" height="315" allowfullscreen></iframe></div>')


def _gist(expander: _Expander, args: dict[Any, str], start: int) -> str:
    user, gist = args.get(0, ""), args.get(1, "")
    if not (re.fullmatch(r"[\w-]{1,100}", user) and re.fullmatch(r"[\w]{1,100}", gist)):
        expander.warn(start, "gist shortcode without a user and gist id: left out")
        return ""
    url = f"https://gist.github.com/{user}/{gist}"
    name = args.get(2, "")
    label = f"{name} (gist by {user})" if name else f"Gist by {user}"
    return f'<p class="gist"><a href="{url}">{escape(label)}</a></p>'


def _ref(expander: _Expander, args: dict[Any, str], start: int) -> str:
    target = args.get("path") or args.get(0, "")
    if not target:
        expander.warn(start, "ref shortcode without a target: left out")
        return ""
    return _post_path(target)


def _param(params: Mapping[str, Any], name: str) -> Any:
    value: Any = params
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part, value.get(part.lower()))
    return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None


def _param_shortcode(expander: _Expander, args: dict[Any, str], start: int) -> str:
    name = args.get(0) or args.get("name", "")
    value = _param(expander.params, name)
    if value is None:
        expander.warn(start, f"param {name!r} is not in the front matter: left out")
        return ""
    return _escape_text(str(value))


def _liquid_image(expander: _Expander, text: str, start: int) -> str:
    """`{% img [class…] src [width [height]] ["title" ["alt"]] %}`, as Octopress and Pelican write it."""
    found = re.match(r"""(?P<cls>(?:[^\s/"'.:]+\s+)*?)(?P<src>(?:https?:/|/|\.{0,2}/?)\S+\.\w+)"""
                     r"""(?:\s+(?P<w>\d+)(?:\s+(?P<h>\d+))?)?(?:\s+(?P<title>.*))?$""", text.strip(), re.S)
    if not found:
        expander.warn(start, "img tag without an image: left out")
        return ""
    title = (found.group("title") or "").strip()
    quoted = re.findall(r'"([^"]*)"', title)
    title, alt = (quoted[0], quoted[1] if len(quoted) > 1 else quoted[0]) if quoted else (title, title)
    attrs = f' class="{escape(found.group("cls").strip())}"' if found.group("cls").strip() else ""
    attrs += "".join(f' {k}="{found.group(g)}"' for k, g in (("width", "w"), ("height", "h")) if found.group(g))
    attrs += f' title="{escape(title)}"' if title else ""
    return f'<img src="{escape(found.group("src"))}" alt="{escape(alt)}"{attrs}>'


def _liquid_video(expander: _Expander, text: str, start: int) -> str:
    """`{% video src [width height] [poster] %}`."""
    parts = text.split()
    if not parts:
        expander.warn(start, "video tag without a source: left out")
        return ""
    size = "".join(f' {k}="{v}"' for k, v in zip(("width", "height"), [p for p in parts[1:3] if p.isdigit()]))
    poster = next((p for p in parts[1:] if not p.isdigit()), None)
    poster_attr = f' poster="{escape(poster)}"' if poster else ""
    return f'<video src="{escape(parts[0])}"{size}{poster_attr} preload="none"></video>'


def _liquid_embed(kind: str) -> Callable[[_Expander, str, int], str]:
    """`{% youtube id %}` / `{% vimeo id %}`: the Hugo shortcode's markup."""
    def embed(expander: _Expander, text: str, start: int) -> str:
        return _HUGO[kind](expander, {0: (text.split() or [""])[0]}, start)
    return embed


def _liquid_file_link(expander: _Expander, text: str, start: int) -> str:
    """`{% notebook x.ipynb %}`, `{% include_code x.py %}`: the file cannot be embedded; a link to it."""
    name = (text.split() or [""])[0]
    expander.warn(start, f"{name or 'a file'} cannot be embedded here: shown as a link")
    return f'<p class="attachment"><a href="{escape(name)}">{escape(name)}</a></p>' if name else ""


_LIQUID_EMBEDS: dict[str, Callable[[_Expander, str, int], str]] = {
    "img": _liquid_image, "video": _liquid_video, "youtube": _liquid_embed("youtube"),
    "vimeo": _liquid_embed("vimeo"), "notebook": _liquid_file_link, "include_code": _liquid_file_link,
}
_INLINE_SHORTCODES = frozenset({"ref", "relref", "param"})  # text, not blocks
_HUGO: dict[str, Callable[[_Expander, dict[Any, str], int], str]] = {
    "figure": _figure, "youtube": _youtube, "vimeo": _vimeo, "gist": _gist,
    "ref": _ref, "relref": _ref, "param": _param_shortcode,
}


def _looks_like_image(args: dict[Any, str]) -> bool:
    """Does an unknown shortcode name an image file (`src=` or its first argument)?"""
    source = args.get("src") or args.get(0, "")
    return bool(source) and source.lower().rsplit("?", 1)[0].endswith(tuple(IMAGE_SUFFIXES))


def _arguments(text: str) -> dict[Any, str]:
    """Shortcode arguments: positional ones under 0, 1, …; named ones under their names."""
    args: dict[Any, str] = {}
    position, index = 0, 0
    while position < len(text):
        found = _ARG_RE.match(text, position)
        if not found or found.end() == position:
            break
        value = found.group(2)
        if value[:1] in "\"`'" and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"') if value[0] == '"' else value[1:-1]
        if found.group(1):
            args[found.group(1)] = value
        else:
            args[index] = value
            index += 1
        position = found.end()
    return args


def _post_path(target: str) -> str:
    """The blog's URL of another post named by its source: 'x.md', '2010-07-21-x', '/blog/x/index.md#a'."""
    path, _, fragment = target.partition("#")
    path = path.strip().strip("/")
    for prefix in ("content/", "_posts/"):
        path = path.removeprefix(prefix)
    for suffix in MARKDOWN_SUFFIXES:
        if path.endswith(suffix):
            path = path[:-len(suffix)]
            break
    slug = slug_from_key(f"posts/{path}.md") if path else ""
    url = f"/posts/{slug}" if slug else "/"
    return url + (f"#{fragment}" if fragment else "")


def code_regions(text: str) -> list[tuple[int, int]]:
    """Sorted (start, end) of fenced and indented code blocks and of code spans, in one pass."""
    regions: list[tuple[int, int]] = []
    position, in_list, previous_blank = 0, False, True
    length = len(text)
    paragraph_start = 0
    while position < length:
        line_end = text.find("\n", position)
        line_end = length if line_end < 0 else line_end + 1
        line = text[position:line_end]
        fence = _FENCE_RE.match(line.rstrip("\n"))
        if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            _add_spans(text, paragraph_start, position, regions)
            close = re.compile(_QUOTED_INDENT + fence.group(1)[0] + "{" + str(len(fence.group(1)))
                               + r",}[ \t]*$", re.M).search(text, line_end)
            end = close.end() if close else length
            regions.append((position, end))
            position = paragraph_start = end
            previous_blank = False
            continue
        stripped = line.strip()
        indent = _indent(line)
        if not stripped:
            previous_blank = True
        elif previous_blank and indent >= (8 if in_list else 4):
            _add_spans(text, paragraph_start, position, regions)
            end = line_end  # the block goes on over blank and indented lines
            while end < length:
                next_end = text.find("\n", end)
                next_end = length if next_end < 0 else next_end + 1
                next_line = text[end:next_end]
                if next_line.strip() and _indent(next_line) < 4:
                    break
                end = next_end
            regions.append((position, end))
            position = paragraph_start = end
            previous_blank = True
            continue
        else:
            if _LIST_ITEM_RE.match(line):
                in_list = True
            elif indent == 0 and previous_blank:
                in_list = False
            previous_blank = False
        position = line_end
    _add_spans(text, paragraph_start, length, regions)
    regions.sort()
    return regions


def _add_spans(text: str, start: int, end: int, regions: list[tuple[int, int]]) -> None:
    """Code spans between start and end: a run of n backticks closes at the next run of n, in its paragraph."""
    if "`" not in text[start:end]:
        return
    paragraph_start = start
    for blank in list(_BLANK_LINE_RE.finditer(text, start, end)) + [None]:
        paragraph_end = blank.start() if blank else end
        runs = [(m.start(), m.end()) for m in _BACKTICKS_RE.finditer(text, paragraph_start, paragraph_end)]
        following: list[int | None] = [None] * len(runs)
        last_seen: dict[int, int] = {}
        for index in range(len(runs) - 1, -1, -1):  # each run's next run of the same length
            size = runs[index][1] - runs[index][0]
            following[index] = last_seen.get(size)
            last_seen[size] = index
        index = 0
        while index < len(runs):
            closing = following[index]
            if closing is None:
                index += 1
                continue
            regions.append((runs[index][0], runs[closing][1]))
            index = closing + 1
        paragraph_start = blank.end() if blank else end


def _indent(line: str) -> int:
    """Columns of leading white space, a tab counting four."""
    leading = line[:len(line) - len(line.lstrip(" \t"))]
    return len(leading.replace("\t", "    "))
