"""A generated form as the browser would send it back: every field's current value."""
from __future__ import annotations

from html.parser import HTMLParser


class _Form(HTMLParser):
    """The fields a browser sends from a page's form: inputs, checked boxes, selected options, text areas."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._area = {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("checkbox", "submit", "radio"):
            self.data.setdefault(name, a.get("value") or "")
        elif tag == "input" and name and "checked" in a:
            self.data[name] = a.get("value") or "y"
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value") or ""
        elif tag == "textarea":
            self._area = name
            self.data[name] = ""

    def handle_data(self, text):
        if self._area:
            # a browser drops the newline that opens a text area's content
            self.data[self._area] += text.removeprefix("\r\n").removeprefix("\n") if not self.data[self._area] else text

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._area = None


def form_of(html: str) -> dict:
    parser = _Form()
    parser.feed(html)
    return parser.data
