"""The classroom app: Mesa's SolaraViz around a :class:`~sim.classroom.ClassroomModel`.

    make classroom                      # http://127.0.0.1:8765, this machine only
    make classroom HOST=0.0.0.0         # the class's LAN: students open http://<teacher's IP>:8765

Each browser tab renders :func:`Page` afresh, so each gets its own model and settings (two tabs
never share state). Sidebar: scenario, protocol, seed and round limit (applied by Reset), Step / Play /
Reset. Page 0: the negotiation (play-as panel, the offer on the table with each party's response, the
offers or positions per issue by round, utilities by round, Export report). Page 1: sliders for each
actor's capability, optimism about its outside option and saliences (applied by Reset).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import solara
from mesa.visualization import SolaraViz
from mesa.visualization import solara_viz as _solara_viz
from mesa.visualization.utils import force_update, update_counter

from sim import plots
from sim.classroom import (DEFAULT_SCENARIO, NOBODY, PROTOCOLS, SEATED_PROTOCOLS, ClassroomModel, Tuning,
                           bundle_table, export, offer_table, pending_offer, scenarios, seat_view,
                           utilities_by_round)

REPLICATES = 30  # model-agent runs the exported report compares a played seat with
SCROLL = {"height": "100%", "overflow-y": "auto", "padding": "0 0.5rem"}  # a panel scrolls inside its grid cell

# Page layouts (vue-grid-layout units: 12 columns, ~33 px rows). Mesa 3.5 gives every component the same
# small cell; the play-as panel needs a tall one. Mesa looks this function up at call time.
_LAYOUTS = {
    5: [  # page 0: seat panel | offer on the table; offers by issue | utilities, export
        {"i": 0, "x": 0, "y": 0, "w": 6, "h": 17}, {"i": 1, "x": 6, "y": 0, "w": 6, "h": 17},
        {"i": 2, "x": 0, "y": 17, "w": 8, "h": 24}, {"i": 3, "x": 8, "y": 17, "w": 4, "h": 12},
        {"i": 4, "x": 8, "y": 29, "w": 4, "h": 6},
    ],
    1: [{"i": 0, "x": 0, "y": 0, "w": 8, "h": 30}],  # page 1: tuning sliders
}
_mesa_layout = _solara_viz.make_initial_grid_layout


def _layout(count: int) -> list[dict]:
    if count in _LAYOUTS:
        return [{**cell, "moved": False} for cell in _LAYOUTS[count]]
    return _mesa_layout(count)


_solara_viz.make_initial_grid_layout = _layout


def _frame(frame, key: str = "") -> None:
    """A small table (pandas) as HTML, numbers to 3 decimals."""
    text = frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0, classes=f"classroom-table {key}")
    solara.HTML(tag="div", unsafe_innerHTML=text)


def _status(model: ClassroomModel) -> str:
    protocol = model.protocol
    if not model.running:
        result = model.outcome()
        what = "agreement" if result.agreement else f"no agreement ({result.breakdown_cause})"
        return f"Finished after round {model.round}: {what}."
    text = f"Round {model.round + 1} of {model.max_rounds}."
    if protocol.name == "offers" and protocol.pending is None:
        proposer = protocol.upcoming_proposer()
        if proposer is not None:
            text += f" Proposer: {model.negotiation.actor_ids[proposer]}."
    return text


def _seat(model: ClassroomModel) -> None:
    scenario = model.negotiation
    message, set_message = solara.use_state("")
    solara.Markdown(f"**{html.escape(scenario.name or scenario.id)}** — {_status(model)}")
    if model.protocol.name not in SEATED_PROTOCOLS:
        solara.Markdown("Play-as needs the **offers** protocol: choose it in the sidebar and press Reset.")
        return
    seats = [NOBODY, *scenario.actor_ids]

    def choose(actor: str) -> None:
        model.tuning.play_as[model.scenario_name] = actor
        if actor == NOBODY:
            set_message("Seat choice 'nobody' applies at the next Reset.")
        elif model.seat is None or scenario.actor_ids[model.seat] != actor:
            if model.seat is not None:
                set_message("You can switch seats at the next Reset.")
            else:
                model.take_seat(actor)
                set_message(f"You now play {actor}.")
        force_update()

    solara.Select("Play as", value=model.play_as, values=seats, on_value=choose)
    if message:
        solara.Text(message)
    if model.seat is None:
        solara.Markdown("Every party is a model agent. Choose a seat to play one yourself.")
        return
    me = scenario.actor_ids[model.seat]
    if model.waiting == "respond":
        offer = model.protocol.pending
        proposer = scenario.actor_ids[model.protocol.current_proposer]
        own = float(model.actors[model.seat].utility(offer))
        solara.Markdown(f"**{proposer} offers you this bundle.** Your utility {own:.3f}; "
                        f"your outside option {model.disagreement[model.seat]:.3f}.")
        with solara.Row():
            solara.Button("Accept", color="success", on_click=lambda: (model.respond(True), force_update()))
            solara.Button("Reject", color="error", on_click=lambda: (model.respond(False), force_update()))
        _frame(bundle_table(model, offer)[["issue", "offer", "status quo", me]], "pending-offer")
        return
    if model.waiting != "propose":
        solara.Markdown(f"You play **{me}**. Press **Step**: when an offer needs your answer or it is "
                        "your turn to propose, your controls appear here.")
        return
    if model.draft is None:
        model.draft = scenario.snap(scenario.positions[model.seat][None])[0]
    bundle = np.array(model.draft, dtype=float)
    solara.Markdown(f"**Your turn, {me}: build a bundle and propose it.**")

    def set_issue(k: int, value: float) -> None:
        model.draft = bundle.copy()
        model.draft[k] = value
        force_update()

    for k, issue in enumerate(scenario.issues):
        title = issue.label or issue.id
        if issue.discrete:
            points = [point for _, point in issue.levels]
            ticks = [f"{point:g}" for point in points]
            level = issue.level_label(bundle[k]).replace("_", " ")
            solara.Markdown(f"**{html.escape(title)}**: {bundle[k]:g} — *{html.escape(level)}*  \n"
                            + " · ".join(f"{point:g} {name.replace('_', ' ')}" for name, point in issue.levels))
            solara.SliderValue("", value=f"{issue.snap(bundle[k]):g}", values=ticks,
                               on_value=lambda v, k=k: set_issue(k, float(v)))
        else:
            solara.Markdown(f"**{html.escape(title)}**: {bundle[k]:g} "
                            f"({html.escape(issue.low[:40] or str(issue.lower))} … "
                            f"{html.escape(issue.high[:40] or str(issue.upper))})")
            step = max(issue.span / 100.0, 1e-9)
            solara.SliderFloat("", value=float(bundle[k]), min=issue.lower, max=issue.upper, step=step,
                               on_value=lambda v, k=k: set_issue(k, v))
    solara.Markdown("What your side believes each party gets from this bundle, and the least it is "
                    "thought to accept this round:")
    _frame(seat_view(model, bundle), "seat-view")

    def send() -> None:
        model.propose(bundle)
        force_update()

    solara.Button("Propose", color="primary", on_click=send)


def _offer(model: ClassroomModel) -> None:
    table = offer_table(model)
    if table.empty:
        solara.Markdown("**Offer on the table:** none yet. Press Step.")
        return
    first = table.iloc[0]
    title = ("Predicted outcome (weighted median of positions)" if model.protocol.name != "offers"
             else f"Offer of round {first['round']} by {first['proposer']}")
    solara.Markdown(f"**{title}**")
    _frame(table[["party", "response", "utility"]], "offer-table")
    bundle = pending_offer(model) if model.protocol.name == "offers" else model.predicted_median()
    _frame(bundle_table(model, bundle), "bundle-table")


@solara.component
def IssuesChart(model: ClassroomModel):
    """Offers per issue by round (offers) or positions per issue by round (eu, exchange)."""
    update_counter.get()
    if model.protocol.name == "offers":
        events = model.events_table()
        if "kind" not in events or not (events["kind"] == "offer").any():
            solara.Markdown("Offers per issue appear here after the first round.")
            return
        figure = plots.offers_figure(events, model.issues, columns=3)
    else:
        figure = plots.positions_figure(model.rounds_table(), model.issues, columns=3)
    solara.FigureMatplotlib(figure, format="png", dpi=70)


@solara.component
def UtilityChart(model: ClassroomModel):
    """Each party's utility by round."""
    update_counter.get()
    table = utilities_by_round(model)
    if table.empty:
        solara.Markdown("Each party's utility by round appears here after the first round.")
        return
    title = ("utility of each round's offer" if model.protocol.name == "offers"
             else "utility of the predicted outcome by round")
    solara.FigureMatplotlib(plots.utilities_figure(table, title), format="png", dpi=80)


