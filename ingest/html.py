"""HTML reader: the main content without navigation, sidebars, comment forms and footers.

The page is parsed by lxml's HTML parser into a light tree of our own (``_Node``), dropping
chrome as it goes, and every later pass walks that tree with an explicit stack. So time is
linear in the page and nothing recurses, however deep it nests: lxml's own tree stops at 256
levels (it silently drops the rest of the page), and ancestor walks per element made 50,000
nested ``<div>`` take minutes.

Tables: a data table becomes one table block, a line per row and " | " between cells; a
table nested in a cell is flattened into that cell ("a / b; c / d"). A table used for page
layout (one column, or cells holding headings or whole passages) is read as ordinary blocks,
and a table of nothing but links (an in-page index) is navigation, left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from ingest.base import Extracted, PageCallback
from ingest.clean import normalize_line
from ingest.keywords import keyword_entries
from ingest.text import decode_bytes, refuse_oversized, utf8_size
from ops_search.config import Settings
from ops_search.errors import CorruptFile, EmptyFile
from ops_search.models import Block

# Elements that are page chrome, never content (with everything inside them).
_CHROME_TAGS = {
    "script", "style", "noscript", "template", "svg", "iframe", "form", "nav", "header",
    "footer", "aside", "button", "input", "select", "textarea", "label", "canvas", "video",
    "audio", "object", "embed",
}  # fmt: skip
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "form"}
_CHROME_HINT = re.compile(
    r"(^|[-_ ])(comment|comments|kommentar|reply|respond|sidebar|widget|nav|menu|footer|"
    r"breadcrumb|share|social|cookie|related\w*|relaterede|newsletter|search|skip|"
    # DocBook's and other generators' page-turn bars: "2. Workflow | Appendiks C. …"
    r"navheader|navfooter|navbar|pager|pagination|"
    # Generated contents listings and back-of-book indexes (DocBook's "toc", "indexdiv" and
    # "list-of-figures", Sphinx's "toctree-wrapper"): every topic's name in one place, so
    # they would match any question and cite a page that only points elsewhere.
    r"toc|toctree-wrapper|table-of-contents|indexdiv|list-of-\w+)([-_ ]|$)",
    re.IGNORECASE,
)
_MAX_HINT_ID = 24
_SWITCH_CLASSES = {"switch", "switchinline"}  # LibreOffice help: see _pick_variant
_SYSTEMS = ("MAC", "WIN", "UNIX")
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
# Elements that start and end a block of text (everything else is inline).
_BLOCK_LEVEL = {
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog",
    "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "hgroup", "hr", "html",
    "legend", "li", "main", "menu", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "ul", *_HEADINGS,
}  # fmt: skip
# Passages: two of these in one cell of a one-row table make it a layout table.
_PASSAGES = {"p", "ul", "ol", "dl", "blockquote", "pre"}
_CELLS = {"td", "th"}
# Deeper than this, elements are flattened into their text (with a warning): no real page
# comes near it, and it bounds what a hostile one can build.
MAX_DEPTH = 4_000
_KEPT_ATTRS = ("id", "class", "role", "hidden", "href", "alt")
_HTML_SPACE_RE = re.compile(r"[ \t\n\r\f]+")
_NEWLINES_RE = re.compile(r" *\n[\n ]*")


class HtmlReader:
    format = "html"

    def read(
        self, path: Path, settings: Settings, on_page: PageCallback | None = None
    ) -> Extracted:
        raw = path.read_bytes()
        if not raw.strip():
            raise EmptyFile(path, "empty file")
        if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise CorruptFile(path, "binary file, not HTML")
        markup = decode_bytes(raw, path)
        refuse_oversized(path, utf8_size(markup), settings, what="HTML")
        page = _parse(path, markup)
        root = _main_content(page.root)
        blocks = _Flow(_table_kinds(root)).read(root)
        warnings = []
        if page.flattened:
            warnings.append(
                f"{path}: HTML nested more than {MAX_DEPTH:,} elements deep; "
                f"{page.flattened:,} deeper elements were read as plain text"
            )
        if not any(b.text.strip() for b in blocks):
            blocks = _title_and_images(root, page.title)
            if blocks:
                warnings.append(_no_body_warning(path, blocks))
        h1 = next((b for b in blocks if b.kind == "heading" and b.level == 1), None)
        if on_page:
            on_page(1, False)
        return Extracted(
            format="html",
            blocks=blocks,
            page_count=1,
            title=(h1.text if h1 else page.title) or None,
            warnings=warnings,
            doc_type_hint="artikel" if root.tag == "article" else None,
            declared_lang=page.lang,
            keywords=keyword_entries(page.keywords),
        )


def _title_and_images(root: _Node, title: str | None) -> list[Block]:
    """What a page without body text is found by: its title and its images' descriptions.

    Real help collections have pages that are only screenshots (or a box a script fills):
    they are still pages a reader looks for by name, so they are indexed, with a warning,
    rather than refused as empty."""
    alts: list[str] = []
    for node in _descendants(root):
        alt = normalize_line(node.attrs.get("alt") or "") if node.tag == "img" else ""
        if alt and alt not in alts and alt != title:
            alts.append(alt)
    blocks = [Block(kind="heading", text=title, page=1, level=1)] if title else []
    if alts:
        blocks.append(Block(kind="text", text="\n".join(alts), page=1))
    return blocks


def _no_body_warning(path: Path, blocks: list[Block]) -> str:
    kinds = {b.kind for b in blocks}
    found = [
        what
        for kind, what in (("heading", "its title"), ("text", "its images' descriptions"))
        if kind in kinds
    ]
    return f"{path}: no body text; indexed by {' and '.join(found)}"


# --- parsing: lxml events → our own tree, chrome left out ------------------------------------


class _Node:
    __slots__ = ("tag", "attrs", "children")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node | str] = []


class _TreeBuilder:
    """An lxml parser target. Parsing through a target also lifts libxml2's depth limit,
    which on a tree of its own cuts the page off at 256 levels."""

    def __init__(self) -> None:
        self.root = _Node("#document", {})
        self.stack = [self.root]
        self.skipping = 0  # depth inside a chrome element: nothing in it is kept
        self.too_deep = 0  # depth beyond MAX_DEPTH: elements there are flattened
        self.flattened = 0
        self.title: str | None = None
        self.title_parts: list[str] | None = None
        self.lang: str | None = None  # <html lang="da-DK"> → "da"
        self.keywords: list[str] = []  # <meta name|itemprop="keywords" content=…>

    def start(self, tag, attrib) -> None:
        if self.skipping:
            self.skipping += 1
            return
        tag = tag.lower() if isinstance(tag, str) else ""
        if tag == "html" and self.lang is None and attrib:
            self.lang = _primary_language(attrib.get("lang") or attrib.get("xml:lang") or "")
        if tag == "title" and self.title is None and self.title_parts is None:
            self.title_parts = []
            return
        attrs = dict(attrib) if attrib else {}
        if tag == "meta" and _is_keywords(attrs):
            self.keywords.append(attrs.get("content") or "")
        if tag in _CHROME_TAGS or (attrs and _is_chrome(attrs, _is_switch(self.stack[-1]))):
            self.skipping = 1
            return
        if len(self.stack) > MAX_DEPTH:
            self.too_deep += 1
            self.flattened += 1
            if tag in _BLOCK_LEVEL or tag == "br":
                self.stack[-1].children.append(" ")
            return
        node = _Node(tag, {k: attrs[k] for k in _KEPT_ATTRS if k in attrs} if attrs else attrs)
        self.stack[-1].children.append(node)
        self.stack.append(node)

    def end(self, tag) -> None:
        if self.skipping:
            self.skipping -= 1
            return
        if self.title_parts is not None and tag == "title":
            self.title = normalize_line(" ".join(self.title_parts)) or None
            self.title_parts = None
            return
        if self.too_deep:
            self.too_deep -= 1
            if tag in _BLOCK_LEVEL:
                self.stack[-1].children.append(" ")
            return
        if len(self.stack) > 1:
            node = self.stack.pop()
            if _is_switch(node):
                _pick_variant(node)

    def data(self, text: str) -> None:
        if self.skipping:
            return
        if self.title_parts is not None:
            self.title_parts.append(text)
        else:
            self.stack[-1].children.append(text)

    def comment(self, text: str) -> None:
        pass

    def close(self) -> _TreeBuilder:
        return self


def _parse(path: Path, markup: str) -> _TreeBuilder:
    builder = _TreeBuilder()
    # The text is already decoded (decode_bytes); tell lxml so, or a <meta charset> would
    # make it decode the UTF-8 bytes a second time.
    parser = etree.HTMLParser(target=builder, encoding="utf-8", no_network=True)
    try:
        parser.feed(markup.encode("utf-8"))
        return parser.close()
    except etree.LxmlError as err:
        raise CorruptFile(path, f"not readable as HTML ({err})") from err


def _is_keywords(attrs: dict[str, str]) -> bool:
    """``<meta name="keywords">`` (any page) or ``<meta itemprop="keywords">`` (schema.org
    markup; the LibreOffice help puts its index entries so, before each topic)."""
    return any((attrs.get(key) or "").strip().lower() == "keywords" for key in ("name", "itemprop"))


def _primary_language(tag: str) -> str | None:
    """The primary subtag of a BCP 47 language tag, when it looks like one ("da-DK" → "da")."""
    primary = tag.strip().split("-")[0].split("_")[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def _is_chrome(attrib: dict[str, str], in_switch: bool) -> bool:
    """Whether an element's attributes mark it as chrome (its tag is checked before)."""
    element_id = attrib.get("id") or ""
    if "hidden" in attrib:  # not shown, unless a script picks it (see _pick_variant)
        return not in_switch
    if (attrib.get("role") or "").lower() in _CHROME_ROLES:
        return True
    # Chrome ids are short words ("main-nav", "comments"); long ones are generated and may
    # hold anything: LibreOffice names ids after the page ("…text_nav_keybxml_1").
    if len(element_id) > _MAX_HINT_ID:
        element_id = ""
    hints = f"{element_id} {attrib.get('class') or ''}".strip()
    return bool(hints) and bool(_CHROME_HINT.search(hints))


