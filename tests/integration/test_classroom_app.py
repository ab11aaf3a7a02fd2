"""The classroom app without a browser: the session's rules for every control (sim/classroom/session.py)
and the page's components rendered with solara.render (Reset, scenario change + Reset, seat switch,
Step while an answer is pending, Play stopping at the student's turn, a finished game restarted,
errors shown as a message, two sessions never sharing state)."""

from __future__ import annotations

import ipyvuetify as v
import pytest

solara = pytest.importorskip("solara")

from sim.classroom import NOBODY, ClassroomModel, Tuning  # noqa: E402
from apps import classroom as app  # noqa: E402
from sim.classroom.session import Session  # noqa: E402
from tests.support.classroom import play_turn  # noqa: E402


@solara.component
def Layout():
    """What `solara run` puts on screen: the page inside an AppLayout (which holds the sidebar)."""
    with solara.AppLayout():
        app.Page()


def render():
    return solara.render(Layout(), handle_error=False)[1]


def click(rc, label):
    rc.find(v.Btn, children=[label]).widget.click()


def html_text(rc) -> str:
    return "\n".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)


def buttons(rc) -> list[str]:
    return [b.children[0] for b in rc.find(v.Btn).widgets]


def select(rc, label) -> v.Select:
    return rc.find(v.Select, label=label).widget


def seat_sliders(rc) -> list:
    return [s for s in rc.find(v.Slider).widgets if not s.label]  # the sidebar's slider has a label


# ---- the session's rules ---------------------------------------------------------------------------------
def test_reset_applies_the_chosen_settings_and_keeps_the_seat():
    session = Session()
    session.choose("play_as", "ukraine")
    session.step()
    session.choose("scenario", "classroom/deadline_pressure")
    session.choose("seed", "7")
    assert session.pending() == ['scenario "Classroom: deadline pressure - a short deadline and a costlier war for '
                                 'Russia"', "seed 7"]
    assert session.model.scenario_name == "classroom/jan2022"  # not before Reset
    session.reset()
    model = session.model
    assert (model.scenario_name, model.seed, model.max_rounds, model.round) == ("classroom/deadline_pressure", 7, 8, 0)
    assert model.play_as == "ukraine" and session.pending() == [] and session.error == ""


def test_reset_applies_the_actor_sliders_and_a_protocol_without_seats_drops_the_seat():
    session = Session()
    session.choose("play_as", "russia")
    session.tuning.set("classroom/jan2022", "actors.russia.capability", 0.9)
    assert session.pending() == ["actor settings (Tune the actors)"]
    session.reset()
    assert session.model.negotiation.actor("russia").capability == 0.9 and session.pending() == []
    session.choose("protocol", "eu")
    session.reset()
    assert session.model.protocol.name == "eu" and session.model.play_as == NOBODY
    assert session.chosen.play_as == NOBODY and "Play as needs the offers protocol" in session.message


def test_step_while_an_answer_is_pending_says_what_is_awaited():
    session = Session()
    session.choose("play_as", "nato")
    session.step()  # the U.S. proposes; NATO must answer
    assert session.model.waiting == "respond"
    before = session.model.round
    assert not session.step()
    assert session.model.round == before
    assert session.message == "Waiting for you: Accept or Reject the offer on the table."
    assert "Your answer: United States has made an offer" in session.status()


def test_play_stops_at_the_students_turn_and_at_the_end():
    session = Session()
    session.choose("play_as", "russia")  # the U.S. and NATO propose first: Russia answers in round 1
    ticks = 0
    while session.play_tick():
        ticks += 1
    assert ticks == 0 and session.model.waiting == "respond"
    session.respond(False)
    session.choose("play_as", NOBODY)  # nobody seated: Play runs to the end
    while session.play_tick():
        pass
    assert session.model.finished and not session.play_tick()
    assert "The game is over" in session.status() and "Press Reset" in session.status()


def test_a_finished_game_restarts_with_reset():
    session = Session()
    session.choose("rounds", 2)
    session.reset()
    while session.step():
        pass
    assert session.model.finished and session.message == "The game is over. Press Reset to start a new one."
    session.reset()
    assert session.model.running and session.model.round == 0 and session.model.max_rounds == 2


def test_a_seat_switch_mid_game_starts_a_new_game_in_the_new_seat():
    session = Session()
    session.choose("play_as", "ukraine")
    assert session.message == "Now you play Ukraine."
    for _ in range(2):
        session.step()
        session.respond(False)
    session.choose("play_as", "russia")
    assert session.model.play_as == session.applied.play_as == session.chosen.play_as == "russia"
    assert session.model.round == 0 and "game as Ukraine was left unfinished" in session.message


