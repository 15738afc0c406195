"""Build the sample corpus (``corpus/*``) from the plain-text seeds in ``corpus/seeds/``.

Run ``.venv/bin/python corpus/build.py``: it rewrites the five corpus files, byte for byte the same
every time (fixed dates and ids in the PDFs, fixed zip timestamps in the DOCX), and prints their
sizes and sha256 sums.  ``--check`` builds in memory and fails if a committed file differs.

Every corpus file keeps the words of its seed in the seed's order; ``expected_text(name)`` gives
the seed text that extraction of the file must reproduce, i.e. the seed minus the parts that were
deliberately left out (download-site chrome, page-number tokens that became headers/footers, list
glyphs that became Word numbering, markdown link syntax).  The constants below name each of them.
"""

import calendar
import datetime as dt
import hashlib
import html
import io
import os
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent
SEED_DIR = ROOT / "seeds"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class CorpusEntry(NamedTuple):
    seed: str  # file name in corpus/seeds/
    format: str  # "pdf" | "html" | "docx"
    exercises: str  # what the file is there to test


PRESS_RELEASE = "kkr-sjaelland-pressemeddelelse-partnerskab-2025.pdf"
BLOG_POST = "skaksens-analyser-ops-socialomraadet.html"
DI_BROCHURE = "di-13-gode-eksempler-ops.pdf"
KORA_REPORT = "kora-2013-ops-specialiserede-socialomraade.pdf"
RAMMEAFTALE = "kkr-sjaelland-rammeaftale-2018-proces.docx"

CORPUS: dict[str, CorpusEntry] = {
    PRESS_RELEASE: CorpusEntry(
        "000_fed949171b11b3aa.txt",
        "pdf",
        "2-page PDF whose text layer carries OCR damage (gkonomisk, pa, feelles); base-14 "
        "Helvetica (WinAnsi); the seed's line breaks kept; headline as a heading",
    ),
    BLOG_POST: CorpusEntry(
        "001_d484550536b64950.txt",
        "html",
        "HTML5 page with site chrome (header, nav, sidebar, comment form, search box, footer, "
        "script/style) around one <article>; boilerplate removal",
    ),
    DI_BROCHURE: CorpusEntry(
        "002_b3bc81efb5790516.txt",
        "pdf",
        "10-page brochure: a repeated footer with a varying page number, headings by font size, "
        "a dash list, an image caption, link-styled words",
    ),
    KORA_REPORT: CorpusEntry(
        "003_a4deeee32cfe0938.txt",
        "pdf",
        "13-page report: running header and 'Side N af 13' footer, numbered headings, two ruled "
        "tables (one with a row span), footnotes, figure residue, justified text",
    ),
    RAMMEAFTALE: CorpusEntry(
        "004_44dd6fc1c6d66593.txt",
        "docx",
        "long DOCX: Heading 1-3 styles, List Bullet / List Bullet 2 / List Number paragraphs, "
        "12 tables between paragraphs, dates, decisions, slide-like fragments",
    ),
}


def seed_text(corpus_file_name: str) -> str:
    """The raw seed text of one corpus file."""
    return (SEED_DIR / CORPUS[corpus_file_name].seed).read_text(encoding="utf-8")


def _words(text: str) -> list[str]:
    return text.split()


# --------------------------------------------------------------------------------------------
# PDF plumbing (reportlab)
# --------------------------------------------------------------------------------------------

_fonts_registered = False


def _register_fonts() -> None:
    global _fonts_registered
    if _fonts_registered:
        return
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    families = {
        "DejaVuSans": (
            "DejaVuSans",
            "DejaVuSans-Bold",
            "DejaVuSans-Oblique",
            "DejaVuSans-BoldOblique",
        ),
        "DejaVuSerif": (
            "DejaVuSerif",
            "DejaVuSerif-Bold",
            "DejaVuSerif-Italic",
            "DejaVuSerif-BoldItalic",
        ),
    }
    for family, faces in families.items():
        for face in faces:
            pdfmetrics.registerFont(TTFont(face, str(FONT_DIR / f"{face}.ttf")))
        for (bold, italic), face in zip(((0, 0), (1, 0), (0, 1), (1, 1)), faces, strict=True):
            addMapping(family, bold, italic, face)
    _fonts_registered = True


def _canvas_maker(date: dt.datetime) -> type:
    """A reportlab Canvas in invariant mode whose CreationDate/ModDate is ``date`` (UTC).

    reportlab takes the document's timestamp -- which also seeds the document /ID -- from
    SOURCE_DATE_EPOCH when it is set, so it is set to ``date`` while the canvas is created:
    neither the clock nor the caller's environment can change the bytes.
    """
    from reportlab.pdfgen.canvas import Canvas

    epoch = str(calendar.timegm(date.timetuple()))

    class FixedDateCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            kwargs["invariant"] = 1
            saved = os.environ.get("SOURCE_DATE_EPOCH")
            os.environ["SOURCE_DATE_EPOCH"] = epoch
            try:
                super().__init__(*args, **kwargs)
            finally:
                if saved is None:
                    del os.environ["SOURCE_DATE_EPOCH"]
                else:
                    os.environ["SOURCE_DATE_EPOCH"] = saved

    return FixedDateCanvas


def _style(name: str, **kw):
    """A ParagraphStyle that never hyphenates and never breaks a word at an embedded hyphen."""
    from reportlab.lib.styles import ParagraphStyle

    kw.setdefault("hyphenationLang", "")
    kw.setdefault("embeddedHyphenation", 0)
    kw.setdefault("uriWasteReduce", 0)
    kw.setdefault("splitLongWords", 0)
    return ParagraphStyle(name, **kw)


def _check_fits(flowables: Sequence, width: float, height: float, what: str) -> None:
    """Fail loudly when the flowables of one page need more height than the frame has."""
    need = 0.0
    for f in flowables:
        if hasattr(f, "content_height"):  # footnotes: only their own height counts
            need += f.content_height(width)
            continue
        _, h = f.wrap(width, height)
        need += h + f.getSpaceBefore() + f.getSpaceAfter()
    if need > height:
        raise RuntimeError(
            f"{what}: content needs {need:.0f}pt but the page frame has {height:.0f}pt"
        )


def _bottom_notes(paragraphs: list):
    """A flowable that puts footnotes at the foot of the frame, under a short rule."""
    from reportlab.lib import colors
    from reportlab.platypus import Flowable

    class BottomNotes(Flowable):
        def content_height(self, width: float) -> float:
            return sum(p.wrap(width, 10_000)[1] + 2 for p in paragraphs) + 8

        def wrap(self, availWidth, availHeight):
            self.width = availWidth
            self._need = self.content_height(availWidth)
            # Take all the remaining height so that the notes sit at the foot of the page; if
            # they do not fit, platypus moves them to a new page and the page count check fails.
            self.height = max(availHeight, self._need)
            return self.width, self.height

        def draw(self):
            c = self.canv
            y = self._need
            c.setStrokeColor(colors.HexColor("#888888"))
            c.setLineWidth(0.5)
            c.line(0, y - 3, 0.3 * self.width, y - 3)
            y -= 8
            for p in paragraphs:
                _, h = p.wrap(self.width, 10_000)
                y -= h
                p.drawOn(c, 0, y)
                y -= 2

    return BottomNotes()


def _build_pdf(
    flowables: list,
    *,
    title: str,
    author: str,
    subject: str,
    date: dt.datetime,
    on_page: Callable | None = None,
    margins: tuple[float, float, float, float] = (56, 56, 60, 60),  # left, right, top, bottom
    expected_pages: int | None = None,
) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    buf = io.BytesIO()
    left, right, top, bottom = margins
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=left,
        rightMargin=right,
        topMargin=top,
        bottomMargin=bottom,
        title=title,
        author=author,
        subject=subject,
        creator="ops-search corpus/build.py",
        producer="ReportLab",
        lang="da-DK",
        invariant=1,
    )
    hook = on_page or (lambda canv, doc: None)
    doc.build(flowables, onFirstPage=hook, onLaterPages=hook, canvasmaker=_canvas_maker(date))
    if expected_pages is not None and doc.page != expected_pages:
        raise RuntimeError(f"{title!r}: expected {expected_pages} pages, reportlab made {doc.page}")
    return buf.getvalue()