def _is_switch(node: _Node) -> bool:
    return node.attrs.get("class") in _SWITCH_CLASSES


def _pick_variant(switch: _Node) -> None:
    """LibreOffice help hides every variant of a system- or module-dependent passage
    ("MAC…", "WRITER…", "default…") and shows one by script. For a system switch keep the
    default variant (what most readers see; the Mac one differs only in key names). Module
    variants each say something true of their module, so all are kept: inline ones
    separated by " / ", block ones are blocks anyway."""
    variants = [c for c in switch.children if isinstance(c, _Node) and "hidden" in c.attrs]
    ids = [v.attrs.get("id", "") for v in variants]
    if any(i.startswith(_SYSTEMS) for i in ids) and any(i.startswith("default") for i in ids):
        switch.children = [
            c
            for c in switch.children
            if not (isinstance(c, _Node) and "hidden" in c.attrs)
            or c.attrs.get("id", "").startswith("default")
        ]
    elif switch.attrs.get("class") == "switchinline" and len(variants) > 1:
        children: list[_Node | str] = []
        for child in switch.children:
            if children and isinstance(child, _Node) and "hidden" in child.attrs:
                children.append(" / ")
            children.append(child)
        switch.children = children


# --- walking the tree without recursion ---------------------------------------------------------


def _walk(
    root: _Node,
    enter: Callable[[_Node], bool],
    leave: Callable[[_Node], None],
    text: Callable[[str], None],
) -> None:
    """Call ``enter`` and ``leave`` for every element and ``text`` for every string, in
    document order, with an explicit stack. ``enter`` returning False skips the element."""
    stack: list = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            text(item)
        elif isinstance(item, tuple):
            leave(item[0])
        elif enter(item):
            stack.append((item,))
            stack.extend(reversed(item.children))