def _export(model: ClassroomModel) -> None:
    path, set_path = solara.use_state(None)
    busy, set_busy = solara.use_state(False)

    def run_export() -> None:
        set_busy(True)
        try:
            set_path(str(export(model, replicates=REPLICATES)))
        finally:
            set_busy(False)

    solara.Button("Export report", color="primary", on_click=run_export, disabled=busy)
    if path:
        solara.Markdown(f"Report written to `{path}` (opens without network access).")
        solara.FileDownload(Path(path).read_bytes(), filename="debrief.html", label="Download the report")


def _tune(model: ClassroomModel) -> None:
    scenario = model.negotiation
    name = model.scenario_name
    tuning = model.tuning
    actor_id, set_actor = solara.use_state(scenario.actor_ids[0])
    revision, set_revision = solara.use_state(0)
    if actor_id not in scenario.actor_ids:
        actor_id = scenario.actor_ids[0]
    index = scenario.actor_ids.index(actor_id)
    actor = scenario.actors[index]
    solara.Markdown(f"**Tune the actors of {html.escape(scenario.name or scenario.id)}.** Changes apply when "
                    "you press **Reset** (the run is rebuilt with them; the exported command line lists them).")
    solara.Select("Actor", value=actor_id, values=list(scenario.actor_ids), on_value=set_actor)

    def slider(label: str, key: str, default: float, low: float, high: float, step: float) -> None:
        def change(value: float) -> None:
            tuning.set(name, key, value)
            set_revision(revision + 1)

        solara.SliderFloat(label, value=tuning.get(name, key, default), min=low, max=high, step=step,
                           on_value=change)

    slider("capability", f"actors.{actor_id}.capability", actor.capability, 0.05, 2.0, 0.05)
    if actor.outside_option.kind == "war":
        slider("optimism about war", f"actors.{actor_id}.outside_option.optimism",
               actor.outside_option.optimism, 0.25, 4.0, 0.25)
    for k, issue in enumerate(scenario.issues):
        slider(f"salience: {issue.label or issue.id}", f"actors.{actor_id}.salience.{issue.id}",
               float(scenario.saliences[index, k]), 0.0, 1.0, 0.05)

    def restore() -> None:
        tuning.clear(name)
        set_revision(revision + 1)

    solara.Button("Restore the scenario's values", on_click=restore)
    changed = tuning.overrides(name)
    if changed:
        solara.Markdown("Pending changes: " + ", ".join(f"`{c}`" for c in changed))