def test_bad_input_is_one_line_in_the_session_not_an_exception():
    session = Session()
    session.choose("seed", "x")
    session.reset()
    assert session.error == "classroom: seed: 'x' is not a whole number" and session.model.seed == 1
    session.choose("seed", "3")
    session.reset()
    assert session.error == "" and session.model.seed == 3


@pytest.mark.subprocess  # the export's manifest asks git for the commit
def test_export_mid_game_goes_to_the_class_folder(tmp_path):
    session = Session(class_name="monday-3rd", root=tmp_path, replicates=3)
    session.choose("play_as", "russia")
    session.step()
    session.respond(False)  # round 1 played; round 2 waits for Russia's answer to NATO
    session.step()
    path = session.export()
    assert path.parent.parent == tmp_path / "monday-3rd" and path.parent.name.endswith(f"_russia_{session.id}")
    text = path.read_text()
    assert "offers</b>: in progress at round 2" in text and "not compared with the model agent" in text
    assert "the model agent in russia" not in text and not (path.parent / "replicates.parquet").exists()
    with pytest.raises(Exception, match="CLASS: class: 'a/b' holds / or"):
        from sim.classroom import class_folder
        class_folder("a/b")


# ---- the page --------------------------------------------------------------------------------------
def test_two_sessions_never_share_state():
    first, second = render(), render()
    select(first, "Play as").v_model = "Ukraine"
    click(first, "Step")
    assert "Your answer: United States has made an offer" in html_text(first)
    assert select(second, "Play as").v_model.startswith("nobody")
    assert "Round 1 of 20." in html_text(second) and "has made an offer" not in html_text(second)
    click(second, "Step")
    assert "Round 2 of 20" in html_text(second) and "Round 1 of 20. Your answer" in html_text(first)


def test_the_page_names_things_for_students():
    rc = render()
    click(rc, "Step")
    text = html_text(rc)
    assert "United States" in text and "<td>usa</td>" not in text and "open door" in text
    assert "open_door" not in text and "Page 0" not in text
    assert text.count("offer-table") == 1  # the offer is shown once
    assert {"Reset", "Step", "▶ Play", "Export report"} <= set(buttons(rc))
    labels = [w.label for w in rc.find(v.Select).widgets]
    assert labels == ["Scenario", "Protocol", "Play as", "Reading level"]


def test_scenario_change_shows_a_notice_until_reset():
    rc = render()
    select(rc, "Scenario").v_model = WARMUP
    notice = rc.find(v.Alert).widgets
    assert notice and f'Press Reset to start this game: scenario "{WARMUP}".' in str([w.children for w in notice])
    click(rc, "Reset")
    assert not rc.find(v.Alert).widgets
    assert select(rc, "Play as").v_model == "nobody (watch the model agents)"
    assert select(rc, "Play as").items == ["nobody (watch the model agents)", "West", "Russia"] or \
        len(select(rc, "Play as").items) == 3


def test_play_as_ukraine_reject_three_offers_then_propose_with_the_sliders():
    rc = render()
    select(rc, "Play as").v_model = "Ukraine"
    for proposer in ("United States", "NATO", "Russia"):
        click(rc, "Step")
        assert {"Accept", "Reject"} <= set(buttons(rc))
        assert f"Your answer: {proposer} has made an offer" in html_text(rc) and "your answer?" in html_text(rc)
        click(rc, "Step")  # pressing Step again only says what is awaited
        assert "Waiting for you: Accept or Reject" in html_text(rc)
        click(rc, "Reject")
    click(rc, "Step")
    assert "Propose this deal" in buttons(rc) and "Your turn to propose" in html_text(rc)
    sliders = seat_sliders(rc)
    assert len(sliders) == 11 and "seat-view" in html_text(rc) and "likely" in html_text(rc)
    sliders[3].v_model = 40  # missiles (continuous)
    click(rc, "Propose this deal")
    text = html_text(rc)
    assert "Offer of round 4 by Ukraine (you)" in text and "Round 4: you proposed a deal" in text


def test_a_discrete_issue_slider_moves_between_its_labelled_levels():
    rc = render()
    select(rc, "Play as").v_model = "Ukraine"
    for _ in range(3):
        click(rc, "Step")
        click(rc, "Reject")
    click(rc, "Step")
    enlargement = seat_sliders(rc)[0]
    # five levels 25 apart; Ukraine wants 95 (nearest level 100). The slider runs over the levels' values, so
    # that its bubble shows the value (75), not the level's number (3)
    assert (enlargement.min, enlargement.max, enlargement.step, enlargement.v_model) == (0, 100, 25, 100)
    assert enlargement.thumb_label
    assert "0 permanent ban · 25 neutrality with guarantees · 50 moratorium · 75 open door · 100 membership plan" \
        in html_text(rc)
    enlargement.v_model = 25
    assert "25 — <i>neutrality with guarantees</i>" in html_text(rc)
    seat_sliders(rc)[0].v_model = 60  # between levels: the nearest level
    assert "50 — <i>moratorium</i>" in html_text(rc)
    click(rc, "Propose this deal")
    assert "Round 4: you proposed a deal" in html_text(rc)


