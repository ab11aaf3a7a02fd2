"""What the classroom app shows of a game, in plain words and small tables: whose turn it is, what
happened last round, the offer on the table with each party's answer and utility, what each party wants,
utilities by round, and what the seat believes of a proposal it might make."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.classroom.model import NOBODY, ClassroomModel
from sim.engine.model import BargainingModel
from sim.engine.metrics import ending_reason
from sim.kernels.utility import war_preferred
from sim.report.wording import cause_in_words


def actor_name(model: BargainingModel, actor_id: str) -> str:
    """The scenario's name of an actor ("United States" for ``usa``); the id if it has none."""
    if actor_id in model.negotiation.actor_ids:
        return model.negotiation.actor(actor_id).name or actor_id
    return actor_id


def pending_bundle(model: BargainingModel) -> np.ndarray | None:
    """The offer waiting for the seat's answer (None when nothing waits)."""
    return model.protocol.pending_offer()


def last_offer(model: BargainingModel) -> dict[str, Any] | None:
    """The last offer made and answered (from the event log): round, proposer, bundle, responses."""
    events = model.events_table()
    if "kind" not in events or not (events["kind"] == "offer").any():
        return None
    row = events[events["kind"] == "offer"].iloc[-1]
    scenario = model.negotiation
    return {"round": int(row["round"]), "proposer": str(row["proposer"]), "agreement": bool(row["agreement"]),
            "bundle": np.array([row[f"offer_{i}"] for i in scenario.issue_ids], dtype=float),
            "responses": {a: str(row[f"response_{a}"]) for a in scenario.actor_ids}}


_ANSWER = {"accept": "accepted", "reject": "rejected", "not_needed": "was not asked",
           "walked_out": "has walked out", "proposer": "proposed"}


def what_happened(model: BargainingModel) -> str:
    """One sentence on the last round played ("" before the first)."""
    last = last_offer(model)
    if last is None:
        if not model.protocol.makes_offers and model.round > 0:
            return f"Round {model.round}: every party moved its positions (see the charts)."
        return ""
    me = model.play_as if isinstance(model, ClassroomModel) else NOBODY
    parts = []
    for actor, answer in last["responses"].items():
        if answer == "proposer":
            continue
        who = "you" if actor == me else actor_name(model, actor)
        parts.append(f"{who} {_ANSWER.get(answer, answer)}")
    proposer = "you" if last["proposer"] == me else actor_name(model, last["proposer"])
    verb = "proposed" if proposer != "you" else "proposed"
    text = f"Round {last['round']}: {proposer} {verb} a deal; " + ", ".join(parts) + "."
    if last["agreement"]:
        text += " Agreement."
    return text


def whose_turn(model: ClassroomModel, level: str = "university") -> str:
    """One sentence: what the game waits for now (``level="school"``: the end of a game in words only,
    without codes or war values)."""
    if not model.running:
        result = model.outcome()
        scenario = model.negotiation
        names = {a.id: a.name for a in scenario.actors}
        if result.agreement:
            return f"The game is over after round {model.round}: agreement. Press Reset to play again."
        t = model.round if result.round_index is None else result.round_index
        labels = {issue.id: issue.label or issue.id for issue in scenario.issues}
        if level == "school":
            fighters = {a.id for a in scenario.actors if a.outside_option.kind == "war"}
            starts = [actor_name(model, scenario.actor_ids[i]) for i in np.flatnonzero(war_preferred(scenario, t))]
            reason = (f"{' and '.join(starts)} {'starts' if len(starts) == 1 else 'start'} a war" if starts
                      else "nobody starts a war" if fighters else "")
            return (f"The game is over after round {model.round}: no agreement. "
                    f"{_sentence(cause_in_words(result.breakdown_cause, names, 'school', labels, fighters))}"
                    + (f" {_sentence(reason)}" if reason else "") + " Press Reset to play again.")
        reason = ending_reason(model.negotiation, False, t)
        return (f"The game is over after round {model.round}: no agreement — "
                f"{cause_in_words(result.breakdown_cause, names, issues=labels)}" + (f"; {reason}" if reason else "")
                + ". Press Reset to play again.")
    round_text = f"Round {model.round + 1} of {model.max_rounds}."
    if model.waiting == "respond":
        proposer = actor_name(model, model.negotiation.actor_ids[model.protocol.next_proposer()])
        return f"{round_text} Your answer: {proposer} has made an offer — Accept or Reject it."
    if model.waiting == "propose":
        return f"{round_text} Your turn to propose: set the sliders and press Propose."
    if model.protocol.makes_offers:
        proposer = model.protocol.next_proposer()
        if proposer is not None:
            who = model.negotiation.actor_ids[proposer]
            name = "you" if who == model.play_as else actor_name(model, who)
            return f"{round_text} Next to propose: {name}. Press Step (or ▶ Play)."
        return f"{round_text} The next proposer is drawn at random. Press Step (or ▶ Play)."
    return f"{round_text} Press Step (or ▶ Play): every party adjusts its positions."


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def offer_table(model: BargainingModel) -> pd.DataFrame:
    """The offer on the table: the one awaiting the seat's answer, else the last one made, with each
    party's answer and its utility (0 = worst possible, 1 = all it wants); for eu/exchange, the current
    predicted outcome (weighted median of the positions) with each party's utility.

    Columns: round, proposer (actor id), party (actor id), name (shown), answer, utility."""
    scenario = model.negotiation
    ids = list(scenario.actor_ids)
    me = getattr(model, "play_as", NOBODY)
    names = [actor_name(model, a) + (" (you)" if a == me else "") for a in ids]
    if not model.protocol.makes_offers:
        bundle = model.predicted_median()
        values = [float(actor.utility(bundle)) for actor in model.actors]
        return pd.DataFrame({"round": model.round, "proposer": "", "party": ids, "name": names,
                             "answer": "", "utility": values})
    pending = pending_bundle(model)
    if pending is not None:
        bundle = pending
        proposer = ids[model.protocol.next_proposer()]
        answers = {a: ("proposed" if a == proposer else "your answer?" if a == me else "waiting") for a in ids}
        round_number = model.round + 1
    else:
        last = last_offer(model)
        if last is None:
            return pd.DataFrame(columns=["round", "proposer", "party", "name", "answer", "utility"])
        bundle, proposer, round_number = last["bundle"], last["proposer"], last["round"]
        answers = {a: _ANSWER.get(r, r) for a, r in last["responses"].items()}
    values = [float(actor.utility(bundle)) for actor in model.actors]
    return pd.DataFrame({"round": round_number, "proposer": proposer, "party": ids, "name": names,
                         "answer": [answers[a] for a in ids], "utility": values})