def _scrolling(body, name: str, doc: str):
    """A page component: ``body(model)`` inside a cell that scrolls, redrawn on every step."""

    @solara.component
    def Panel(model: ClassroomModel):
        update_counter.get()
        with solara.Div(style=SCROLL):
            body(model)

    Panel.__name__ = Panel.__qualname__ = name
    Panel.__doc__ = doc
    return Panel


SeatPanel = _scrolling(_seat, "SeatPanel", "Play-as: choose a seat; propose with one slider per issue; accept or reject.")
OfferPanel = _scrolling(_offer, "OfferPanel", "The offer on the table with each party's response and utility.")
ExportPanel = _scrolling(_export, "ExportPanel", "Export report: results folder + self-contained HTML debrief.")
TunePanel = _scrolling(_tune, "TunePanel", "Each actor's capability, optimism and saliences (applied on Reset).")


def model_params(tuning: Tuning) -> dict:
    return {
        "scenario": {"type": "Select", "value": DEFAULT_SCENARIO, "values": scenarios(), "label": "Scenario"},
        "protocol": {"type": "Select", "value": PROTOCOLS[0], "values": list(PROTOCOLS), "label": "Protocol"},
        "seed": {"type": "InputText", "value": "1", "label": "Seed"},
        "rounds": {"type": "SliderInt", "value": 0, "min": 0, "max": 60, "step": 1,
                   "label": "Round limit (0 = the scenario's)"},
        "tuning": tuning,  # fixed: this session's slider settings (Page 1)
    }


@solara.component
def Page():
    """One session: its own settings and model."""
    tuning = solara.use_memo(Tuning, [])
    model = solara.use_memo(lambda: ClassroomModel(tuning=tuning), [])
    SolaraViz(
        model,
        components=[(SeatPanel, 0), (OfferPanel, 0), (IssuesChart, 0), (UtilityChart, 0), (ExportPanel, 0),
                    (TunePanel, 1)],
        model_params=model_params(tuning),
        name="Crisis bargaining classroom",
    )