def test_a_proposal_made_in_the_app_is_accepted_by_the_model():
    session = Session()
    session.choose("scenario", "classroom/warmup_two_by_two")
    session.reset()
    session.choose("play_as", "west")
    while session.model.waiting != "propose":
        session.step()
        if session.model.waiting == "respond":
            session.respond(False)
    model = session.model
    other = 1 - model.seat
    for k in range(model.negotiation.n_issues):  # give the other side everything it wants
        session.set_draft(k, model.negotiation.positions[other, k])
    session.propose()
    assert model.outcome().agreement and not model.running and "Agreement." in session.message


def test_tuning_records_slider_changes_as_overrides():
    tuning = Tuning()
    tuning.set("classroom/jan2022", "actors.usa.capability", 0.6)
    assert tuning.overrides("classroom/jan2022") == ["scenario.actors.usa.capability=0.6"]
    assert ClassroomModel(tuning=tuning).negotiation.capabilities[0] == 0.6


def test_an_error_while_drawing_is_a_message_in_the_page(monkeypatch):
    from sim.classroom import charts

    def broken(model, **kwargs):
        raise ValueError("chart exploded")

    monkeypatch.setattr(charts, "utility_chart", broken)
    rc = render()
    assert any("chart exploded" in str(w.children) for w in rc.find(v.Alert).widgets)
    assert "Export report" in buttons(rc)  # the rest of the page is still there


def test_round_axes_show_whole_rounds_even_after_one_round():
    # after round 1 the charts span [0.5, 1.5]: a plain integer locator falls back to 0.5, 0.6, ...
    from matplotlib.figure import Figure

    from sim.classroom.charts import style_axes

    ax = Figure().subplots()
    ax.plot([1], [0.5])
    ax.set_xlim(0.5, 1.5)
    style_axes(ax)
    shown = [t for t in ax.get_xticks() if 0.5 <= t <= 1.5]
    assert shown == [1.0]


def test_closing_a_tab_frees_its_game():
    """Solara closes a tab's render context when the tab closes (or its kernel is culled): the page's
    effect cleanup lets go of the session's game and drawn charts, the bulk of a tab's memory. (The
    Session object itself stays referenced by solara.render's test context, which is never closed.)"""
    import gc
    import weakref

    before = set(app.SESSIONS)
    box, rc = solara.render(Layout(), handle_error=False)
    (session,) = set(app.SESSIONS) - before
    click(rc, "Step")
    game = weakref.ref(session.model)
    assert session._charts  # the Negotiate tab's charts, drawn
    rc.close()
    gc.collect()
    assert game() is None and session.model is None and not session._charts
    assert session.play_tick() is False  # a Play loop still running stops


