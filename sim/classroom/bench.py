"""The classroom at class scale without browsers (``python -m experiments.bench classroom``).

A class is N :class:`~sim.classroom.session.Session` objects in one process, as under ``make classroom``
(one per browser tab). Each click is the session's action plus what the page computes to show its
result (:func:`page`: the status lines, the offer and seat tables, the two charts of the Negotiate
tab), which is the server's work for a click apart from Solara's diff of the widgets. Clicks are taken
in turn over the sessions, as a class would. Measured:

* first render: a new tab's session and its first page, with the other sessions open;
* per click: Step, Accept/Reject, a slider, Propose and Reset, over whole games in every seat.

The model's step is a few ms; the charts were most of a click (docs/performance.md).
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from sim.classroom.model import NOBODY
from sim.classroom.session import Session
from sim.classroom.tables import bundle_table, offer_bundle, offer_table, seat_view

SEATS = ("usa", "nato", "russia", "ukraine", NOBODY)


def page(session: Session) -> None:
    """What the page computes after a click (apps/classroom.py, Negotiate tab)."""
    model = session.model
    session.status()
    session.last_round()
    session.pending()
    offer_table(model)
    if model.waiting == "propose":
        seat_view(model, session.draft())
    else:
        bundle_table(model, offer_bundle(model))
    session.chart("utility")
    session.chart("issues")


def _click(session: Session, kind: str, action) -> tuple[str, float]:
    start = time.perf_counter()
    action()
    page(session)
    return kind, time.perf_counter() - start


def _next_click(session: Session, rng: np.random.Generator, moved: dict) -> tuple[str, object]:
    """The click a student makes next: answer an offer (accept one in four), move one slider then
    propose, Step, or Reset a finished game."""
    model = session.model
    if model.finished:
        return "reset", session.reset
    if model.waiting == "respond":
        accept = bool(rng.random() < 0.25)
        return ("accept" if accept else "reject"), lambda: session.respond(accept)
    if model.waiting == "propose":
        if not moved.get(id(session)):
            moved[id(session)] = True
            k = int(rng.integers(model.negotiation.n_issues))
            issue = model.negotiation.issues[k]
            return "slider", lambda: session.set_draft(k, float(rng.uniform(issue.lower, issue.upper)))
        moved[id(session)] = False
        return "propose", session.propose
    return "step", session.step


def bench_classroom(sessions: int = 30, clicks: int = 40, seed: int = 1) -> dict:
    """``sessions`` tabs, each making ``clicks`` clicks in turn; returns first-render and per-click times
    (seconds) by kind of click."""
    rng = np.random.default_rng(seed)
    first = []
    tabs = []
    for n in range(sessions + 1):  # the last one opens with `sessions` others open
        start = time.perf_counter()
        session = Session()
        page(session)
        seat = SEATS[n % len(SEATS)]
        if seat != NOBODY:
            session.choose("play_as", seat)
            page(session)
        first.append(time.perf_counter() - start)
        tabs.append(session)
    timings: dict[str, list[float]] = {}
    moved: dict = {}
    for round_ in range(clicks):
        for session in tabs[:sessions]:
            kind, action = _next_click(session, rng, moved)
            kind, seconds = _click(session, kind, action)
            timings.setdefault(kind, []).append(seconds)
        print(f"click {round_ + 1}/{clicks}", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return {"sessions": sessions, "first": first, "clicks": timings}


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def classroom_table(result: dict) -> str:
    """Markdown: first render and per-click times (ms), all clicks and by kind."""
    first = result["first"]
    every = [t for times in result["clicks"].values() for t in times]
    lines = [f"{result['sessions']} sessions in one process; first render of a tab (session, its first page and "
             f"its seat): median {statistics.median(first[:-1]) * 1e3:.0f} ms, max {max(first[:-1]) * 1e3:.0f} ms; "
             f"with {result['sessions']} open: {first[-1] * 1e3:.0f} ms; all {result['sessions']} one after "
             f"another: {sum(first[:-1]):.1f} s.", "",
             "| click | n | median ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    rows = [("every click", every)] + sorted(result["clicks"].items())
    for kind, times in rows:
        lines.append(f"| {kind} | {len(times)} | {statistics.median(times) * 1e3:.0f} | {_p(times, 95) * 1e3:.0f} | "
                     f"{max(times) * 1e3:.0f} |")
    return "\n".join(lines)