def offer_bundle(model: BargainingModel) -> np.ndarray | None:
    """The bundle :func:`offer_table` describes (None before the first offer)."""
    if not model.protocol.makes_offers:
        return model.predicted_median()
    pending = pending_bundle(model)
    if pending is not None:
        return pending
    last = last_offer(model)
    return None if last is None else last["bundle"]


def value_text(issue, value: float) -> str:
    """``75 (open door)`` for a discrete issue, ``40.3`` otherwise (to one decimal)."""
    text = f"{round(float(value), 1):g}"
    if issue.discrete:
        text += f" ({issue.level_label(value).replace('_', ' ')})"
    return text


def wants_table(model: BargainingModel) -> pd.DataFrame:
    """Per issue: what each party wants (its position), by the parties' names."""
    scenario = model.negotiation
    return pd.DataFrame([{"issue": issue.label or issue.id,
                          **{actor_name(model, a): value_text(issue, scenario.positions[i, k])
                             for i, a in enumerate(scenario.actor_ids)}} for k, issue in enumerate(scenario.issues)])


def bundle_table(model: BargainingModel, bundle: np.ndarray | None) -> pd.DataFrame:
    """Per issue (the scenario's labels): the bundle's value, the status quo (no deal) and what the
    seat wants (with nobody seated and nothing on the table yet, what each party wants)."""
    scenario = model.negotiation
    me = getattr(model, "play_as", NOBODY)
    wanting = [me] if me != NOBODY else ([] if bundle is not None else list(scenario.actor_ids))
    rows = []
    for k, issue in enumerate(scenario.issues):
        row = {"issue": issue.label or issue.id}
        if bundle is not None:
            row["on the table"] = value_text(issue, bundle[k])
        row["no deal"] = value_text(issue, issue.status_quo)
        for actor in wanting:
            i = scenario.actor_ids.index(actor)
            column = "you want" if actor == me else f"{actor_name(model, actor)} wants"
            row[column] = value_text(issue, scenario.positions[i, k])
        rows.append(row)
    return pd.DataFrame(rows)


def utilities_by_round(model: BargainingModel) -> pd.DataFrame:
    """Each party's utility by round: of that round's offer (offers), or of the predicted outcome
    (eu, exchange: the weighted median of the positions then)."""
    scenario = model.negotiation
    ids = list(scenario.actor_ids)
    if model.protocol.makes_offers:
        events = model.events_table()
        if "kind" not in events or not (events["kind"] == "offer").any():
            return pd.DataFrame(columns=["round", *ids])
        offers = events[events["kind"] == "offer"]
        return pd.DataFrame({"round": offers["round"].to_numpy(),
                             **{a: offers[f"utility_{a}"].to_numpy() for a in ids}})
    frame = model.datacollector.get_model_vars_dataframe()
    if frame.empty:
        return pd.DataFrame(columns=["round", *ids])
    medians = np.stack(frame["median"].to_numpy())  # (R, K)
    values = np.stack([actor.utility(medians) for actor in model.actors], axis=1)  # (R, N)
    return pd.DataFrame({"round": np.arange(len(medians)), **{a: values[:, i] for i, a in enumerate(ids)}})


def seat_view(model: ClassroomModel, bundle: np.ndarray) -> pd.DataFrame:
    """What the seated actor believes of a bundle it might propose: each party's utility, the least it
    is thought to accept this round, and so whether it would (the model's beliefs; with belief noise
    they differ from the truth). The seat's own row is its true utility and outside option."""
    protocol = model.protocol
    seat = model.seat
    view = protocol.believed_by(seat, bundle)
    ids = model.negotiation.actor_ids
    consent_needed = getattr(protocol.params, "consent", "unanimity") != "majority"
    rows = []
    for i, actor in enumerate(ids):
        if i == seat:
            own = float(model.actors[i].utility(model.negotiation.snap(np.asarray(bundle, float)[None]))[0])
            rows.append({"party": f"{actor_name(model, actor)} (you)", "gets": own,
                         "accepts above": float(model.disagreement[i]), "verdict": "your proposal"})
            continue
        verdict = "likely accepts" if view["accepts"][i] else "likely rejects"
        if consent_needed and not view["needed"][i]:
            verdict = "consent not needed"
        rows.append({"party": actor_name(model, actor), "gets": float(view["utility"][i]),
                     "accepts above": float(view["threshold"][i]), "verdict": verdict})
    return pd.DataFrame(rows)
