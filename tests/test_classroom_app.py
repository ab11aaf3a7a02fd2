"""The classroom app's components, rendered without a browser (solara.render): the page renders, Step
advances the model, a play-as proposal is made through the sliders and accepted by the model, and two
sessions do not share a model."""

from __future__ import annotations

import ipyvuetify as v
import pytest

solara = pytest.importorskip("solara")

from mesa.visualization.solara_viz import ModelController  # noqa: E402

from sim.classroom import ClassroomModel, Tuning  # noqa: E402
from sim.classroom import app  # noqa: E402


@solara.component
def Harness(model):
    """What SolaraViz puts on screen, minus the app bar: the sidebar's controller and our panels."""
    reactive = solara.use_reactive(model)
    ModelController(reactive, model_parameters=solara.use_reactive({}), play_interval=solara.use_reactive(100),
                    render_interval=solara.use_reactive(1), use_threads=solara.use_reactive(False))
    app.SeatPanel(reactive.value)
    app.OfferPanel(reactive.value)
    app.UtilityChart(reactive.value)
    app.IssuesChart(reactive.value)


def click(rc, label):
    rc.find(v.Btn, children=[label]).widget.click()


def html_text(rc) -> str:
    return "\n".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)


def buttons(rc) -> list[str]:
    return [b.children[0] for b in rc.find(v.Btn).widgets]


def test_the_page_renders_with_its_own_model_per_session():
    _, first = solara.render(app.Page(), handle_error=False)
    _, second = solara.render(app.Page(), handle_error=False)
    assert "Export report" in buttons(first)
    seat = {rc: rc.find(v.Select, label="Play as").widget for rc in (first, second)}
    seat[first].v_model = "ukraine"  # the first session's model takes a seat ...
    first.find(v.Html, children=["You now play ukraine."]).assert_single()
    assert seat[second].v_model == "nobody"  # ... the second session's model is untouched
    assert not second.find(v.Html, children=["You now play ukraine."]).widgets


def test_step_updates_the_offer_table_and_charts():
    model = ClassroomModel()
    _, rc = solara.render(Harness(model), handle_error=False)
    assert "offer-table" not in html_text(rc)
    click(rc, "Step")
    assert model.round == 1
    text = html_text(rc)
    assert "offer-table" in text and "usa" in text and "proposer" in text
    first = html_text(rc)
    click(rc, "Step")
    assert model.round == 2 and html_text(rc) != first  # the table now shows nato's offer
    assert "<td>nato</td>\n      <td>proposer</td>" in html_text(rc)


def test_play_as_ukraine_reject_three_offers_then_propose_with_the_sliders():
    model = ClassroomModel(play_as="ukraine")
    _, rc = solara.render(Harness(model), handle_error=False)
    for _ in range(3):
        click(rc, "Step")
        assert {"Accept", "Reject"} <= set(buttons(rc))
        assert "your answer?" in html_text(rc)
        click(rc, "Reject")
    click(rc, "Step")
    assert "Propose" in buttons(rc)
    sliders = rc.find(v.Slider).widgets
    assert len(sliders) == model.negotiation.n_issues
    assert "seat-view" in html_text(rc) and "likely" in html_text(rc)
    # move the missiles slider (continuous) to 40 and propose
    k = model.negotiation.issue_ids.index("missiles")
    sliders[k].v_model = 40
    click(rc, "Propose")
    last = model.events_table().iloc[-1]
    assert last["proposer"] == "ukraine" and last["offer_missiles"] == 40.0
    assert model.round == 4 and "<td>ukraine</td>\n      <td>proposer</td>" in html_text(rc)


def test_a_discrete_issue_slider_moves_between_its_labelled_levels():
    model = ClassroomModel(play_as="ukraine")
    _, rc = solara.render(Harness(model), handle_error=False)
    for _ in range(3):
        click(rc, "Step")
        click(rc, "Reject")
    click(rc, "Step")
    enlargement = rc.find(v.Slider).widgets[0]
    assert enlargement.tick_labels == ["0", "25", "50", "75", "100"]
    enlargement.v_model = 1  # neutrality with guarantees
    assert model.draft[0] == 25.0
    click(rc, "Propose")
    assert model.events_table().iloc[-1]["offer_enlargement"] == 25.0


def test_a_proposal_made_in_the_app_is_accepted_by_the_model():
    model = ClassroomModel(scenario="classroom/warmup_two_by_two", play_as="west")
    _, rc = solara.render(Harness(model), handle_error=False)
    while "Propose" not in buttons(rc):
        click(rc, "Step")
        if "Reject" in buttons(rc):
            click(rc, "Reject")
    other = 1 - model.seat
    sliders = rc.find(v.Slider).widgets
    for k, slider in enumerate(sliders):  # give the other side everything it wants
        issue = model.negotiation.issues[k]
        target = model.negotiation.positions[other, k]
        levels = [point for _, point in issue.levels]
        slider.v_model = levels.index(issue.snap(target)) if issue.discrete else float(target)
    assert "likely accepts" in html_text(rc)
    click(rc, "Propose")
    assert model.outcome().agreement and not model.running


def test_tune_panel_records_slider_changes_as_overrides():
    tuning = Tuning()
    model = ClassroomModel(tuning=tuning)
    _, rc = solara.render(app.TunePanel(model), handle_error=False)
    sliders = rc.find(v.Slider).widgets
    sliders[0].v_model = 0.6  # capability of the first actor (usa)
    assert tuning.overrides("classroom/jan2022") == ["scenario.actors.usa.capability=0.6"]
    assert ClassroomModel(tuning=tuning).negotiation.capabilities[0] == 0.6