def _descendants(root: _Node, stop: str = ""):
    """Elements under ``root`` in document order, not looking inside ``stop`` elements."""
    stack = list(reversed(root.children))
    while stack:
        item = stack.pop()
        if isinstance(item, _Node):
            yield item
            if item.tag != stop:
                stack.extend(reversed(item.children))


def _text_length(root: _Node) -> int:
    total = 0
    stack: list = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item.strip())
        else:
            stack.extend(item.children)
    return total


def _main_content(root: _Node) -> _Node:
    """The largest <article>, else <main>, else <body>. Only outermost articles are
    measured: an article inside another is never the larger."""
    articles = [n for n in _descendants(root, stop="article") if n.tag == "article"]
    if articles:
        return max(articles, key=_text_length)
    for tag in ("main", "body"):
        found = next((n for n in _descendants(root) if n.tag == tag), None)
        if found is not None:
            return found
    return root


# --- tables: data, layout or navigation ---------------------------------------------------------


class _CellStats:
    __slots__ = ("table", "is_td", "chars", "link_chars", "links", "heading", "passages")

    def __init__(self, table: _TableStats, is_td: bool) -> None:
        self.table = table
        self.is_td = is_td
        self.chars = self.link_chars = self.links = self.passages = 0
        self.heading = False

    def absorb(self, inner: _CellStats) -> None:
        """A cell of a nested table is part of the cell holding that table."""
        self.chars += inner.chars
        self.link_chars += inner.link_chars
        self.links += inner.links
        self.heading = self.heading or inner.heading


