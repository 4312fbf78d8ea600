"""HTML read as a browser would: every element with its attributes (for tests of what data can inject)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass(frozen=True)
class Element:
    tag: str
    attrs: tuple[tuple[str, str], ...]

    def attr(self, name: str) -> str | None:
        return next((v for k, v in self.attrs if k == name), None)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, tuple((k, v or "") for k, v in attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> tuple[list[Element], str]:
    """The page's elements in document order, and its text content (entities decoded)."""
    collector = _Collector()
    collector.feed(page)
    collector.close()
    return collector.elements, "".join(collector.text)


def content_security_policy(page: str) -> str | None:
    """The policy of the page's ``<meta http-equiv="Content-Security-Policy">``, if any."""
    elements, _ = parse(page)
    return next(
        (
            e.attr("content")
            for e in elements
            if e.tag == "meta" and (e.attr("http-equiv") or "").lower() == "content-security-policy"
        ),
        None,
    )
