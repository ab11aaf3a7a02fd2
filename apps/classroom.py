"""The classroom app: one page per browser tab around a :class:`~sim.classroom.session.Session`.

    make classroom                          # http://127.0.0.1:8765, this machine only
    make classroom HOST=0.0.0.0             # the class's LAN: students open http://<teacher's IP>:8765
    make classroom CLASS=monday-3rd         # exports go to results/classroom/monday-3rd/

Each tab renders :func:`Page` afresh, so each has its own game and settings (two tabs never share
state). The sidebar holds the game's settings (applied by Reset; the seat applies at once), Reset /
Step / ▶ Play and Export. The page: a line saying whose turn it is and what just happened; tab
"Negotiate" with the seat's controls (Accept/Reject, or Propose above one slider per issue) and the
offer on the table beside two charts; "Every issue by round"; "Tune the actors" (sliders applied by
Reset); "What the numbers mean".

The app is drawn with Solara directly rather than Mesa's SolaraViz: SolaraViz's Reset re-creates the
model with its own ``scenario=``/``rng=`` arguments, its Play does not stop for a person's turn, and
its controls (play interval, threads, "Page 0") mean nothing to a class. The model is still a Mesa
model (:class:`~sim.classroom.ClassroomModel`).
"""

from __future__ import annotations

import base64
import html
import os
import threading
import warnings
import weakref
from pathlib import Path

import numpy as np
import solara
import solara.lab

from sim.classroom import (NOBODY, PROTOCOL_TITLES, PROTOCOLS, SEATED_PROTOCOLS, bundle_table, offer_bundle,
                           offer_table, scenario_titles, seat_view, wants_table)
from sim.classroom.session import Session
from sim.domain.config import LEVELS
from sim.domain.errors import ConfigError
from sim.report.wording import glossary_for, school_text


# Solara warns on every page load over plain http on a LAN address (it falls back to a lax cookie, which
# is what a classroom wants): not the teacher's concern. This module is the app's entry point (the file
# `solara run` serves), loaded before the first request, which is where the warning is raised: the filter
# has to be in place by then, so it is set here, not per page.
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