@pytest.mark.subprocess  # the export's manifest asks git for the commit
def test_export_is_busy_while_it_runs_and_a_second_click_writes_nothing(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("CLASSROOM_RESULTS", str(tmp_path))
    monkeypatch.setenv("CLASSROOM_CLASS", "3ème-B")
    rc = render()
    click(rc, "Step")
    click(rc, "Export report")
    button = rc.find(v.Btn, children=["Export report"]).widget
    shown = " ".join(str(w.children) for w in rc.find(v.Html).widgets)
    assert button.disabled and button.loading and "Writing the report" in shown
    button.click()  # a double click: the button is busy, nothing more is written
    deadline = time.time() + 120
    while rc.find(v.Btn, children=["Export report"]).widget.disabled and time.time() < deadline:
        time.sleep(0.2)
    assert not rc.find(v.Btn, children=["Export report"]).widget.disabled
    assert len(list((tmp_path / "3ème-B").iterdir())) == 1
    assert "written to" in html_text(rc)


def test_a_chart_redrawn_on_its_kept_figure_is_the_chart_drawn_afresh():
    # the kept figure (shared by games alike) pastes its static pixels back and draws only the data: after
    # several rounds, with another game drawn on it in between, it must show exactly what a new figure
    # shows (no trace of the other data, nothing missing)
    import io

    import numpy as np
    from PIL import Image

    from sim.classroom import charts

    session, other = Session(), Session()
    session.choose("play_as", "ukraine")
    other.choose("play_as", "ukraine")
    pixels = lambda png: np.asarray(Image.open(io.BytesIO(png)))  # noqa: E731
    for _ in range(6):
        play_turn(session, accept=False)
        other.step() if not other.model.waiting else other.respond(True)
        other.chart("utility"), other.chart("issues")
        for name, draw in (("utility", charts.utility_chart), ("issues", charts.issues_chart)):
            kept = session.chart(name)
            assert session.chart(name) is kept  # the same state: not drawn again
            if kept is not None:
                fresh = draw(session.model, canvas=charts.Canvas())  # a new figure, drawn whole
                assert np.array_equal(pixels(kept), pixels(fresh)), name


WARMUP = "Classroom warm-up: two actors, two issues, crossed saliences"  # classroom/warmup_two_by_two


def test_the_menus_show_titles_and_reset_starts_the_file_behind_the_title():
    """The Scenario and Protocol menus list the scenarios' titles (their YAML's name) and the protocols in
    words, never a file name; the title chosen starts its file's game on Reset."""
    from sim.classroom import scenario_titles

    before = set(app.SESSIONS)
    rc = render()
    (session,) = set(app.SESSIONS) - before
    titles = scenario_titles()
    items = select(rc, "Scenario").items
    assert items == list(titles.values()) and len(set(items)) == len(items) > 5
    assert select(rc, "Scenario").v_model == "Classroom: Russia vs U.S./NATO/Ukraine, Jan 2022 (4 parties, 11 issues)"
    assert not [item for item in items + select(rc, "Protocol").items if "/" in item and " " not in item
                or item in ("offers", "eu", "exchange") or "_" in item]
    select(rc, "Scenario").v_model = WARMUP
    select(rc, "Protocol").v_model = "Exchange (trading issues)"
    click(rc, "Reset")
    assert not rc.find(v.Alert).widgets
    assert session.model.scenario_name == "classroom/warmup_two_by_two" and session.model.protocol.name == "exchange"
    assert select(rc, "Scenario").v_model == WARMUP and select(rc, "Protocol").v_model == "Exchange (trading issues)"


def page_words(rc) -> str:
    """Every text the page shows a student (HTML, Markdown, labels, choices), tags and scripts removed."""
    import re

    texts = []
    kinds = (solara.widgets.HTML, v.VuetifyTemplate, v.Html, v.Select, v.Slider, v.Btn, v.Alert, v.Tab, v.TextField,
             v.Switch)
    for widget in [w for kind in kinds for w in rc.find(kind).widgets]:
        for trait in ("unsafe_innerHTML", "template", "label", "children", "items", "v_model", "value"):
            value = getattr(widget, trait, None)
            values = value if isinstance(value, (list, tuple)) else [value]
            texts += [v_ for v_ in values if isinstance(v_, str)]
    text = "\n".join(texts)
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


def test_school_level_text_has_no_code_names_true_or_false():
    """Reading level school, a game as Russia that ends without agreement (every offer rejected, own ideal
    proposed), every tab, an actor slider moved: no actor or issue id, cause code or True/False reaches
    the page."""
    import re

    rc = render()
    select(rc, "Reading level").v_model = "school"
    select(rc, "Scenario").v_model = "Classroom: deadline pressure - a short deadline and a costlier war for Russia"
    click(rc, "Reset")
    select(rc, "Play as").v_model = "Russia"
    scenario = ClassroomModel(scenario="classroom/deadline_pressure").negotiation
    shown = [page_words(rc)]
    for _ in range(40):
        labels = buttons(rc)
        if "Reject" in labels:
            click(rc, "Reject")
        elif "Propose this deal" in labels:
            click(rc, "Propose this deal")
        elif "The game is over" in html_text(rc):
            break
        else:
            click(rc, "Step")
        shown.append(page_words(rc))
    assert "The game is over" in html_text(rc) and "no agreement" in html_text(rc)
    tabs = rc.find(v.Tabs).widget
    for index in (1, 2, 3):
        tabs.v_model = index
        if index == 2:  # Tune the actors: a change, listed in words
            rc.find(v.Slider, label="capability (its weight at the table): 1").widget.v_model = 0.6
        shown.append(page_words(rc))
    text = "\n".join(shown)
    found = [a for a in scenario.actor_ids if re.search(rf"\b{a}\b", text)]
    found += [i for i in scenario.issue_ids if "_" in i and i in text]
    found += re.findall(r"\b[a-z_]+:[a-z_.,]+\b", text)  # cause codes: walkout:russia, outside_option:russia
    found += re.findall(r"\bTrue\b|\bFalse\b|§|\[[DJK]\]|scenario\.actors", text)
    assert found == [], sorted(set(found))
    assert "Words to know" in text and "Russia" in text
