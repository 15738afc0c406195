"""HTML reader: the main content without navigation, sidebars, comment forms and footers."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from ingest.base import Extracted, PageCallback
from ingest.clean import normalize_line
from ingest.text import decode_bytes
from ops_search.config import Settings
from ops_search.errors import EmptyFile
from ops_search.models import Block

# Elements that are page chrome, never content.
_CHROME_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "form",
    "nav",
    "header",
    "footer",
    "aside",
    "button",
    "input",
    "select",
    "textarea",
    "label",
]
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "form"}
_CHROME_HINT = re.compile(
    r"(^|[-_ ])(comment|comments|kommentar|reply|respond|sidebar|widget|nav|menu|footer|"
    r"breadcrumb|share|social|cookie|related|newsletter|search|skip)([-_ ]|$)",
    re.IGNORECASE,
)
_BLOCK_TAGS = {"p", "li", "blockquote", "pre", "dd", "dt", "figcaption", "caption", "address"}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}


class HtmlReader:
    format = "html"

    def read(
        self, path: Path, settings: Settings, on_page: PageCallback | None = None
    ) -> Extracted:
        raw = path.read_bytes()
        if not raw.strip():
            raise EmptyFile(path, "empty file")
        soup = BeautifulSoup(decode_bytes(raw, path), "lxml")
        title_tag = soup.find("title")
        title = normalize_line(title_tag.get_text(" ")) if title_tag else None
        _strip_chrome(soup)
        for br in soup.find_all("br"):
            br.replace_with("\n")
        root = _main_content(soup)
        blocks = list(_blocks(root)) if root else []
        h1 = next((b for b in blocks if b.kind == "heading" and b.level == 1), None)
        if on_page:
            on_page(1, False)
        return Extracted(
            format="html",
            blocks=blocks,
            page_count=1,
            title=(h1.text if h1 else title) or None,
            doc_type_hint="artikel" if root is not None and root.name == "article" else None,
        )


def _strip_chrome(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_CHROME_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if not isinstance(tag, Tag) or tag.attrs is None:
            continue
        role = (tag.get("role") or "").lower()
        hints = " ".join([tag.get("id") or "", *(tag.get("class") or [])])
        if role in _CHROME_ROLES or (hints and _CHROME_HINT.search(hints)):
            tag.decompose()


def _main_content(soup: BeautifulSoup) -> Tag | None:
    """The largest <article>, else <main>, else <body>."""
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda a: len(a.get_text(" ", strip=True)))
    return soup.find("main") or soup.body or soup


def _blocks(root: Tag):
    for el in root.find_all(True):
        name = el.name
        if name in _HEADINGS:
            text = normalize_line(el.get_text())
            if text:
                yield Block(kind="heading", text=text, page=1, level=_HEADINGS[name])
        elif name == "table":
            rows = []
            for tr in el.find_all("tr"):
                cells = [normalize_line(c.get_text()) for c in tr.find_all(["td", "th"])]
                if any(cells):
                    rows.append(" | ".join(cells))
            if rows:
                yield Block(kind="table", text="\n".join(rows), page=1)
        elif name in _BLOCK_TAGS or (name == "div" and not el.find(_block_or_heading)):
            if el.find_parent("table") or _has_block_ancestor(el, root):
                continue
            text = normalize_line(el.get_text())
            if text:
                yield Block(kind="text", text=text, page=1)


def _block_or_heading(tag: Tag) -> bool:
    return tag.name in _BLOCK_TAGS or tag.name in _HEADINGS or tag.name in {"div", "table"}


def _has_block_ancestor(el: Tag, root: Tag) -> bool:
    """True when an enclosing element already yielded this text (nested <p> in <li>, …)."""
    for parent in el.parents:
        if parent is root:
            return False
        if parent.name in _BLOCK_TAGS:
            return True
    return False
