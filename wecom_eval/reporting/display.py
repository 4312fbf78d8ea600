"""How a report shows things in the notebook: objects, notes (safe markdown) and PNGs with alt text."""

from __future__ import annotations

from typing import Any


def show(obj: Any) -> None:
    """Display an object (a styled table) in the notebook."""
    from IPython.display import display

    display(obj)


def show_note(markdown: str, *, small: bool = False) -> None:
    """Display a note; only the markup :func:`.safe_text.notes_html` allows is markup."""
    from IPython.display import HTML, display

    from wecom_eval.reporting.safe_text import notes_html

    display(HTML(notes_html(markdown, small=small)))


def show_png(png: bytes, *, width: int, alt: str = "") -> None:
    """The PNG as an ``<img>`` with its alt text (nbconvert gives a bare image output a
    placeholder "No description has been provided")."""
    import base64
    import html

    from IPython.display import HTML, display

    data = base64.b64encode(png).decode("ascii")
    display(HTML(f'<img src="data:image/png;base64,{data}" width="{width}" alt="{html.escape(alt, quote=True)}">'))


__all__ = ["show", "show_note", "show_png"]