class _TableStats:
    def __init__(self) -> None:
        self.rows = 0
        self.row_filled = 0  # non-empty cells in the current row
        self.multi = False  # some row has two or more non-empty cells
        self.heading = False
        self.passages = 0  # most passages in one cell
        self.td_filled = self.td_links_only = self.links = 0

    def add_cell(self, cell: _CellStats) -> None:
        if cell.chars:
            self.row_filled += 1
            if cell.is_td:
                self.td_filled += 1
                self.td_links_only += cell.link_chars >= 0.9 * cell.chars
        self.heading = self.heading or cell.heading
        self.passages = max(self.passages, cell.passages)
        self.links += cell.links

    def end_row(self) -> None:
        self.multi = self.multi or self.row_filled >= 2
        self.rows += self.row_filled > 0
        self.row_filled = 0

    def kind(self) -> str:
        self.end_row()
        if self.links >= 3 and self.td_filled and self.td_links_only == self.td_filled:
            return "nav"
        if not self.multi or self.heading or (self.rows <= 1 and self.passages >= 2):
            return "layout"
        return "data"


def _table_kinds(root: _Node) -> dict[int, str]:
    """``id(table node)`` → "data", "layout" or "nav", for every table, in one pass: each
    cell's figures are added to the cell holding its table when it closes."""
    kinds: dict[int, str] = {}
    tables: list[_TableStats] = []
    cells: list[_CellStats] = []
    in_link = 0

    def enter(node: _Node) -> bool:
        nonlocal in_link
        tag = node.tag
        if tag == "table":
            tables.append(_TableStats())
        elif tag == "tr" and tables:
            tables[-1].end_row()
        elif tag in _CELLS and tables:
            cells.append(_CellStats(tables[-1], tag == "td"))
        elif cells and tag in _HEADINGS:
            cells[-1].heading = True
        elif cells and tag in _PASSAGES:
            cells[-1].passages += 1
        elif tag == "a" and "href" in node.attrs:
            in_link += 1
            if cells:
                cells[-1].links += 1
        return True

    def leave(node: _Node) -> None:
        nonlocal in_link
        tag = node.tag
        if tag == "table" and tables:
            kinds[id(node)] = tables.pop().kind()
        elif tag in _CELLS and cells:
            cell = cells.pop()
            cell.table.add_cell(cell)
            if cells:
                cells[-1].absorb(cell)
        elif tag == "a" and "href" in node.attrs:
            in_link -= 1

    def text(value: str) -> None:
        n = len(value.strip())
        if n and cells:
            cells[-1].chars += n
            if in_link:
                cells[-1].link_chars += n

    _walk(root, enter, leave, text)
    return kinds


