"""The recommendations with a checkbox each, the total monthly savings of the selection, and Apply.

Each applied row gets its result line in place (what was done, or the error and its fix); nothing is raised.

>>> w = s.recommendations_widget(window="7d")
>>> w.rows[0].checkbox.value = True; w.apply.click()
>>> w.rows[0].result.value
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..display import money
from ..errors import ComputeError
from .protocol import SessionAPI
from .static import StaticFallback

__all__ = ["RecommendationRow", "RecommendationsWidget", "combined_savings"]

_OK = "var(--jp-success-color1, #15803d)"
_ERROR = "var(--jp-error-color1, #b91c1c)"


class RecommendationRow(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """One recommendation: a checkbox with its kind, resource and savings; its evidence and action; a result line."""

    def __init__(self, row: pd.Series) -> None:
        self.recommendation = row["recommendation"]
        self.savings = float(row["monthly_savings_usd"])
        self.target = (str(row["provider"]), str(row["fleet"] or row["resource"]))  # fleet is "" for an instance
        self.checkbox = widgets.Checkbox(
            value=False,
            description=f"{row['kind']} · {row['resource']} ({row['provider']}) · {money(self.savings)}/month",
            indent=False,
            layout=widgets.Layout(width="auto"),
        )
        self.detail = widgets.HTML(
            f"<div style='margin-left:24px;font-size:smaller'>risk {html.escape(str(row['risk']))}, confidence "
            f"{html.escape(str(row['confidence']))} — {html.escape(str(row['evidence']))}<br>"
            f"<code>{html.escape(str(row['action']))}</code></div>"
        )
        self.result = widgets.HTML()
        super().__init__([self.checkbox, self.detail, self.result])

    def show(self, text: str, ok: bool) -> None:
        color = _OK if ok else _ERROR
        self.result.value = f"<div style='margin-left:24px;color:{color}'>{html.escape(text)}</div>"

    @property
    def result_text(self) -> str:
        """The result line as plain text (what tests read)."""
        return html.unescape(self.result.value.split(">", 1)[-1].rsplit("<", 1)[0]) if self.result.value else ""


def combined_savings(rows: list[RecommendationRow]) -> tuple[float, bool]:
    """What ``rows`` save together, and whether some of them act on the same fleet or instance.

    Findings on one fleet are alternatives that shrink the same bill (a smaller type, or fewer instance-hours),
    so adding them up would promise too much: each fleet counts once, at its largest saving, which is what
    applying several of them saves at least.
    """
    best: dict[tuple[str, str], float] = {}
    for row in rows:
        best[row.target] = max(best.get(row.target, 0.0), row.savings)
    return round(sum(best.values()), 2), len(best) < len(rows)


class RecommendationsWidget(StaticFallback, widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """``s.recommendations(window, **options)`` as a checklist; Apply acts on the checked rows, one by one."""

    kind = "recommendations list"

    def __init__(self, session: SessionAPI, window: str | float | pd.Timedelta = "14d", **options: Any) -> None:
        self.session = session
        self.window = window
        self.options = options
        self.title = widgets.HTML()
        self.errors = widgets.HTML()
        self.list = widgets.VBox()
        self.total = widgets.HTML()
        self.apply = widgets.Button(description="Apply", button_style="primary", icon="check", disabled=True)
        self.preview = widgets.Button(description="Dry run", icon="eye", disabled=True)
        self.refresh = widgets.Button(description="Refresh", icon="refresh")
        self.rows: list[RecommendationRow] = []
        self.apply.on_click(lambda _: self._act(dry_run=False))
        self.preview.on_click(lambda _: self._act(dry_run=True))
        self.refresh.on_click(lambda _: self.load())
        super().__init__([self.title, self.errors, self.list, self.total, widgets.HBox([self.apply, self.preview, self.refresh])])
        self.add_class("clusterdb-recommendations")
        self.load()

    def load(self) -> None:
        """Ask the session again and list what it finds (nothing checked)."""
        df = self.session.recommendations(window=self.window, **self.options)
        self.rows = [RecommendationRow(row) for _, row in df.iterrows()]
        for row in self.rows:
            row.checkbox.observe(lambda _: self._update_total(), "value")
        self.list.children = self.rows
        total, overlap = combined_savings(self.rows)
        self.title.value = (
            f"<b>{len(self.rows)} recommendation(s)</b> over the last {html.escape(str(self.window))}, "
            f"{'at least ' if overlap else ''}{money(total)}/month in all"
            if self.rows
            else f"<b>No recommendations</b> over the last {html.escape(str(self.window))}"
        )
        failed = df.attrs.get("errors", {})
        self.errors.value = "".join(
            f"<div style='color:{_ERROR}'>{html.escape(name)} could not be read: {html.escape(err.message)}</div>"
            for name, err in failed.items()
        )
        self._update_total()

    @property
    def selected(self) -> list[RecommendationRow]:
        return [r for r in self.rows if r.checkbox.value]

    @property
    def selected_savings_usd(self) -> float:
        """The monthly savings of the checked rows (each fleet once: see ``combined_savings``)."""
        return combined_savings(self.selected)[0]

    def _update_total(self) -> None:
        chosen = self.selected
        total, overlap = combined_savings(chosen)
        note = " (findings on one fleet overlap: each fleet counts once, at its largest saving)" if overlap else ""
        self.total.value = f"Selected: {len(chosen)}, saving <b>{'at least ' if overlap else ''}{money(total)}/month</b>{note}"
        self.apply.disabled = self.preview.disabled = not chosen

    def _act(self, dry_run: bool) -> None:
        """Apply (or plan) each checked row; its result line says what happened, an error stays in its row."""
        for row in self.selected:
            try:
                done = self.session.apply(row.recommendation, dry_run=dry_run)
            except ComputeError as err:
                row.show(f"✗ {err.message} — {err.solution}", ok=False)
                continue
            row.show(("" if dry_run else "✓ ") + done.summary, ok=True)
            if not dry_run:
                row.checkbox.value = False
                row.checkbox.disabled = True