NARROW = 960  # px: below this (phones, small tablets) the sidebar starts closed and the columns stack
PROJECTOR = 1800  # px: from this width on (a 1920x1080 projector) projector mode starts on
PROJECTOR_SCALE = 1.4  # projector mode: charts drawn 1.4 times larger, text ~1.35 times larger
PLAY_INTERVAL = 0.8  # seconds between rounds under ▶ Play: slow enough to follow on a projector
REPLICATES = 30  # model-agent runs an export compares a played seat with
PROTOCOL_HELP = {
    "offers": "offers: each round one party proposes a whole deal, the others accept or reject (you can play a seat)",
    "eu": "eu: parties shift their positions towards each other (model agents only)",
    "exchange": "exchange: parties trade concessions pairwise (model agents only)",
}
CSS = """
.classroom-table { border-collapse: collapse; font-size: 15px; margin: 4px 0; width: 100%; table-layout: auto;
  overflow-wrap: normal; word-break: normal; }  /* columns as wide as their longest word: no break inside a word */
.classroom-table th:first-child, .classroom-table td:first-child { width: 38%; }
.classroom-table th, .classroom-table td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left;
  vertical-align: top; }
.classroom-table td.num, .classroom-table th.num { text-align: right; }
.classroom-status { font-size: 18px; font-weight: 600; padding: 6px 10px; background: #eef3fb;
  border-left: 5px solid #1f77b4; margin-bottom: 6px; }
.classroom-last { font-size: 15px; padding: 2px 10px 6px 10px; color: #333; }
.classroom-scroll { max-height: calc(100vh - 215px); overflow-y: auto; padding-right: 6px; }
.classroom-issue { margin: 10px 0 0 0; font-size: 15px; }
.classroom-ends { font-size: 13px; color: #444; display: flex; justify-content: space-between; gap: 12px; }
.classroom-ends span { max-width: 48%; }
.classroom-chart img { display: block; max-width: none; }
.v-tabs { margin-top: -4px; }
.v-tab { font-size: 15px; }
.classroom-controls { display: flex; gap: 8px; flex-wrap: wrap; margin: 0 0 6px 0; }
/* phones: one column, the page scrolls as a whole, charts shrink to the screen */
.classroom-narrow .classroom-scroll { max-height: none; overflow-y: visible; padding-right: 0; }
.classroom-narrow .classroom-chart img { max-width: 100%; height: auto; }
.classroom-narrow .classroom-status { font-size: 16px; }
.classroom-narrow .classroom-table { font-size: 14px; }
.classroom-narrow .classroom-table th, .classroom-narrow .classroom-table td { padding: 3px 3px; }
.classroom-narrow .classroom-table th:first-child, .classroom-narrow .classroom-table td:first-child { width: 30%; }
/* phones: the four tabs wrap onto two lines instead of scrolling sideways out of sight */
.classroom-narrow .v-slide-group__prev, .classroom-narrow .v-slide-group__next { display: none !important; }
.classroom-narrow .v-tabs-bar { height: auto !important; }
.classroom-narrow .v-slide-group__wrapper { overflow: visible !important; flex: 1 1 100%; width: 100%; }
.classroom-narrow .v-slide-group__content { flex: 1 1 100%; width: 100%; flex-wrap: wrap;
  transform: none !important; }
.classroom-narrow .v-tab { height: 40px; min-width: 0; padding: 0 10px; font-size: 14px; }
.classroom-narrow .v-tabs-slider-wrapper { display: none; }  /* placed for one line: underline the tab instead */
.classroom-narrow .v-tab--active { border-bottom: 2px solid currentColor; }
/* the sidebar keeps its width (Solara's drawer is as wide as its widest line, up to 600 px): long menu
   entries (the scenarios' titles) wrap in the menu field instead of widening it */
.v-navigation-drawer .v-select__selection { white-space: normal; line-height: 1.3; }
.v-navigation-drawer .v-select__selections { min-width: 0; }
@media (max-width: 959px) {
  .v-navigation-drawer { min-width: 0 !important; max-width: 88vw !important; width: 88vw !important; }
}
/* projector mode: larger type everywhere on the page (the charts are drawn larger) */
.classroom-projector .classroom-table { font-size: 21px; }
.classroom-projector .classroom-status { font-size: 26px; }
.classroom-projector .classroom-last, .classroom-projector .classroom-issue { font-size: 21px; }
.classroom-projector .classroom-ends { font-size: 18px; }
.classroom-projector .v-tab { font-size: 20px; }
.classroom-projector .v-btn:not(.v-btn--icon) { font-size: 18px; }
.classroom-projector p, .classroom-projector li, .classroom-projector .classroom-title { font-size: 21px; }
.classroom-projector .classroom-scroll { max-height: calc(100vh - 250px); }
/* projector mode: the sidebar's text larger too (its cards, labels, menus, switches and notes) */
.classroom-side-projector .v-card__title { font-size: 28px; }
.classroom-side-projector .v-label, .classroom-side-projector .v-select__selection,
.classroom-side-projector input, .classroom-side-projector .v-list-item__title { font-size: 21px !important; }
.classroom-side-projector .v-select__selection, .classroom-side-projector input { line-height: 1.3; max-height: none; }
.classroom-side-projector .v-text-field input { padding: 6px 0; }
.classroom-side-projector .v-btn:not(.v-btn--icon) { font-size: 18px; }
.classroom-side-projector .v-input__slider .v-input__slot { flex-wrap: wrap; }  /* the label above its slider */
.classroom-side-projector .v-input__slider { margin-top: 14px; }  /* and clear of the Seed field above it */
.classroom-side-projector .v-input__slider .v-label { flex: 1 1 100%; margin: 0 0 4px 0; }
.classroom-side-projector span, .classroom-side-projector div.solara-text,
.classroom-side-projector .v-alert__content { font-size: 18px !important; line-height: 1.35; }
"""


screen = solara.reactive(0)  # the browser window's width in px (0 until the page reports it); per tab
projector = solara.reactive(None)  # projector mode: None = by the window's width, else the teacher's choice


@solara.component_vue("screen.vue")
def ScreenWidth(width: int = 0, on_width=None):
    """Reports the browser window's width (``screen.vue``)."""


def _narrow() -> bool:
    return 0 < screen.value < NARROW


def _projector() -> bool:
    return projector.value if projector.value is not None else screen.value >= PROJECTOR


def _scale() -> float:
    return PROJECTOR_SCALE if _projector() else 1.0