class _Table:
    """A table being read as data: rows of cells, each cell's text gathered inline."""

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "data", or "nested" inside a data cell
        self.rows: list[list[str]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.caption: list[str] = []
        self.in_caption = False
        self.loose: list[str] = []  # text outside any cell

    def add(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)
        elif self.in_caption:
            self.caption.append(text)
        else:
            self.loose.append(text)

    def start_row(self) -> None:
        self.end_row()
        self.row = []

    def end_row(self) -> None:
        self.end_cell()
        if self.row is not None and any(self.row):
            self.rows.append(self.row)
        self.row = None

    def start_cell(self) -> None:
        self.end_cell()
        if self.row is None:
            self.row = []
        self.cell = []

    def end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append(normalize_line("".join(self.cell)))
        self.cell = None

    def _finish(self) -> tuple[str, list[list[str]]]:
        self.end_row()
        loose = normalize_line("".join(self.loose))
        if loose:
            self.rows.append([loose])
        return normalize_line("".join(self.caption)), self.rows

    def text(self) -> str:
        """A line per row, " | " between cells (empty cells kept: columns stay aligned)."""
        caption, rows = self._finish()
        lines = [" | ".join(row) for row in rows]
        return "\n".join([caption, *lines] if caption else lines)

    def flat(self) -> str:
        """The table on one line, for the cell that holds it: "a / b; c / d"."""
        caption, rows = self._finish()
        body = "; ".join(" / ".join(c for c in row if c) for row in rows)
        return f"{caption}: {body}" if caption and body else caption or body


class _Flow:
    """Turns the main content into blocks in one walk: headings, paragraphs (a block-level
    element ends one), lists, preformatted text, and tables as their kind says."""

    def __init__(self, kinds: dict[int, str]) -> None:
        self.kinds = kinds
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.buf_pre = False
        self.pre = 0
        self.heading: _Node | None = None
        self.heading_parts: list[str] = []
        self.tables: list[_Table | None] = []  # None: a layout table, read as blocks
        # A definition list's term waits for its definition, so that the two stay one block
        # and no passage ends on "Ctrl + S" while the next begins with what it does.
        self.term: str | None = None

    def read(self, root: _Node) -> list[Block]:
        _walk(root, self.enter, self.leave, self.text)
        self.flush()
        self.emit_term()
        return self.blocks

    def _data(self) -> _Table | None:
        """The table being read as data that text now belongs to, if any."""
        return self.tables[-1] if self.tables else None

    def enter(self, node: _Node) -> bool:
        tag, table = node.tag, self._data()
        if tag == "table":
            if table is not None:
                self.tables.append(_Table("nested"))
                return True
            kind = self.kinds.get(id(node), "data")
            if kind == "nav":
                return False
            self.flush()
            self.emit_term()
            self.tables.append(_Table("data") if kind == "data" else None)
        elif table is not None:
            if tag == "tr":
                table.start_row()
            elif tag in _CELLS:
                table.start_cell()
            elif tag == "caption":
                table.in_caption = True
            elif tag in _BLOCK_LEVEL or tag == "br":
                table.add(" ")
        elif tag in _HEADINGS and self.heading is None:
            self.flush()
            self.emit_term()
            self.heading, self.heading_parts = node, []
        elif self.heading is not None:
            if tag in _BLOCK_LEVEL or tag == "br":
                self.heading_parts.append(" ")
        elif tag == "br":
            self.buf.append("\n")
        elif tag in _BLOCK_LEVEL:
            self.flush()
            self.pre += tag == "pre"
        return True

    def leave(self, node: _Node) -> None:
        tag, table = node.tag, self._data()
        if tag == "table":
            done = self.tables.pop() if self.tables else None
            if done is not None and done.kind == "nested":
                outer = self._data()
                if outer is not None:
                    outer.add(f" {done.flat()} ")
            elif done is not None:
                text = done.text()
                if text:
                    self.blocks.append(Block(kind="table", text=text, page=1))
            else:
                self.flush()
        elif table is not None:
            if tag in _CELLS:
                table.end_cell()
            elif tag == "tr":
                table.end_row()
            elif tag == "caption":
                table.in_caption = False
            elif tag in _BLOCK_LEVEL:
                table.add(" ")
        elif node is self.heading:
            text = normalize_line("".join(self.heading_parts))
            if text:
                level = _HEADINGS[tag]
                self.blocks.append(Block(kind="heading", text=text, page=1, level=level))
            self.heading = None
        elif self.heading is not None:
            if tag in _BLOCK_LEVEL:
                self.heading_parts.append(" ")
        elif tag == "dt":
            term = self.take()
            if term:
                self.term = f"{self.term}\n{term}" if self.term else term
        elif tag in _BLOCK_LEVEL:
            self.flush()
            self.pre -= tag == "pre"

    def text(self, value: str) -> None:
        table = self._data()
        if table is not None:
            table.add(_HTML_SPACE_RE.sub(" ", value))
        elif self.heading is not None:
            self.heading_parts.append(_HTML_SPACE_RE.sub(" ", value))
        elif self.pre:
            self.buf.append(value)
            self.buf_pre = True
        else:
            self.buf.append(_HTML_SPACE_RE.sub(" ", value))

    def flush(self) -> None:
        text = self.take()
        if text and self.term:
            text, self.term = f"{self.term}\n{text}", None
        if text:
            self.blocks.append(Block(kind="text", text=text, page=1))

    def emit_term(self) -> None:
        """A term whose definition did not follow as text stands as a block of its own."""
        if self.term:
            self.blocks.append(Block(kind="text", text=self.term, page=1))
            self.term = None

    def take(self) -> str:
        """The text gathered since the last block ended, cleaned; the buffer is emptied."""
        if not self.buf:
            return ""
        raw = "".join(self.buf)
        if self.buf_pre:  # preformatted: its lines stay lines
            lines = (normalize_line(line) for line in raw.split("\n"))
            text = "\n".join(line for line in lines if line)
        else:
            text = _NEWLINES_RE.sub("\n", normalize_line(raw)).strip()
        self.buf, self.buf_pre = [], False
        return text
