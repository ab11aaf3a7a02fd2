"""Driving a classroom session as a student would, without a browser (tests and tools/bench_classroom_export.py)."""

from __future__ import annotations


def play_turn(session, accept: bool = True) -> None:
    """One turn through the session's controls: answer the offer (``accept``), propose the sliders' bundle
    (the seat's ideal unless moved), or Step."""
    if session.model.waiting == "respond":
        session.respond(accept)
    elif session.model.waiting == "propose":
        session.propose()
    else:
        session.step()


def play_to_end(session, accept: bool = True) -> None:
    """Play the session's game to its end, answering every offer with ``accept``; fails on a control's error."""
    while session.model.running:
        play_turn(session, accept)
        assert session.error == "", session.error