def _frame_size(margins: tuple[float, float, float, float]) -> tuple[float, float]:
    from reportlab.lib.pagesizes import A4

    left, right, top, bottom = margins
    # SimpleDocTemplate's frame has 6pt padding on every side.
    return A4[0] - left - right - 12, A4[1] - top - bottom - 12


def _band(canv, pos: float, thickness: float, colour: str, vertical: bool = False) -> None:
    """A full-width (or full-height) colour band drawn as one thick line, not as a filled
    rectangle: rectangles' edges look like table rulings to PDF table finders."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4

    canv.saveState()
    canv.setStrokeColor(colors.HexColor(colour))
    canv.setLineWidth(thickness)
    if vertical:
        canv.line(pos, 0, pos, A4[1])
    else:
        canv.line(0, pos, A4[0], pos)
    canv.restoreState()


def _split_at(text: str, anchors: Sequence[str], what: str) -> list[str]:
    """Cut ``text`` into pieces that start with the given anchors, in order, at word boundaries.

    The first anchor must start the text; the pieces joined by spaces give the text back (modulo
    whitespace), so no word can be lost or reordered.
    """
    starts, pos = [], 0
    for anchor in anchors:
        i = text.find(anchor, pos)
        if i < 0:
            raise ValueError(f"{what}: anchor {anchor!r} not found after offset {pos}")
        if i > 0 and not text[i - 1].isspace():
            raise ValueError(f"{what}: anchor {anchor!r} is not at a word boundary")
        starts.append(i)
        pos = i + 1
    if not starts or starts[0] != 0:
        raise ValueError(f"{what}: the first anchor must start the text")
    pieces = [text[a:b].strip() for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    assert _words(" ".join(pieces)) == _words(text), what
    return pieces


# --------------------------------------------------------------------------------------------
# 000  press release (PDF, OCR-damaged text layer)
# --------------------------------------------------------------------------------------------

PRESS_HEADLINE_LINES = 2  # seed lines 1-2 are the headline
PRESS_PAGES = 2
PRESS_DATE = dt.datetime(2025, 9, 1, 10, 0, 0)
PRESS_MARGINS = (50, 50, 70, 60)


def _press_paragraphs(seed: str) -> list[list[str]]:
    """The seed's paragraphs (blank-line separated), each as its list of lines."""
    paragraphs, current = [], []
    for line in seed.splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def build_press_release() -> bytes:
    """Lines are kept exactly as in the seed (it is the text of a scanned-and-OCRed release)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph

    width, _ = _frame_size(PRESS_MARGINS)
    head = _style("head", fontName="Helvetica-Bold", fontSize=14, leading=18, spaceAfter=14)
    body = _style("body", fontName="Helvetica", fontSize=9.6, leading=13.2, spaceAfter=9)
    paragraphs = _press_paragraphs(seed_text(PRESS_RELEASE))
    headline, rest = paragraphs[0], paragraphs[1:]
    assert len(headline) == PRESS_HEADLINE_LINES
    story = []
    for lines, style in [(headline, head)] + [(p, body) for p in rest]:
        for line in lines:
            w = stringWidth(line, style.fontName, style.fontSize)
            if w > width:
                raise RuntimeError(
                    f"press release line does not fit ({w:.0f} > {width:.0f}): {line}"
                )
        story.append(Paragraph("<br/>".join(escape(line) for line in lines), style))

    def on_page(canv, doc):
        _band(canv, A4[1] - 14, 28, "#1d4f91")
        _band(canv, A4[1] - 31, 6, "#7fa7d9")

    return _build_pdf(
        story,
        title="Banebrydende offentlig-privat partnerskab om kvalitet, dialog og økonomisk "
        "ansvarlighed på socialområdet",
        author="KKR Sjælland",
        subject="Pressemeddelelse",
        date=PRESS_DATE,
        on_page=on_page,
        margins=PRESS_MARGINS,
        expected_pages=PRESS_PAGES,
    )


# --------------------------------------------------------------------------------------------
# 001  blog post (HTML page with site chrome)
# --------------------------------------------------------------------------------------------

BLOG_MASTHEAD_LINE = 1  # "Skaksens analyser Jan Rose Skaksen blogger om ..." -> <header>
BLOG_TITLE_LINE = 3  # -> <h1>
BLOG_BYLINE_LINE = 5  # "Af Jan Rose Skaksen, tirsdag den 24. september 2013 kl. 09.00"
BLOG_CHROME_FROM_LINE = (
    27  # "Skriv en kommentar", "Svar på dette indlæg: ...", "Skriv hvad du søger"
)
BLOG_SITE_NAME = "Skaksens analyser"


def _blog_parts(seed: str) -> tuple[str, str, str, list[str], list[str]]:
    lines = seed.splitlines()
    masthead = lines[BLOG_MASTHEAD_LINE - 1].strip()
    title = lines[BLOG_TITLE_LINE - 1].strip()
    byline = lines[BLOG_BYLINE_LINE - 1].strip()
    body = [ln.strip() for ln in lines[BLOG_BYLINE_LINE : BLOG_CHROME_FROM_LINE - 1] if ln.strip()]
    chrome = [ln.strip() for ln in lines[BLOG_CHROME_FROM_LINE - 1 :] if ln.strip()]
    assert masthead.startswith(BLOG_SITE_NAME + " ")
    assert chrome[0] == "Skriv en kommentar" and chrome[-1] == "Skriv hvad du søger", chrome
    return masthead, title, byline, body, chrome


def _h(text: str) -> str:
    """HTML-escape, writing no-break spaces as &nbsp; like a CMS would."""
    return html.escape(text, quote=False).replace("\xa0", "&nbsp;")


def build_blog_html() -> bytes:
    masthead, title, byline, body, chrome = _blog_parts(seed_text(BLOG_POST))
    tagline = masthead[len(BLOG_SITE_NAME) + 1 :]
    reply_line = chrome[1]  # "Svar på dette indlæg: <title> Felter med * skal udfyldes"
    reply, required = reply_line.split(" Felter med ", 1)
    required = "Felter med " + required
    assert reply == f"Svar på dette indlæg: {title}", reply
    paragraphs = "\n".join(f"        <p>{_h(p)}</p>" for p in body)
    page = f"""<!DOCTYPE html>
