"""``reports/index.html``: every run, newest first, with links to its files.

Built from the ``manifest.json`` of each run folder ``reports/<report>/<as_of>/``, so it is
always complete and can be rebuilt at any time (:func:`write_index`). Failed runs are
listed too, linking to the executed notebook that holds the error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from wecom_eval import text
from wecom_eval.reporting import registry, safe_text

INDEX = "index.html"
# Files a run may hold, in the order the index links them.
LINKED_FILES: tuple[tuple[str, str], ...] = (
    ("report.html", "HTML"),
    ("tables.xlsx", "Excel"),
    ("deck.pptx", "PPT"),
    ("kpis.json", "kpis.json"),
    ("manifest.json", "manifest"),
)


def runs(reports_dir: Path) -> list[dict[str, Any]]:
    """Manifests of every run under ``reports_dir``, newest start first."""
    found = []
    for path in Path(reports_dir).glob("*/*/manifest.json"):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        manifest["_folder"] = path.parent.relative_to(reports_dir).as_posix()
        found.append(manifest)
    return sorted(
        found,
        key=lambda m: (m.get("started", ""), m.get("finished", ""), m.get("as_of", ""), m.get("report", "")),
        reverse=True,
    )


def _bi(key: str) -> str:
    return f"{text.t(key, 'zh')} <span class=en>{text.t(key, 'en')}</span>"


def render(reports_dir: Path) -> str:
    """The index page (Chinese with English beside; every link relative)."""
    rows = []
    for m in runs(reports_dir):
        folder = m["_folder"]
        links = [
            f'<a href="{safe_text.html(folder)}/{name}">{label}</a>'
            for name, label in LINKED_FILES
            if (reports_dir / folder / name).exists()
        ]
        if m.get("notebook"):
            links.append(f'<a href="{safe_text.html(folder)}/{safe_text.html(m["notebook"])}">ipynb</a>')
        status = m.get("status", "?")
        known = status in ("succeeded", "failed")
        title = registry.title(m.get("report", "?"), "zh")
        rows.append(
            f"<tr class='{status if known else 'unknown'}'><td><b>{safe_text.html(title)}</b><br><span class=en>"
            f"{safe_text.html(m.get('report', '?'))}</span></td><td>{safe_text.html(m.get('as_of', ''))}</td>"
            f"<td class=status>{safe_text.html(text.t(status, 'zh') if known else status)}"
            f"</td><td>{safe_text.html(m.get('started', '').replace('T', ' '))}</td>"
            f"<td>{m.get('duration_seconds', 0):.0f} s</td><td>{' · '.join(links)}</td></tr>"
        )
    body = "\n".join(rows) or f"<tr><td colspan=6>{_bi('no_data')}</td></tr>"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">{safe_text.CSP_META}<title>{text.t("index_title", "zh")}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", system-ui,
  sans-serif; margin: 32px auto; max-width: 1100px; color: #222; }}
h1 {{ font-size: 1.6em; border-bottom: 2px solid #1f5fa8; padding-bottom: 6px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th {{ text-align: left; background: #e8eef7; padding: 6px 10px; }}
td {{ padding: 6px 10px; border-bottom: 1px solid #eceff3; vertical-align: top; }}
.en {{ color: #777; font-size: 12px; }}
tr.failed td.status {{ color: #c62828; font-weight: 600; }}
tr.succeeded td.status {{ color: #2e7d32; }}
a {{ color: #1f5fa8; }}
</style></head><body>
<h1>{_bi("index_title")}</h1>
<p>{_bi("index_intro")}</p>
<table><thead><tr><th>{_bi("report")}</th><th>{_bi("as_of")}</th><th>{_bi("status")}</th><th>{_bi("started")}</th>
<th>{_bi("duration")}</th><th>{_bi("files")}</th></tr></thead>
<tbody>
{body}
</tbody></table>
</body></html>
"""


def write_index(reports_dir: Path) -> Path:
    """Write ``<reports_dir>/index.html`` (atomically) and return its path."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / INDEX
    tmp = path.with_name(f".{INDEX}.{os.getpid()}.tmp")
    tmp.write_text(render(reports_dir), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = ["INDEX", "render", "runs", "write_index"]