def _class_name() -> str:
    """The class folder's name (``make classroom CLASS=monday-3rd``)."""
    return os.environ.get("CLASSROOM_CLASS", "")


def _level() -> str:
    """The reading level a new tab starts with (``CLASSROOM_LEVEL=school``; each tab can change it)."""
    return os.environ.get("CLASSROOM_LEVEL", "university") or "university"


def _results() -> str:
    """Where class folders go (``results/classroom`` under the directory the app runs in)."""
    return os.environ.get("CLASSROOM_RESULTS", "results/classroom")


# ---- small pieces --------------------------------------------------------------------------------------
def _table(frame, key: str, numbers: tuple[str, ...] = ()) -> None:
    """A table as HTML (CSS class ``key``); columns in ``numbers`` to 2 decimals, right-aligned."""
    head = "".join(f"<th class='{'num' if c in numbers else ''}'>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column in frame.columns:
            value = row[column]
            if column in numbers:
                cells.append(f"<td class='num'>{float(value):.2f}</td>")
            else:  # a line may break after a slash ("activity/cooperation"), never inside a word
                cells.append(f"<td>{html.escape(str(value)).replace('/', '/<wbr>')}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    solara.HTML(tag="div", unsafe_innerHTML=f"<table class='classroom-table {key}'><thead><tr>{head}</tr></thead>"
                                            f"<tbody>{''.join(body)}</tbody></table>")


def _chart(png: bytes | None, key: str, empty: str) -> None:
    if png is None:
        solara.Markdown(empty)
        return
    data = base64.b64encode(png).decode()
    solara.HTML(tag="div", unsafe_innerHTML=f"<img class='{key}' alt='{html.escape(key)}' src='data:image/png;base64,{data}'>",
                classes=["classroom-chart"])


def _words(session: Session, text: str) -> str:
    """A text of the scenario at the session's reading level (school: without source notes)."""
    return school_text(text) if session.level == "school" else text


def _ends(issue, session: Session) -> None:
    low, high = issue.low or f"{issue.lower:g}", issue.high or f"{issue.upper:g}"
    low, high = _words(session, low), _words(session, high)
    solara.HTML(tag="div", unsafe_innerHTML=f"<span>{issue.lower:g} = {html.escape(low)}</span>"
                                            f"<span style='text-align:right'>{issue.upper:g} = {html.escape(high)}</span>",
                classes=["classroom-ends"])


# ---- the seat's panel --------------------------------------------------------------------------------
def seat_panel(session: Session, bump) -> None:
    model = session.model
    scenario = model.negotiation

    def act(action) -> None:
        action()
        bump()

    if model.seat is None:
        bundle = offer_bundle(model)
        solara.Markdown("**The deal on the table, issue by issue** (0–100 scales: see *What the numbers mean*)"
                        if bundle is not None else "**What each party wants** (no offer yet: press Step)")
        _table(bundle_table(model, bundle), "bundle-table")
        return
    me = scenario.actor(model.play_as).name
    if model.waiting == "respond":
        with solara.Row():
            solara.Button("Accept", color="success", on_click=lambda: act(lambda: session.respond(True)))
            solara.Button("Reject", color="error", on_click=lambda: act(lambda: session.respond(False)))
        offer = offer_bundle(model)
        own = float(model.actors[model.seat].utility(offer))
        solara.Markdown(f"This deal gives you **{own:.2f}**; no deal gives you **{model.disagreement[model.seat]:.2f}** "
                        "(1 = everything you want).")
        _table(bundle_table(model, offer), "bundle-table")
        return
    if model.waiting != "propose":
        solara.Markdown(f"You play **{html.escape(me)}**. Press **Step** or **▶ Play**: the game stops when an offer "
                        "needs your answer or it is your turn to propose.")
        _table(bundle_table(model, offer_bundle(model)), "bundle-table")
        return
    bundle = session.draft()
    solara.Button("Propose this deal", color="primary", on_click=lambda: act(session.propose))
    solara.Markdown("What your side believes each party gets from this deal (1 = all it wants) and the least it "
                    "is thought to accept now:")
    _table(seat_view(model, bundle), "seat-view", numbers=("gets", "accepts above"))
    for k, issue in enumerate(scenario.issues):
        title = html.escape(issue.label or issue.id)
        wanted = scenario.positions[model.seat, k]
        if issue.discrete:
            points = [point for _, point in issue.levels]
            names = [name.replace("_", " ") for name, _ in issue.levels]
            index = points.index(float(issue.snap(bundle[k])))
            solara.HTML(tag="div", unsafe_innerHTML=f"<b>{title}</b>: {points[index]:g} — <i>{html.escape(names[index])}</i>"
                                                    f" <span style='color:#555'>(you want {wanted:g})</span>",
                        classes=["classroom-issue"])
            # one step per level; the level's name is in the line above (tick labels would overlap). Levels
            # equally apart: the slider runs over their values, so that its bubble (on a phone) shows the value
            gaps = np.diff(points)
            if len(points) > 1 and np.allclose(gaps, gaps[0]) and gaps[0] > 0:
                solara.SliderFloat("", value=points[index], min=points[0], max=points[-1], step=float(gaps[0]),
                                   on_value=lambda v, k=k, points=points: act(lambda: session.set_draft(
                                       k, min(points, key=lambda p: abs(p - float(v))))))
            else:  # the bubble would show the level's number (0, 1, 2...), not its value: no bubble
                solara.SliderInt("", value=index, min=0, max=len(points) - 1, step=1, thumb_label=False,
                                 on_value=lambda i, k=k, points=points: act(lambda: session.set_draft(k, points[int(i)])))
            solara.HTML(tag="div", unsafe_innerHTML="<span>" + " · ".join(
                f"{p:g} {html.escape(n)}" for p, n in zip(points, names)) + "</span>", classes=["classroom-ends"])
        else:
            solara.HTML(tag="div", unsafe_innerHTML=f"<b>{title}</b>: {bundle[k]:g} "
                                                    f"<span style='color:#555'>(you want {wanted:g}; no deal "
                                                    f"{issue.status_quo:g})</span>", classes=["classroom-issue"])
            solara.SliderFloat("", value=float(bundle[k]), min=issue.lower, max=issue.upper,
                               step=max(issue.span / 100.0, 1e-9),
                               on_value=lambda v, k=k: act(lambda: session.set_draft(k, v)))
            _ends(issue, session)


def offer_panel(session: Session) -> None:
    model = session.model
    table = offer_table(model)
    if table.empty:
        solara.Markdown("**Offer on the table:** none yet.")
        return
    first = table.iloc[0]
    if not model.protocol.makes_offers:
        title = f"Predicted outcome after round {model.round} (weighted median of the positions)"
    else:
        proposer = table.set_index("party").loc[first["proposer"], "name"]
        title = f"Offer of round {first['round']} by {proposer}"
    solara.HTML(tag="div", unsafe_innerHTML=f"<b>{html.escape(title)}</b>", classes=["classroom-title"])
    _table(table[["name", "answer", "utility"]].rename(columns={"name": "party", "utility": "gets (0–1)"}),
           "offer-table", numbers=("gets (0–1)",))


# ---- tabs --------------------------------------------------------------------------------------------
def negotiate_tab(session: Session, bump) -> None:
    """The seat's panel beside the charts; stacked on a phone; the whole width before the first chart."""
    scale = _scale()
    utility, issues = session.chart("utility", scale), session.chart("issues", scale)

    def panel() -> None:
        with solara.Div(classes=["classroom-scroll"]):
            if session.model.waiting != "propose":  # when proposing, the sliders need the room
                offer_panel(session)
            seat_panel(session, bump)

    def charts() -> None:
        _chart(utility, "utility-chart", "*What each offer gives each party appears here after the first round.*")
        _chart(issues, "issues-chart", "")

    if _narrow():
        with solara.Column():
            panel()
            charts()
    elif utility is None and issues is None:
        with solara.Column():
            panel()
            charts()
    else:
        with solara.Columns([5, 7]):
            panel()
            with solara.Div():
                charts()


def issues_tab(session: Session) -> None:
    _chart(session.chart("all", _scale()), "all-issues-chart",
           "*Every issue's offers (or positions) by round appear here after the first round.*")


def tune_tab(session: Session, bump, actor_id: str, set_actor) -> None:
    model = session.model
    scenario = model.negotiation
    name = session.chosen.scenario
    tuning = session.tuning
    if name != model.scenario_name:
        solara.Markdown("Press **Reset** to start the chosen scenario first; then tune its actors here.")
        return
    if actor_id not in scenario.actor_ids:
        actor_id = scenario.actor_ids[0]
    index = scenario.actor_ids.index(actor_id)
    actor = scenario.actors[index]
    solara.Markdown(f"**Tune the actors of {html.escape(scenario.name or scenario.id)}.** Changes apply when you "
                    "press **Reset** (the exported report lists them as command-line overrides).")
    choices = {a.name or a.id: a.id for a in scenario.actors}
    solara.Select("Actor", value=actor.name or actor.id, values=list(choices),
                  on_value=lambda v: set_actor(choices[v]))

    def slider(label: str, key: str, default: float, low: float, high: float, step: float) -> None:
        def change(value: float) -> None:
            tuning.set(name, key, value)
            bump()

        value = tuning.get(name, key, default)
        solara.SliderFloat(f"{label}: {value:g}", value=value, min=low, max=high, step=step, on_value=change)

    slider("capability (its weight at the table)", f"actors.{actor_id}.capability", actor.capability, 0.05, 2.0, 0.05)
    if actor.outside_option.kind == "war":
        slider("optimism about war (1 = unbiased)", f"actors.{actor_id}.outside_option.optimism",
               actor.outside_option.optimism, 0.25, 4.0, 0.25)
    for k, issue in enumerate(scenario.issues):
        slider(f"how much it cares: {issue.label or issue.id}", f"actors.{actor_id}.salience.{issue.id}",
               float(scenario.saliences[index, k]), 0.0, 1.0, 0.05)

    def restore() -> None:
        tuning.clear(name)
        bump()

    solara.Button("Restore the scenario's values", on_click=restore)
    changed = tuning.overrides(name)
    if changed and session.level == "school":
        solara.Markdown("Changes (apply on Reset): " + "; ".join(_change_in_words(scenario, c) for c in changed) + ".")
    elif changed:
        solara.Markdown("Changes (apply on Reset): " + ", ".join(f"`{c}`" for c in changed))


def _change_in_words(scenario, override: str) -> str:
    """``scenario.actors.usa.salience.channels=0.3`` as "United States, how much it cares about
    Communication channels: 0.3"."""
    key, _, value = override.partition("=")
    parts = key.split(".")[2:]  # actor id, then what
    actor = scenario.actor(parts[0]).name or parts[0]
    what = {"capability": "capability", "outside_option.optimism": "optimism about war"}.get(".".join(parts[1:]))
    if what is None and parts[1] == "salience":
        what = f"how much it cares about {scenario.issue(parts[2]).label or parts[2]}"
    return f"{actor}, {what or ' '.join(parts[1:])}: {value}"


def help_tab(session: Session) -> None:
    model = session.model
    scenario = model.negotiation
    lines = [f"### {html.escape(scenario.name or scenario.id)}", html.escape(scenario.description or ""), "",
             "**Utility** (\"gets\"): how good a deal is for a party, from 0 (every issue as far from what it "
             "wants as possible) to 1 (every issue exactly as it wants), weighted by how much it cares about each "
             "issue. **Outside option**: what a party gets if the talks fail; it accepts nothing worth less.", "",
             "**Each issue is a scale**; its two ends mean:", ""]
    for issue in scenario.issues:
        levels = ""
        if issue.discrete:
            levels = " Possible outcomes: " + "; ".join(f"{p:g} {n.replace('_', ' ')}" for n, p in issue.levels) + "."
        low, high = html.escape(_words(session, issue.low or "")), html.escape(_words(session, issue.high or ""))
        lines.append(f"* **{html.escape(issue.label or issue.id)}** — {issue.lower:g}: {low}; "
                     f"{issue.upper:g}: {high}; no deal: {issue.status_quo:g}.{levels}")
    if session.level == "school":
        words = glossary_for("\n".join(lines))
        if words:
            lines += ["", "**Words to know**", ""] + [f"* **{html.escape(t)}**: {html.escape(m)}" for t, m in words.items()]
    solara.Markdown("\n".join(lines))
    solara.Markdown("**What each party wants** (its ideal point on each scale):")
    _table(wants_table(model), "wants-table")


# ---- sidebar -------------------------------------------------------------------------------------------
def controls(session: Session, bump, playing: bool, set_playing) -> None:
    """Reset, Step and ▶ Play: in the sidebar, or at the top of the page on a phone."""
    model = session.model
    solara.Button("Reset", color="primary", on_click=lambda: (set_playing(False), session.reset(), bump()))
    solara.Button("Step", color="primary", disabled=playing or model.finished,
                  on_click=lambda: (session.step(), bump()))
    solara.Button("❚❚ Pause" if playing else "▶ Play", color="primary",
                  disabled=(model.finished or bool(model.waiting)) and not playing,
                  on_click=lambda: set_playing(not playing))


def sidebar(session: Session, bump, playing: bool, set_playing, exporting: bool = False, start_export=None) -> None:
    model = session.model
    chosen = session.chosen
    with solara.Card("Game"):
        # the menus show titles; the session keeps the file names (scenario=..., protocol=... of the command line)
        titles = scenario_titles()
        by_title = {title: name for name, title in titles.items()}
        solara.Select("Scenario", value=titles.get(chosen.scenario, chosen.scenario), values=list(titles.values()),
                      on_value=lambda v: (session.choose("scenario", by_title.get(v, v)), bump()))
        protocols = {PROTOCOL_TITLES[name]: name for name in PROTOCOLS}
        solara.Select("Protocol", value=PROTOCOL_TITLES.get(chosen.protocol, chosen.protocol), values=list(protocols),
                      on_value=lambda v: (session.choose("protocol", protocols.get(v, v)), bump()))
        solara.Text(PROTOCOL_HELP.get(chosen.protocol, ""), style={"font-size": "13px", "color": "#555"})
        solara.InputText("Seed (same seed, same game)", value=chosen.seed,
                         on_value=lambda v: (session.choose("seed", v), bump()))
        limit = f"{chosen.rounds}" if chosen.rounds else f"the scenario's ({model.cfg.rounds})"
        solara.SliderInt(f"Round limit: {limit}", value=chosen.rounds, min=0, max=60,
                         on_value=lambda v: (session.choose("rounds", v), bump()))
        seats = session.seat_choices()
        shown = next((text for text, actor in seats.items() if actor == session.applied.play_as), list(seats)[0])
        if model.protocol.seats:
            solara.Select("Play as", value=shown, values=list(seats),
                          on_value=lambda v: (set_playing(False), session.choose("play_as", seats[v]), bump()))
        else:
            solara.Text(f"Play as: needs the offers protocol (this game: {model.protocol.name}).")
        pending = session.pending()
        if pending:
            solara.Warning("Press Reset to start this game: " + ", ".join(pending) + ".", dense=True)
        if not _narrow():  # on a phone they sit at the top of the page
            with solara.Row(justify="space-between"):
                controls(session, bump, playing, set_playing)
    with solara.Card("Screen and reading"):
        solara.Switch(label="Projector mode (larger text and charts)", value=_projector(),
                      on_value=lambda v: projector.set(bool(v)))
        solara.Select("Reading level", value=session.level, values=list(LEVELS),
                      on_value=lambda v: (session.choose("level", v), bump()))
    with solara.Card("Export"):
        where = f"class {session.class_name}" if session.class_name else "no class folder set"
        with solara.Column(gap="8px", align="start"):  # one line each (a Text is inline: the button wrapped beside it)
            solara.Text(f"Writes the game's report ({where}).", style={"font-size": "13px"})
            # written in a thread (Page's export task): the button is greyed and spins until the report is written
            solara.Button("Export report", color="primary", disabled=exporting, loading=exporting,
                          on_click=start_export or (lambda: (session.export(), bump())))
            if exporting:
                solara.Text("Writing the report (a few seconds)…", style={"font-size": "13px"})
            if session.exported is not None and Path(session.exported).exists():
                solara.FileDownload(Path(session.exported).read_bytes(), filename="debrief.html",
                                    label="Download the report")


# ---- the page ----------------------------------------------------------------------------------------
SESSIONS: "weakref.WeakSet[Session]" = weakref.WeakSet()  # the open tabs' sessions (a test counts them)


def _new_session() -> Session:
    try:
        session = Session(class_name=_class_name(), root=_results(), replicates=REPLICATES, level=_level())
    except ConfigError as error:  # a bad CLASSROOM_LEVEL: say so on the page, read at university level
        session = Session(class_name=_class_name(), root=_results(), replicates=REPLICATES)
        session.error = f"CLASSROOM_LEVEL: {error}"
    SESSIONS.add(session)
    return session


@solara.component
def Page():
    """One tab: its own session (settings and game)."""
    session = solara.use_memo(_new_session, [])
    solara.use_effect(lambda: session.close, [])  # the tab closed: free its game (test_classroom_app)
    exporting, set_exporting = solara.use_state(False)
    revision = solara.use_reactive(0)
    playing, set_playing_state = solara.use_state(False)
    stop = solara.use_memo(threading.Event, [])  # set by Pause, Reset, a seat change: ends the Play loop
    tab, set_tab = solara.use_state(0)
    actor_id, set_actor = solara.use_state("")
    revision.value  # noqa: B018 - read so that every bump redraws

    def bump() -> None:
        revision.value = revision.value + 1

    def set_playing(value: bool) -> None:
        (stop.clear if value else stop.set)()
        set_playing_state(value)

    def play() -> None:
        """▶ Play: a round every PLAY_INTERVAL seconds until the person's turn, the end or Pause."""
        if not playing:
            return
        while not stop.wait(PLAY_INTERVAL):
            go_on = session.play_tick()
            bump()
            if not go_on:
                break
        if stop.is_set():  # Pause, Reset or a seat change
            return
        if session.model.waiting:
            session.message = "Paused: it is your turn. " + session.message
        set_playing(False)
        bump()

    solara.lab.use_task(play, dependencies=[playing], prefer_threaded=True)

    def export() -> None:
        """Export, in a thread: the page shows the button busy meanwhile (a second click does nothing)."""
        if exporting:
            session.export()
            set_exporting(False)
            bump()

    solara.lab.use_task(export, dependencies=[exporting], prefer_threaded=True)

    solara.Title("Crisis bargaining classroom")
    solara.Style(CSS)
    ScreenWidth(width=screen.value, on_width=screen.set)
    with solara.AppBar():
        solara.AppBarTitle("Crisis bargaining classroom")
    with solara.Sidebar():
        with solara.Div(classes=["classroom-side"] + (["classroom-side-projector"] if _projector() else [])):
            try:
                sidebar(session, bump, playing, set_playing, exporting, lambda: set_exporting(True))
            except Exception as error:  # noqa: BLE001 - a message in the page, never a page-wide traceback
                solara.Error(f"{type(error).__name__}: {error}")
    page_classes = ["classroom-page"] + (["classroom-narrow"] if _narrow() else []) + \
        (["classroom-projector"] if _projector() else [])
    with solara.Div(classes=page_classes):
        body(session, bump, playing, set_playing, tab, set_tab, actor_id, set_actor)


def body(session: Session, bump, playing: bool, set_playing, tab: int, set_tab, actor_id: str, set_actor) -> None:
    """The page beside the sidebar: the turn line, the last round, the tabs."""
    if _narrow():
        with solara.Div(classes=["classroom-controls"]):
            controls(session, bump, playing, set_playing)
    try:
        with solara.Div():
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(session.status()), classes=["classroom-status"])
            line = " ".join(part for part in (session.message,) if part) or session.last_round()
            if line:
                solara.HTML(tag="div", unsafe_innerHTML=html.escape(line), classes=["classroom-last"])
            if session.error:
                solara.Error(session.error)
    except Exception as error:  # noqa: BLE001
        solara.Error(f"{type(error).__name__}: {error}")
    tabs = [("Negotiate", lambda: negotiate_tab(session, bump)),
            ("Every issue by round", lambda: issues_tab(session)),
            ("Tune the actors", lambda: tune_tab(session, bump, actor_id, set_actor)),
            ("What the numbers mean", lambda: help_tab(session))]
    with solara.lab.Tabs(value=tab, on_value=set_tab):
        for index, (name, draw) in enumerate(tabs):
            with solara.lab.Tab(name):
                if index != tab:  # only the tab on screen is drawn
                    continue
                try:
                    draw()
                except Exception as error:  # noqa: BLE001
                    solara.Error(f"Something went wrong drawing this tab: {type(error).__name__}: {error}. "
                                 "Press Reset.")


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's layout signature
    """Solara's app layout, its sidebar closed on a phone (it would cover the page) and open elsewhere."""
    return solara.AppLayout(children=children, sidebar_open=not (0 < screen.value < NARROW))


__all__ = ["Page", "Layout", "NOBODY"]