<html lang="da">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{_h(title)} | {_h(BLOG_SITE_NAME)}</title>
  <meta name="description" content="{_h(tagline)}">
  <meta name="author" content="Jan Rose Skaksen">
  <meta property="article:published_time" content="2013-09-24T09:00:00+02:00">
  <link rel="canonical" href="https://www.kora.dk/blog/skaksens-analyser/offentligt-privat-samarbejde-paa-socialomraadet/">
  <style>
    body {{ font-family: Georgia, serif; margin: 0; color: #222; }}
    .site-header {{ background: #0b3d6b; color: #fff; padding: 1rem 2rem; }}
    .site-header a {{ color: #fff; }}
    nav ul {{ list-style: none; display: flex; gap: 1.5rem; padding: 0; }}
    .layout {{ display: grid; grid-template-columns: 3fr 1fr; gap: 2rem; padding: 2rem; }}
    .byline {{ color: #666; font-style: italic; }}
    footer {{ border-top: 1px solid #ccc; padding: 1rem 2rem; font-size: .85rem; }}
  </style>
  <script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "blog"}});</script>
</head>
<body>
  <header class="site-header">
    <a class="site-title" href="/blog/skaksens-analyser/">{_h(BLOG_SITE_NAME)}</a>
    <p class="tagline">{_h(tagline)}</p>
    <nav aria-label="Hovedmenu">
      <ul>
        <li><a href="/">Forside</a></li>
        <li><a href="/blog/">Blog</a></li>
        <li><a href="/om-kora/">Om KORA</a></li>
        <li><a href="/kontakt/">Kontakt</a></li>
      </ul>
    </nav>
    <form class="site-search" role="search" action="/soeg/" method="get">
      <label for="q">{_h(chrome[-1])}</label>
      <input id="q" name="q" type="search">
      <button type="submit">Søg</button>
    </form>
  </header>
  <div class="layout">
    <main>
      <article>
        <h1>{_h(title)}</h1>
        <p class="byline">{_h(byline)}</p>
{paragraphs}
      </article>
      <section class="comments" id="kommentarer">
        <h2>{_h(chrome[0])}</h2>
        <p>{_h(reply)}</p>
        <p class="required">{_h(required)}</p>
        <form action="/blog/kommentar/" method="post">
          <label for="navn">Navn *</label>
          <input id="navn" name="navn" type="text" required>
          <label for="email">E-mail *</label>
          <input id="email" name="email" type="email" required>
          <label for="kommentar">Kommentar *</label>
          <textarea id="kommentar" name="kommentar" rows="6" required></textarea>
          <button type="submit">Send kommentar</button>
        </form>
      </section>
    </main>
    <aside class="sidebar">
      <h2>Seneste indlæg</h2>
      <ul>
        <li><a href="#">{_h(title)}</a></li>
        <li><a href="/blog/skaksens-analyser/arkiv/">Alle indlæg</a></li>
      </ul>
      <h2>Arkiv</h2>
      <ul>
        <li><a href="/blog/skaksens-analyser/2013/09/">september 2013</a></li>
        <li><a href="/blog/skaksens-analyser/2013/08/">august 2013</a></li>
        <li><a href="/blog/skaksens-analyser/2013/06/">juni 2013</a></li>
      </ul>
      <h2>Kategorier</h2>
      <ul>
        <li><a href="/blog/kategori/socialomraadet/">Socialområdet</a></li>
        <li><a href="/blog/kategori/ops/">Offentlig-privat samarbejde</a></li>
      </ul>
    </aside>
  </div>
  <footer>
    <p>KORA – Det Nationale Institut for Kommuners og Regioners Analyse og Forskning</p>
    <p><a href="/kontakt/">Kontakt</a> · <a href="/cookies/">Cookies</a></p>
  </footer>
  <script>document.documentElement.classList.add("js");</script>
</body>
</html>
"""
    return page.encode("utf-8")


# --------------------------------------------------------------------------------------------
# 002  DI brochure (PDF with footer page numbers, headings, a list)
# --------------------------------------------------------------------------------------------

# The seed has no page numbers: its lone digit lines "1", "3", "4", "5" are the brochure's theme
# numbers (the five themes of the introduction; "2" before TID OG ARBEJDSKRAFT is missing in the
# seed).  They stay in the text, in front of their theme heading.  Page breaks are placed here,
# explicitly, where the seed's layout shows them (long runs of blank lines, new themes).
DI_PAGE_STARTS = (
    "13 gode eksempler på",
    "Indledning",
    "1",
    "TID OG ARBEJDSKRAFT",
    "Intelligent ble frigiver hænder til pleje i Aabenraa Kommune",
    "3",
    "4",
    "Københavns Jobcenter samarbejder med privat virksomhed for at få flere langtidsledige i job",
    "5",
    "Frit valg imødekommer borgernes forskellighed i Lolland Kommune",
)
DI_FOOTER = "DI · 13 gode eksempler · side {page}"  # drawn on every page, not part of the text
DI_THEME_NUMBER = re.compile(r"\d")
DI_SIGNATURE_IMAGE = "A handwritten signature in blue ink"  # kept, as the image's caption
DI_SIGNATURE = ("Jakob Scharff", "Branchedirektør i DI")
# Markdown residue in the seed: "[her](#)" is a link whose text is "her", "**x**" is bold x.
MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
MARKDOWN_BOLD = re.compile(r"\*\*(.+?)\*\*")
DI_DATE = dt.datetime(2023, 3, 1, 9, 0, 0)
DI_MARGINS = (62, 62, 64, 70)


def _strip_markdown(text: str) -> str:
    return MARKDOWN_BOLD.sub(r"\1", MARKDOWN_LINK.sub(r"\1", text))


def _di_paragraphs(seed: str) -> list[list[str]]:
    """Blank-line separated paragraphs; a paragraph that the seed broke with a blank line (the
    next part starts in lower case) is joined back."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in [*seed.splitlines(), ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            if paragraphs and current[0][0].islower():
                paragraphs[-1][-1] += " " + " ".join(current)
            else:
                paragraphs.append(current)
            current = []
    return paragraphs


@dataclass
class _Block:
    kind: str
    text: str = ""
    lines: list[str] = field(default_factory=list)


def _di_pages(seed: str) -> list[list[_Block]]:
    paragraphs = _di_paragraphs(seed)
    pages: list[list[_Block]] = []
    starts = list(DI_PAGE_STARTS)
    i = 0
    while i < len(paragraphs):
        lines = paragraphs[i]
        if starts and lines[0] == starts[0]:
            starts.pop(0)
            pages.append([])
        text = " ".join(lines)
        if i == 0:
            block = _Block("cover", text, lines)
        elif len(lines) == 1 and DI_THEME_NUMBER.fullmatch(text):
            i += 1  # "1" + "RÅDERUM OG EFFEKTIV OPGAVELØSNING" -> one theme heading
            block = _Block("theme", f"{text} {' '.join(paragraphs[i])}")
        elif text.isupper() or text == "Indledning":
            block = _Block("theme", text)
        elif all(line.startswith("- ") for line in lines):
            block = _Block("list", text, lines)
        elif text.startswith(DI_SIGNATURE_IMAGE):
            block = _Block("image", text)
        elif tuple(lines) == DI_SIGNATURE:
            block = _Block("signature", text, lines)
        elif len(lines) == 1 and len(text) < 120 and text[-1] not in ".:;,!?":
            block = _Block("heading", text)
        else:
            block = _Block("body", text)
        pages[-1].append(block)
        i += 1
    if starts or len(pages) != len(DI_PAGE_STARTS):
        raise RuntimeError(f"DI brochure: page starts not found: {starts}")
    return pages


def _di_markup(text: str) -> str:
    """Escape for reportlab and turn the markdown residue into a link-styled word / bold."""
    text = escape(text)
    text = MARKDOWN_LINK.sub(r'<font color="#1f5fa8"><u>\1</u></font>', text)
    return MARKDOWN_BOLD.sub(r"<b>\1</b>", text)


def _signature_drawing():
    from reportlab.graphics.shapes import Drawing, PolyLine
    from reportlab.lib import colors

    d = Drawing(160, 38)
    pts = [4, 12, 14, 30, 22, 8, 30, 26, 38, 10, 50, 24, 58, 6, 70, 22, 82, 12, 96, 26, 110, 9]
    pts += [124, 20, 140, 14, 156, 18]
    d.add(PolyLine(pts, strokeColor=colors.HexColor("#1c3f94"), strokeWidth=1.4))
    return d


def build_di_brochure() -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import PageBreak, Paragraph, Spacer

    blue = colors.HexColor("#00305e")
    cover = _style(
        "cover",
        fontName="DejaVuSans-Bold",
        fontSize=30,
        leading=38,
        textColor=blue,
        spaceBefore=210,
    )
    theme = _style(
        "theme",
        fontName="DejaVuSans-Bold",
        fontSize=18,
        leading=23,
        textColor=blue,
        spaceBefore=4,
        spaceAfter=14,
    )
    heading = _style(
        "heading", fontName="DejaVuSans-Bold", fontSize=13, leading=17, spaceBefore=10, spaceAfter=6
    )
    body = _style("body", fontName="DejaVuSans", fontSize=9.8, leading=14, spaceAfter=7)
    bullet = _style("bullet", parent=body, leftIndent=16, bulletIndent=4, spaceAfter=2)
    caption = _style(
        "caption",
        fontName="DejaVuSans-Oblique",
        fontSize=7.5,
        leading=10,
        textColor=colors.HexColor("#666666"),
        spaceAfter=8,
    )
    signature = _style("signature", parent=body, fontName="DejaVuSans-Bold")

    _register_fonts()
    width, height = _frame_size(DI_MARGINS)
    story = []
    for n, blocks in enumerate(_di_pages(seed_text(DI_BROCHURE)), start=1):
        page = []
        for b in blocks:
            if b.kind == "cover":
                page.append(Paragraph("<br/>".join(escape(x) for x in b.lines), cover))
            elif b.kind == "theme":
                page.append(Paragraph(escape(b.text), theme))
            elif b.kind == "heading":
                page.append(Paragraph(escape(b.text), heading))
            elif b.kind == "list":
                page += [Paragraph(_di_markup(x[2:]), bullet, bulletText="-") for x in b.lines]
                page.append(Spacer(1, 6))
            elif b.kind == "image":
                page += [Spacer(1, 10), _signature_drawing(), Paragraph(escape(b.text), caption)]
            elif b.kind == "signature":
                page.append(Paragraph("<br/>".join(escape(x) for x in b.lines), signature))
            else:
                page.append(Paragraph(_di_markup(b.text), body))
        _check_fits(page, width, height, f"DI brochure page {n}")
        story += page
        if n < len(DI_PAGE_STARTS):
            story.append(PageBreak())

    def on_page(canv, doc):
        if doc.page == 1:
            _band(canv, A4[1] * 0.59, A4[1] * 0.34, "#dce8f5")
        _band(canv, 7, 14, "#00305e", vertical=True)
        canv.saveState()
        canv.setFont("DejaVuSans", 8)
        canv.setFillColor(colors.HexColor("#555555"))
        canv.drawRightString(A4[0] - DI_MARGINS[1], 36, DI_FOOTER.format(page=doc.page))
        canv.restoreState()

    return _build_pdf(
        story,
        title="13 gode eksempler på offentlig-privat samarbejde i kommunerne",
        author="DI",
        subject="Offentlig-privat samarbejde i kommunerne",
        date=DI_DATE,
        on_page=on_page,
        margins=DI_MARGINS,
        expected_pages=len(DI_PAGE_STARTS),
    )


# --------------------------------------------------------------------------------------------
# 003  KORA report (PDF, one page per transcript page, tables, footnotes)
# --------------------------------------------------------------------------------------------

KORA_TRANSCRIPT_MARKER = "Transkript"  # seed lines up to here are download-site chrome
KORA_CONTENTS_PAGE = 5  # the report's "Indhold": a listing the readers drop as navigation
KORA_PAGES = 13  # transcript pages 1..13; everything after them ("Læs mere", related reports)
#                  is download-site chrome too and is left out
KORA_HEADER = (
    "KORA · Udvikling af offentlig-privat samspil (OPS) på det specialiserede socialområde"
)
KORA_FOOTER = "Side {page} af {pages}"
KORA_DATE = dt.datetime(2013, 9, 23, 8, 0, 0)
KORA_MARGINS = (62, 62, 66, 58)


def kora_transcript_pages(seed: str) -> list[str]:
    """Transcript pages 1..13 without the page-number tokens.

    Each transcript line starts with its page number; pages 6..13 also end with it (the original
    footer).  Page 5 ends with "43", which is the table of contents' page number for "Bilag 2",
    not a footer, so it stays.
    """
    lines = seed.splitlines()
    start = lines.index(KORA_TRANSCRIPT_MARKER) + 1
    raw = [ln for ln in lines[start:] if ln.strip()][:KORA_PAGES]
    pages = []
    for n, line in enumerate(raw, start=1):
        m = re.fullmatch(rf"{n} (.*?)(?: {n})?", line.strip())
        if not m:
            raise ValueError(f"KORA transcript line for page {n} does not start with {n}")
        pages.append(m.group(1))
    return pages


# Layout of each page: (style, anchor) -- the page text is cut where each anchor starts (see
# _split_at), so the blocks hold exactly the page's words in order.  Styles: h1/h2 headings,
# body, footnote (placed at the foot of the page), table1/table2, figure, and small styles.
KORA_LAYOUT: dict[int, list[tuple[str, str]]] = {
    1: [
        ("authors", "Ole Helby Petersen"),
        ("title", "Udvikling af offentlig-privat"),
        ("subtitle", "En analyse af modeller"),
    ],
    2: [
        ("colophon_b", "Offentlig-privat samspil (OPS)"),
        ("colophon", "En analyse af modeller"),
        ("colophon", "kan hentes fra hjemmesiden"),
        ("colophon", "Analysen er gennemført"),
        ("colophon_b", "KORA og forfatterne"),
        ("colophon", "Mindre uddrag"),
        ("colophon", "Omslag:"),
        ("colophon", "Udgiver:"),
        ("colophon", "ISBN:"),
        ("colophon", "Projekt"),
        ("colophon", "September 2013"),
        ("colophon_b", "KORA Det Nationale Institut"),
        ("colophon", "KORA er en uafhængig"),
    ],
    3: [
        ("h1", "Forord"),
        ("body", "Selvom der til daglig"),
        ("body", "På den baggrund formulerede"),
        ("body", "Rapporten har to formål."),
        ("body", "Det er således den bredere"),
        ("body", "Det er intentionen"),
        ("footnote", "1 Betegnelsen det specialiserede"),
    ],
    4: [
        ("body", "Denne rapport afrapporterer"),
        ("body", "Forfatterne ønsker at takke"),
        ("body", "Projektet er blevet gennemført"),
        ("body", "Rapporten er udarbejdet"),
        ("sign", "Ole Helby Petersen September"),
        ("sign", "September 2013"),
    ],
    5: [
        ("h1", "Indhold"),
        ("toc1", "Sammenfatning"),
        ("toc1", "Indledning"),
        ("toc2", "Offentlig-privat samspil (OPS) en del"),
        ("toc2", "Behov for mere viden"),
        ("toc2", "Formål og bidrag"),
        ("toc2", "Rapportens opbygning"),
        ("toc1", "Begrebsramme:"),
        ("toc2", "OPS hvorfor"),
        ("toc2", "Byggesten"),
        ("toc2", "Aktører på det"),
        ("toc1", "Metode og kilder"),
        ("toc2", "Fase 1:"),
        ("toc2", "Fase 2:"),
        ("toc2", "Trin 3:"),
        ("toc1", "Analyse: Erfaringer"),
        ("toc2", "Kortlægning af OPS"),
        ("toc2", "Erfaringer med samarbejdsmodellerne"),
        ("toc2", "Barrierer og faldgrupper"),
        ("toc2", "Muligheder og potentialer"),
        ("toc1", "Opsamling og forslag"),
        ("toc2", "Opsamling på OPS"),
        ("toc2", "Oplæg og forslag"),
        ("toc1", "Litteratur"),
        ("toc1", "Bilag 1."),
        ("toc1", "Bilag 2."),
    ],
    6: [
        ("h1", "Sammenfatning"),
        ("body", "Der peges i dag"),
        ("body", "På trods af det udbredte"),
        ("body", "Sammenlignet med andre"),
        ("body", "Rapportens analyse af"),
        ("caption", "Tabel 1 Oversigt"),
        ("table1", "Driftsoverenskomster Partnerskaber"),
        ("note", "*BUM:"),
        ("body", "Samtidig viser analysen"),
        ("body", "Baseret på analysen"),
    ],
    7: [
        ("body", "komsterne, uigennemsigtige"),
        ("body", "Det har derfor været"),
        ("caption", "Tabel 2 Forslag"),
        ("table2", "OPS-elementer"),
        ("body", "Grundlaget for forslagene"),
        ("body", "Forslagene kan betragtes"),
        ("body", "I rapporten gives der"),
        ("body", "Forslagene afspejler"),
    ],
    8: [
        ("h1", "1 Indledning"),
        ("h2", "1.1 Offentlig-privat samspil"),
        ("body", "Som et af flere bud"),
        ("body", "Det kommer eksempelvis"),
        ("body", "Der er mange grunde"),
        ("body", "Kombinationen af disse"),
        ("h2", "1.2 Behov for mere viden"),
        ("body", "Selvom der i disse år"),
        ("body", "Den danske forskning"),
        ("footnote", "2 Et andet eksempel"),
    ],
    9: [
        ("body", "beskæftigelsesindsatsen"),
        ("body", "Det tidligere KREVI"),
        ("body", "I perioden var der"),
        ("body", "Med kommunalreformen i 2007"),
        ("body", "Efter kommunalreformen er fokus"),
        ("body", "Derudover er samarbejdet"),
    ],
    10: [
        ("body", "Aktualiteten og relevansen"),
        ("caption", "Figur 1. PLI"),
        ("figure", "35,0 30,0"),
        ("figtext", "Kilde: Note:"),
        ("body", "Som det fremgår af figur 1"),
        ("body", "Ses der dernæst"),
        ("footnote", "3 Forfatterne retter"),
    ],
    11: [
        ("caption", "Figur 2. PLI"),
        ("figure", "40,0 35,0"),
        ("body", "Tallene på både"),
        ("body", "Inden for rapportens"),
        ("h2", "1.3 Formål og bidrag"),
        ("body", "I lyset heraf"),
        ("body", "På det specialiserede socialområde findes"),
        ("body", "På baggrund af forarbejdet"),
    ],
    12: [
        ("body", "Rapporten bidrager"),
        ("body", "For det andet, og baseret"),
        ("body", "Ud over at afdække"),
        ("body", "Hensigten er, at"),
        ("h2", "1.4 Rapportens opbygning"),
        ("body", "Rapporten indeholder"),
    ],
    13: [
        ("h1", "2 Begrebsramme:"),
        ("h2", "2.1 OPS hvorfor"),
        ("body", "Betegnelsen offentlig-privat samarbejde"),
        ("body", "Betragtet i et samarbejds-"),
        ("body", "Samarbejdet og den afledte"),
        ("body", "Gensidig afhængighed mellem"),
        ("body", "Den gensidige afhængighed, tillid"),
        ("footnote", "4 For en samlet"),
    ],
}

# Tables: rows of cells, each cell a tuple of paragraph anchors (an empty tuple is an empty cell).
# Reading the cells row by row, left to right gives the seed's words in order.
KORA_TABLE1 = [
    [(), ("Driftsoverenskomster",), ("Partnerskaber",), ("Markedsbaserede modeller",)],
    [("Samarbejdsform",), ("Købsaftale",), ("Kontraktbaseret",), ("Køb og salg",)],
    [
        ("Erfaringer",),
        ("De selvejende er udbredte",),
        ("Er baseret på gode",),
        ("Indebærer frihed",),
    ],
    [(), ("Der er sket en kommunalisering",), ("Nogle gange lettere",), ("Vanskeligt marked",)],
    [
        ("Barrierer/ faldgrupper",),
        ("Kommunernes styring",),
        ("Ressource- og investerings",),
        ("Uigennemsigtige priser", "For mange små"),
    ],
    [
        ("Muligheder",),
        ("Kommunerne skal fralægge",),
        ("Efterspørgsel på mere", "Afsæt midler"),
        ("Øget markedsgørelse",),
    ],
]
KORA_TABLE1_SPANS = [((0, 2), (0, 3))]  # "Erfaringer" has two rows (the seed lists six findings)
KORA_TABLE2 = [
    [("OPS-elementer",), (), ()],
    [("Driftsoverenskomster",), ("Markedsbaserede modeller",), ("Partnerskaber",)],
    [
        ("Servicelevering: Driftsoverenskomster", "Ejerskab:"),
        (
            "Servicelevering: Tilsvarende",
            "Finansiering: For at understøtte udviklings",
            "Tilsyn/regulering:",
        ),
        ("Servicelevering: Baseret", "Finansiering: For at understøtte etableringen"),
    ],
]
KORA_TABLE2_SPANS = [((0, 0), (2, 0))]


def _kora_styles() -> dict:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_JUSTIFY

    dark = colors.HexColor("#1a3a5c")
    grey = colors.HexColor("#555555")
    s = {
        "body": _style(
            "body",
            fontName="DejaVuSerif",
            fontSize=9.2,
            leading=12.4,
            alignment=TA_JUSTIFY,
            spaceAfter=5,
        ),
        "h1": _style(
            "h1",
            fontName="DejaVuSans-Bold",
            fontSize=16,
            leading=20,
            textColor=dark,
            spaceBefore=2,
            spaceAfter=10,
        ),
        "h2": _style(
            "h2",
            fontName="DejaVuSans-Bold",
            fontSize=11.5,
            leading=15,
            textColor=dark,
            spaceBefore=8,
            spaceAfter=5,
        ),
        "title": _style(
            "title",
            fontName="DejaVuSans-Bold",
            fontSize=22,
            leading=28,
            textColor=dark,
            spaceBefore=24,
            spaceAfter=14,
        ),
        "authors": _style(
            "authors", fontName="DejaVuSans", fontSize=11, leading=15, spaceBefore=150
        ),
        "subtitle": _style(
            "subtitle", fontName="DejaVuSans", fontSize=13, leading=17, textColor=grey
        ),
        "colophon": _style(
            "colophon", fontName="DejaVuSans", fontSize=8.5, leading=11.5, spaceAfter=5
        ),
        "toc1": _style("toc1", fontName="DejaVuSans-Bold", fontSize=9.5, leading=13, spaceBefore=5),
        "toc2": _style("toc2", fontName="DejaVuSans", fontSize=9.2, leading=12.5, leftIndent=18),
        "caption": _style(
            "caption",
            fontName="DejaVuSans-Bold",
            fontSize=8.5,
            leading=11,
            spaceBefore=4,
            spaceAfter=5,
        ),
        "note": _style(
            "note", fontName="DejaVuSans", fontSize=7.5, leading=10, spaceBefore=3, spaceAfter=8
        ),
        "figtext": _style(
            "figtext", fontName="DejaVuSans", fontSize=7.5, leading=10, textColor=grey, spaceAfter=6
        ),
        "footnote": _style("footnote", fontName="DejaVuSerif", fontSize=7.4, leading=9.4),
        "sign": _style("sign", fontName="DejaVuSerif", fontSize=9.2, leading=12.4),
        "cell": _style("cell", fontName="DejaVuSans", fontSize=7.6, leading=9.6, spaceAfter=3),
        "cell_head": _style("cell_head", fontName="DejaVuSans-Bold", fontSize=7.8, leading=9.8),
    }
    s["colophon_b"] = _style("colophon_b", parent=s["colophon"], fontName="DejaVuSans-Bold")
    return s


def _kora_table(
    text: str, layout, spans, col_widths, styles, what: str, head_rows: int, head_cols: int
):
    """A ruled reportlab Table whose cells are cut from ``text`` by the anchors in ``layout``;
    the first ``head_rows`` rows and ``head_cols`` columns are set in bold."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    anchors = [a for row in layout for cell in row for a in cell]
    pieces = iter(_split_at(text, anchors, what))
    rows = []
    for r, row in enumerate(layout):
        cells = []
        for c, cell in enumerate(row):
            style = styles["cell_head"] if r < head_rows or c < head_cols else styles["cell"]
            paras = [Paragraph(escape(next(pieces)), style) for _ in cell]
            for p in paras:  # no word may be wider than its column (words are never split)
                if p.minWidth() > col_widths[c] - 8:
                    raise RuntimeError(f"{what}: a word in row {r}, column {c} is too wide")
            cells.append(paras)
        rows.append(cells)
    table = Table(rows, colWidths=col_widths, repeatRows=0, hAlign="LEFT")
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#4d4d4d")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe8f1")),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    commands += [("SPAN", a, b) for a, b in spans]
    table.setStyle(TableStyle(commands))
    table.spaceAfter = 6
    return table


def _kora_figure(seed_values: Sequence[float], width: float):
    """A small line chart without any text (its labels are in the transcript as residue)."""
    from reportlab.graphics.shapes import Drawing, Line, PolyLine
    from reportlab.lib import colors

    w, h = width * 0.7, 95
    d = Drawing(width, h + 6)
    x0, y0 = 30, 4
    d.add(Line(x0, y0, x0, y0 + h, strokeColor=colors.black, strokeWidth=0.6))
    d.add(Line(x0, y0, x0 + w, y0, strokeColor=colors.black, strokeWidth=0.6))
    for k, (colour, offset) in enumerate([("#1a3a5c", 0.0), ("#c8102e", -4.0)]):
        pts = []
        for i, v in enumerate(seed_values):
            pts += [x0 + 8 + i * (w - 16) / (len(seed_values) - 1), y0 + (v + offset) * h / 40]
        d.add(PolyLine(pts, strokeColor=colors.HexColor(colour), strokeWidth=1.4 - 0.4 * k))
    return d


def build_kora_report() -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import PageBreak, Paragraph

    _register_fonts()
    styles = _kora_styles()
    width, height = _frame_size(KORA_MARGINS)
    pages = kora_transcript_pages(seed_text(KORA_REPORT))
    story: list = []
    for n, text in enumerate(pages, start=1):
        layout = KORA_LAYOUT[n]
        pieces = _split_at(text, [a for _, a in layout], f"KORA page {n}")
        page: list = []
        notes: list = []
        for (kind, _), piece in zip(layout, pieces, strict=True):
            if kind == "table1":
                page.append(
                    _kora_table(
                        piece,
                        KORA_TABLE1,
                        KORA_TABLE1_SPANS,
                        [87, 124, 124, 124],
                        styles,
                        "KORA table 1",
                        1,
                        1,
                    )
                )
            elif kind == "table2":
                page.append(
                    _kora_table(
                        piece,
                        KORA_TABLE2,
                        KORA_TABLE2_SPANS,
                        [width / 3] * 3,
                        styles,
                        "KORA table 2",
                        2,
                        0,
                    )
                )
            elif kind == "figure":
                values = [22, 24, 25, 27, 28, 27, 26] if n == 10 else [34, 27, 24, 22, 21]
                page += [_kora_figure(values, width), Paragraph(escape(piece), styles["figtext"])]
            elif kind == "footnote":
                notes.append(Paragraph(escape(piece), styles["footnote"]))
            else:
                page.append(Paragraph(escape(piece), styles[kind]))
        if notes:
            page.append(_bottom_notes(notes))
        _check_fits(page, width, height, f"KORA page {n}")
        story += page
        if n < len(pages):
            story.append(PageBreak())

    def on_page(canv, doc):
        canv.saveState()
        canv.setFont("DejaVuSans", 7.5)
        canv.setFillColor(colors.HexColor("#555555"))
        canv.drawString(KORA_MARGINS[0], A4[1] - 40, KORA_HEADER)
        canv.setStrokeColor(colors.HexColor("#9aa9b8"))
        canv.setLineWidth(0.5)
        canv.line(KORA_MARGINS[0], A4[1] - 45, A4[0] - KORA_MARGINS[1], A4[1] - 45)
        canv.setFont("DejaVuSans", 8)
        canv.drawCentredString(A4[0] / 2, 32, KORA_FOOTER.format(page=doc.page, pages=KORA_PAGES))
        canv.restoreState()

    return _build_pdf(
        story,
        title="Udvikling af offentlig-privat samspil (OPS) på det specialiserede socialområde",
        author="Ole Helby Petersen, Leif Olsen, Lena Brogaard og Stella Mia Sieling",
        subject="En analyse af modeller, erfaringer og muligheder (KORA 2013)",
        date=KORA_DATE,
        on_page=on_page,
        margins=KORA_MARGINS,
        expected_pages=KORA_PAGES,
    )


# --------------------------------------------------------------------------------------------
# 004  rammeaftale process material (DOCX with headings, lists, tables)
# --------------------------------------------------------------------------------------------

RAMME_DATE = dt.datetime(2017, 4, 20, 10, 0, 0)

# Headings: seed line number -> (Word heading level, number of non-blank seed lines it spans,
# how the line starts -- checked, so that a changed seed cannot shift the headings silently).
# The meeting titles (with their dates) are level 1, slide and section titles level 2, small
# titles ("Brugerne siger", "Gruppe 1", "Mulighed 1: ...") level 3.  Line numbers are 1-based.
RAMME_HEADINGS: dict[int, tuple[int, int, str]] = {
    1: (1, 1, "Indledning:"),
    51: (1, 2, "Politikertemamøde om"),
    62: (2, 3, "Politikertemamøde - drøftelse af"),
    81: (3, 2, "Den politiske temadags"),
    98: (2, 2, "Kom og sæt den politiske retning for"),
    132: (2, 2, "Samarbejde om det specialiserede"),
    177: (2, 1, "Program for dagen"),
    206: (2, 1, "Praktiske oplysninger"),
    207: (3, 1, "Tid og sted"),
    213: (3, 1, "Tilmelding og afbud"),
    218: (3, 1, "Arrangør"),
    229: (2, 2, "Rammer for samarbejdet på det"),
    252: (3, 1, "PARADOKSER – Hvad vægter højest?"),
    258: (3, 1, "Paradoks: Højt specialiserede tilbud"),
    266: (3, 1, "Paradoks: Samarbejde OG Kommunalt"),
    280: (2, 1, "Fokusområder"),
    315: (2, 1, "Fokusområder"),
    327: (2, 1, "Styrket samarbejde"),
    360: (3, 1, "Brugerne siger"),
    376: (3, 1, "Fagpersonerne siger"),
    395: (2, 1, "Brugerinddragelse"),
    422: (3, 1, "Brugerne siger"),
    435: (3, 1, "Fagpersonerne siger"),
    452: (2, 1, "Styring"),
    477: (3, 1, "Brugerne siger"),
    493: (3, 1, "Fagpersonerne siger"),
    511: (2, 1, "Rammeaftalens form og fremadrettet"),
    541: (3, 1, "Fagpersonerne siger"),
    554: (3, 1, "Brugerne siger"),
    569: (2, 2, "Prioriterede fokuspunkter talt sammen"),
    593: (2, 2, "Oversigt over prioriterede"),
    596: (3, 1, "Gruppe 1"),
    602: (3, 1, "Gruppe 3"),
    610: (3, 1, "Gruppe 4"),
    621: (2, 2, "Oversigt over prioriterede"),
    624: (3, 1, "Gruppe 5"),
    631: (3, 1, "Gruppe 6"),
    637: (3, 1, "Gruppe 7"),
    643: (2, 2, "Oversigt over prioriterede"),
    646: (3, 1, "Gruppe 8"),
    653: (3, 1, "Gruppe 9"),
    658: (3, 1, "Gruppe 10"),
    673: (2, 3, "Uddybet pr. bord inkl."),
    681: (2, 1, "Bord 1: Prioriterede fokuspunkter"),
    699: (2, 1, "Bord 1: Prioriteret fokuspunkt"),
    740: (2, 1, "Bord 3: Prioriterede fokuspunkter"),
    758: (2, 1, "Bord 3: Prioriteret fokuspunkt"),
    801: (2, 1, "Bord 4: Prioriterede fokuspunkter"),
    809: (2, 1, "Bord 4: Prioriteret fokuspunkt"),
    837: (2, 1, "Bord 5: Prioriterede fokuspunkter"),
    854: (2, 1, "Bord 5: Prioriteret fokuspunkt"),
    883: (2, 1, "Bord 6: Prioriterede fokuspunkter"),
    900: (2, 1, "Bord 6: Prioriteret fokuspunkt"),
    929: (2, 1, "Bord 7: Prioriterede fokuspunkter"),
    943: (2, 1, "Bord 7: Prioriteret fokuspunkt"),
    979: (2, 1, "Bord 8: Prioriterede fokuspunkter"),
    1004: (2, 1, "Bord 8: Prioriteret fokuspunkt"),
    1041: (2, 1, "Bord 9: Prioriterede fokuspunkter"),
    1066: (2, 1, "Bord 9: Prioriteret fokuspunkt"),
    1095: (2, 1, "Bord 10: Prioriterede fokuspunkter"),
    1124: (2, 1, "Bord 10: Prioriteret fokuspunkt"),
    1173: (2, 1, "Mentimetermåling"),
    1181: (1, 2, "Møde med fagpersoner den 17."),
    1217: (2, 2, "Møde med fagpersoner: Myndighedsledere"),
    1222: (2, 2, "Fra mødet den 17. marts 2017:"),
    1225: (3, 1, "1. TVÆRGÅENDE TEMAER"),
    1237: (3, 1, "2. SPECIALISERING"),
    1253: (3, 1, "3. SAMARBEJDE OG MÅLGRUPPER"),
    1281: (3, 1, "1. ØKONOMI"),
    1303: (3, 1, "2. TOMME PLADSER"),
    1313: (3, 1, "3. OVERGANGE"),
    1329: (3, 1, "FOKUSOMRÅDER"),
    1383: (2, 2, "Fra mødet den 17. marts 2017:"),
    1388: (1, 3, "Møde med det regionale"),
    1429: (2, 1, "Program for møde med KKR Dialogforum"),
    1433: (2, 1, "Opsamling på møde med Dialogforum og"),
    1443: (3, 1, "Drøft ved bordene"),
    1477: (3, 1, "Opsamling i forhold til generelle"),
    1507: (3, 1, "Velkommen tilbage"),
    1509: (3, 1, "Drøftelser ved bordrene"),
    1535: (3, 1, "Opsamling"),
    1564: (1, 2, "Kick-off møde"),
    1573: (2, 1, "Program for kick-off møde om"),
    1636: (2, 1, "Opsamling fra kick-off mødet"),
    1651: (3, 1, "Opsummering"),
    1734: (3, 1, "Opsummering"),
    1813: (2, 2, "Rammeaftalen som redskab"),
    1821: (3, 1, "1. BESKRIVELSE:"),
    1871: (3, 1, "1. BESKRIVELSE:"),
    1920: (3, 1, "1. BESKRIVELSE:"),
    1968: (2, 1, "Tættere klyngesamarbejde om sikrer"),
    2046: (2, 2, "Tilbud til de 31 målgrupper planlægges"),
    2108: (2, 1, "Forøget kommunal selvforsyning (95%)"),
    2158: (1, 2, "Temaoplæg til kick-off møde"),
    2167: (2, 1, "De strategiske udfordringer på det"),
    2186: (3, 1, "Udfordring 1: Økonomisk pres på det"),
    2215: (3, 1, "Udfordring 2: Bekymring for en generel"),
    2249: (3, 2, "Udfordring 3: Faglige"),
    2289: (2, 1, "Rammeaftalen på det specialiserede"),
    2317: (3, 1, "Mulighed 1: Stille fælles krav til"),
    2331: (3, 2, "Mulighed 2: Stille skarpt på, hvordan"),
    2349: (3, 2, "Mulighed 3: Tættere og styrket"),
    2363: (3, 2, "Mulighed 4: Udvikle fælles og"),
    2381: (3, 1, "Mulighed 5: Øget brug af"),
    2391: (3, 1, "Mulighed 6: Iværksætte fælles tiltag"),
    2401: (3, 1, "Mulighed 7: Tættere inddragelse af"),
}

# Slide tables flattened in the seed.  first line -> (last line, rows); a row is a list of cell
# starts (line number, the text the cell starts with on that line) or None for an empty cell.
_Cell = tuple[int, str] | None


def _bord_table(h: int, last: int, c1: _Cell, c2: _Cell, c3: _Cell) -> tuple[int, list]:
    """'Bord N: Prioriteret fokuspunkt' slides: three headed columns numbered 1-3."""
    return last, [
        [(h, "PRIOTITEREDE"), (h, "DET ER VIGTIGT"), (h + 2, "DET OPNÅR")],
        [(h + 4, "1"), (h + 4, "2"), (h + 6, "3")],
        [c1, c2, c3],
    ]


def _scenario_table(h: int, last: int, c1: _Cell, c2: _Cell, c3: _Cell) -> tuple[int, list]:
    """'VISION FOR FREMTIDIGT SAMARBEJDE' slides: advantages, drawbacks, open questions."""
    return last, [
        [(h, "FORDELE"), (h, "ULEMPER"), (h + 2, "HVAD")],
        [(h + 4, "2"), (h + 4, "3"), (h + 6, "4")],
        [c1, c2, c3],
    ]


RAMME_TABLES: dict[int, tuple[int, list]] = {
    700: _bord_table(700, 736, (708, "Synlig"), (714, "•"), (726, "•")),
    759: _bord_table(759, 797, (767, "Klyngesamarbejde"), (771, "•"), (783, "•")),
    810: _bord_table(810, 833, (818, "Opbygge"), (823, "•"), None),
    855: _bord_table(855, 879, (863, "Fokus på recovery"), (863, "Behov for"), (871, "•")),
    901: _bord_table(901, 925, (909, "Gennemsigtige"), (909, "•"), None),
    944: _bord_table(944, 975, (952, "Samarbejdsmodeller"), (955, "•"), None),
    1005: _bord_table(1005, 1037, (1013, "Klyngesamarbejde"), (1017, "•"), None),
    1067: _bord_table(1067, 1091, (1075, "Arbejde med"), (1079, "Der ses"), (1085, "Dokument")),
    1125: _bord_table(1125, 1169, (1133, "Afprøve"), (1141, "Vi har behov"), (1151, "•")),
    1971: _scenario_table(1971, 2041, (1979, "•"), (1997, "•"), (2013, "•")),
    2051: _scenario_table(2051, 2103, (2059, "•"), (2075, "•"), (2091, "•")),
    2111: _scenario_table(2111, 2149, None, (2119, "•"), (2131, "•")),
}

# List items.  The glyph or number at the start of a list line ("•", "-", "1.") is left out of
# the paragraph text: Word draws it from the List Bullet / List Bullet 2 / List Number numbering.
RAMME_BULLET = re.compile(r"\s*•\s+")
RAMME_DASH = re.compile(r"\s*-\s+")
RAMME_NUMBER = re.compile(r"\s*(\d{1,2})\.\s+(?![a-z]:)")  # "1. Tekst", not "1. a: ..."
RAMME_TIME_SLOT = re.compile(r"\s*\d{1,2}[.:]\d{2}\s")  # programme lines start a paragraph
# Lists whose glyphs were lost in the seed (the theme paper): these lines start a List Bullet
# item with no glyph to drop.
RAMME_UNMARKED_ITEMS = {
    2178,
    2180,
    2181,
    2190,
    2192,
    2221,
    2224,
    2226,
    2228,
    2260,
    2262,
    2265,
    2301,
    2302,
    2303,
    2304,
    2306,
}
# Lines that continue the paragraph before them although a blank line separates them and they
# start with a capital (the slides wrapped a sentence across text boxes).
RAMME_JOIN: set[int] = {77, 560, 1414, 1829, 1879}
# Lines that start a new paragraph although no blank line separates them (paragraphs after an
# unmarked list item, and two paragraph ends the line-length rule cannot see).
RAMME_BREAK: set[int] = {1437, 1440, 1867, 2195, 2232, 2267, 2307}


@dataclass
class _RBlock:
    kind: str  # heading | p | bullet | bullet2 | number | table
    text: str = ""
    level: int = 0  # heading level
    number: int = 0  # List Number value
    rows: list[list[list["_RBlock"]]] = field(default_factory=list)  # table cells' blocks
    lines: list[int] = field(default_factory=list)
    glyph: bool = True  # False for list items whose glyph the seed lost

    def marker(self) -> str:
        if not self.glyph:
            return ""
        return {"bullet": "•", "bullet2": "-", "number": f"{self.number}."}.get(self.kind, "")


def _ramme_paragraphs(vlines: list[tuple[int, str]], unmarked: set[int]) -> list[_RBlock]:
    """Group (line number, text) lines into paragraphs and list items."""
    # longest line of each run of consecutive non-blank lines: tells a wrapped line from a short
    # last line of a paragraph
    run_max: dict[int, int] = {}
    run: list[int] = []
    for idx, (_, text) in enumerate([*vlines, (0, "")]):
        if text.strip():
            run.append(idx)
        elif run:
            longest = max(len(vlines[k][1].strip()) for k in run)
            run_max.update({k: longest for k in run})
            run = []
    blocks: list[_RBlock] = []
    blank_before = False
    prev = ""
    for idx, (no, text) in enumerate(vlines):
        s = text.strip()
        if not s:
            blank_before = True
            continue
        cur = blocks[-1] if blocks else None
        new: _RBlock | None = None
        if m := RAMME_BULLET.match(text):
            new = _RBlock("bullet", text[m.end() :].strip())
        elif m := RAMME_DASH.match(text):
            new = _RBlock("bullet2", text[m.end() :].strip())
        elif m := RAMME_NUMBER.match(text):
            new = _RBlock("number", text[m.end() :].strip(), number=int(m.group(1)))
        elif no in unmarked:
            new = _RBlock("bullet", s, glyph=False)
        elif RAMME_TIME_SLOT.match(text) or no in RAMME_BREAK or cur is None:
            new = _RBlock("p", s)
        elif blank_before:
            if not (no in RAMME_JOIN or s[0].islower() or s[0] in "(–"):
                new = _RBlock("p", s)
        elif (
            cur.kind == "p"
            and (s[0].isupper() or s[0].isdigit() or s[0] in '”“"')
            and len(prev) < 0.8 * run_max[idx]
        ):
            new = _RBlock("p", s)  # the previous line was the short last line of a paragraph
        if new is None:
            cur.text += " " + s
            cur.lines.append(no)
        else:
            new.lines.append(no)
            blocks.append(new)
        blank_before = False
        prev = s
    return blocks


def _ramme_table(lines: dict[int, str], first: int, last: int, rows: list) -> _RBlock:
    starts = [c for row in rows for c in row if c is not None]
    positions = []
    for no, anchor in starts:
        col = lines[no].find(
            anchor, positions[-1][1] + 1 if positions and positions[-1][0] == no else 0
        )
        if col < 0 or (col > 0 and not lines[no][col - 1].isspace()):
            raise ValueError(f"rammeaftale table at line {first}: {anchor!r} not on line {no}")
        positions.append((no, col))
    if positions != sorted(positions) or positions[0] != (first, 0):
        raise ValueError(f"rammeaftale table at line {first}: cell starts out of order")
    ends = [*positions[1:], (last + 1, 0)]
    cells: dict[tuple[int, int], list[_RBlock]] = {}
    for (no0, col0), (no1, col1) in zip(positions, ends, strict=True):
        vlines = []
        for no in range(no0, no1 + 1):
            text = lines.get(no, "")
            a = col0 if no == no0 else 0
            b = col1 if no == no1 else len(text)
            if no <= last and (no < no1 or b > a):
                vlines.append((no, text[a:b]))
        cells[(no0, col0)] = _ramme_paragraphs(vlines, set())
    table = _RBlock("table", lines=[first, last])
    it = iter(positions)
    table.rows = [[[] if c is None else cells[next(it)] for c in row] for row in rows]
    return table


def ramme_blocks(seed: str) -> list[_RBlock]:
    """The rammeaftale document as headings, paragraphs, list items and tables, in seed order."""
    raw = seed.splitlines()
    lines = {no: text.rstrip() for no, text in enumerate(raw, start=1)}
    blocks: list[_RBlock] = []
    pending: list[tuple[int, str]] = []  # lines of the current run of paragraphs

    def flush():
        blocks.extend(_ramme_paragraphs(pending, RAMME_UNMARKED_ITEMS))
        pending.clear()

    no = 1
    while no <= len(raw):
        if no in RAMME_HEADINGS:
            flush()
            level, count, start = RAMME_HEADINGS[no]
            if not lines[no].strip().startswith(start):
                raise ValueError(f"rammeaftale line {no} is not the heading {start!r}")
            parts, nums = [], []
            while len(parts) < count:
                if lines[no].strip():
                    parts.append(lines[no].strip())
                    nums.append(no)
                no += 1
            blocks.append(_RBlock("heading", " ".join(parts), level=level, lines=nums))
        elif no in RAMME_TABLES:
            flush()
            last, rows = RAMME_TABLES[no]
            blocks.append(_ramme_table(lines, no, last, rows))
            no = last + 1
        else:
            pending.append((no, lines[no]))
            no += 1
    flush()
    # Nothing but the list markers may differ from the seed.
    with_markers = []
    for b in _flatten(blocks):
        with_markers += [b.marker(), b.text]
    if _words(" ".join(with_markers)) != _words(seed):
        raise AssertionError("rammeaftale: document blocks do not reproduce the seed")
    return blocks


def _flatten(blocks: Iterable[_RBlock]) -> list[_RBlock]:
    """Blocks in reading order, tables replaced by their cells' blocks, row by row."""
    out = []
    for b in blocks:
        if b.kind == "table":
            for row in b.rows:
                for cell in row:
                    out += _flatten(cell)
        else:
            out.append(b)
    return out


def _normalized_zip(data: bytes, date: dt.datetime) -> bytes:
    """Rewrite a zip with fixed member timestamps and attributes (python-docx stamps 'now')."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=date.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 3
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def build_rammeaftale_docx() -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    rpr_default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    rpr = rpr_default.find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:val"), "da-DK")

    cp = doc.core_properties
    cp.title = "Proces for fornyet politisk grundlag for rammeaftale 2018"
    cp.subject = "Rammeaftale 2018 på det specialiserede social- og undervisningsområde"
    cp.author = "KKR Sjælland"
    cp.last_modified_by = "KKR Sjælland"
    cp.keywords = "rammeaftale; KKR Sjælland; specialiserede socialområde"
    cp.language = "da-DK"
    cp.created = RAMME_DATE
    cp.modified = RAMME_DATE
    cp.revision = 1
    cp.comments = ""

    numbering = doc.part.numbering_part.numbering_definitions._numbering
    style_num = doc.styles["List Number"].element.pPr.numPr.numId.val
    abstract_id = numbering.num_having_numId(style_num).abstractNumId.val
    state = {"num": None, "last": 0}

    def add_block(container, b: _RBlock, first_in_cell: bool = False):
        style = {
            "p": None,
            "bullet": "List Bullet",
            "bullet2": "List Bullet 2",
            "number": "List Number",
        }[b.kind]
        if first_in_cell:
            para = container.paragraphs[0]
            para.add_run(b.text)
            if style:
                para.style = doc.styles[style]
        else:
            para = container.add_paragraph(b.text, style=style)
        if b.kind == "number":
            if state["num"] is None or b.number != state["last"] + 1:
                num = numbering.add_num(abstract_id)
                num.add_lvlOverride(ilvl=0).add_startOverride(b.number)
                state["num"] = num.numId
            num_pr = para._p.get_or_add_pPr().get_or_add_numPr()
            num_pr.get_or_add_ilvl().val = 0
            num_pr.get_or_add_numId().val = state["num"]
            state["last"] = b.number
        return para

    first_h1 = True
    for b in ramme_blocks(seed_text(RAMMEAFTALE)):
        if b.kind == "heading":
            h = doc.add_heading(b.text, level=b.level)
            if b.level == 1 and not first_h1:
                h.paragraph_format.page_break_before = True
            first_h1 = first_h1 and b.level != 1
            state["num"] = None
        elif b.kind == "table":
            table = doc.add_table(rows=len(b.rows), cols=len(b.rows[0]))
            table.style = doc.styles["Table Grid"]
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for r, row in enumerate(b.rows):
                for c, cell_blocks in enumerate(row):
                    cell = table.cell(r, c)
                    for k, cb in enumerate(cell_blocks):
                        para = add_block(cell, cb, first_in_cell=k == 0)
                        if r < 2:
                            for run in para.runs:
                                run.bold = True
            doc.add_paragraph()  # Word needs a paragraph between two tables; empty text
            state["num"] = None
        else:
            add_block(doc, b)

    buf = io.BytesIO()
    doc.save(buf)
    return _normalized_zip(buf.getvalue(), RAMME_DATE)


# --------------------------------------------------------------------------------------------
# expected text and main
# --------------------------------------------------------------------------------------------


def expected_text(corpus_file_name: str) -> str:
    """The seed text that extraction of this corpus file must reproduce word for word: the seed
    minus the parts deliberately left out (site chrome, page-number tokens that became
    headers/footers).

    Compare ``expected_text(name).split()`` with the extracted words.  Per file:

    * press release: the whole seed (OCR damage included).
    * blog post: the article only -- title, byline and paragraphs; the masthead line
      (BLOG_MASTHEAD_LINE) and the comment-form/search residue (from BLOG_CHROME_FROM_LINE)
      are site chrome.
    * DI brochure: the whole seed with the markdown residue resolved ("[her](#)" -> "her",
      "**x**" -> "x"); the footer DI_FOOTER is not text of the seed.
    * KORA report: transcript pages 1..KORA_PAGES without their page-number tokens (the PDF has
      its own KORA_HEADER and KORA_FOOTER) and without the contents listing on
      KORA_CONTENTS_PAGE (ingest/contents.py drops it); tables read row by row, left to right.
    * rammeaftale: the whole seed without the list glyphs/numbers that became Word numbering
      (RAMME_BULLET, RAMME_DASH, RAMME_NUMBER); tables read row by row, left to right.
    """
    seed = seed_text(corpus_file_name)
    if corpus_file_name == PRESS_RELEASE:
        return seed
    if corpus_file_name == BLOG_POST:
        _, title, byline, body, _ = _blog_parts(seed)
        return "\n\n".join([title, byline, *body])
    if corpus_file_name == DI_BROCHURE:
        return _strip_markdown(seed)
    if corpus_file_name == KORA_REPORT:
        pages = kora_transcript_pages(seed)
        return "\n\n".join(p for n, p in enumerate(pages, start=1) if n != KORA_CONTENTS_PAGE)
    if corpus_file_name == RAMMEAFTALE:
        return "\n\n".join(b.text for b in _flatten(ramme_blocks(seed)))
    raise KeyError(corpus_file_name)


BUILDERS: dict[str, Callable[[], bytes]] = {
    PRESS_RELEASE: build_press_release,
    BLOG_POST: build_blog_html,
    DI_BROCHURE: build_di_brochure,
    KORA_REPORT: build_kora_report,
    RAMMEAFTALE: build_rammeaftale_docx,
}


def build_all() -> dict[str, bytes]:
    _register_fonts()
    return {name: build() for name, build in BUILDERS.items()}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, data in build_all().items():
        path = ROOT / name
        digest = hashlib.sha256(data).hexdigest()
        if check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(name)
        else:
            path.write_bytes(data)
        print(f"{name:55} {len(data):>8} bytes  sha256 {digest[:16]}")
    if stale:
        print("out of date (run corpus/build.py):", ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
