"""The text part of an e-mail whose template has only HTML: readable text, links kept.

inscriptis lays the text out as a browser would (paragraphs, lists, tables; no script or
style), and each link keeps its address after its text, `your order (https://…)`. It runs
within the render's time limit (the sandbox's deadline).
"""

from __future__ import annotations

import lxml.html
from inscriptis import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml.etree import ParserError

from shared.templating.sandbox import check_deadline

_CONFIG = ParserConfig()


class _TimedInscriptis(Inscriptis):
    """inscriptis, checking the render's deadline at each element: its layout of a long line
    grows faster than the line, so a hostile body must stop at the time limit."""

    def _parse_html_tree(self, state, tree):  # noqa: ANN001, ANN202 - inscriptis' own
        check_deadline()
        return super()._parse_html_tree(state, tree)


_SHOWN_SCHEMES = ("http://", "https://", "mailto:", "tel:")


def text_from_html(html: str) -> str:
    """The text of an HTML e-mail body, each link followed by its address in brackets."""
    if not html.strip():
        return ""
    try:
        tree = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return ""
    for link in tree.iter("a"):
        _append_address(link)
    return _TimedInscriptis(tree, _CONFIG).get_text().strip() + "\n"


def _append_address(link: lxml.html.HtmlElement) -> None:
    """`<a href="https://x">text</a>` reads `text (https://x)`; a link whose text is its
    address, or that goes nowhere outside the page, stays as it is."""
    address = (link.get("href") or "").strip()
    if not address.lower().startswith(_SHOWN_SCHEMES):
        return
    shown = address.removeprefix("mailto:").removeprefix("tel:")
    label = link.text_content().strip()
    if label in (address, shown):
        return
    suffix = f" ({shown})" if label else shown
    if len(link):
        last = link[-1]
        last.tail = (last.tail or "") + suffix
    else:
        link.text = (link.text or "") + suffix
