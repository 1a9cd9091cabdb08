"""Present page: the meeting story, step by step, with a big legend and no sidebar."""
from __future__ import annotations

import time
from html import escape

import pytest
from apptest_helpers import (
    demo_copy,
    empty_workspace,
    layer,
    layer_ids,
    run_page,
    texts,
)

import ui
from errors import UsageError
from maps.story import STEPS, next_step, step_from_url

PRESENT = "pages/present.py"


def html(at) -> str:
    return "\n".join(e.proto.body for e in at.get("html"))


def test_present_steps_through_the_story(tmp_path):
    at = run_page(PRESENT, demo_copy(tmp_path))
    assert 'data-testid="stSidebar"' in html(at) and "display: none" in html(at)  # no sidebar clutter
    assert "West of Ireland · The region" in html(at)
    assert "font-size:1.6rem" in html(at)  # the big legend
    assert at.button(key="present.prev").disabled

    seen = []
    for index, step in enumerate(STEPS):
        assert at.session_state[ui.PRESENT_STEP] == index
        assert escape(step.title) in html(at)
        seen.append(layer_ids(at))
        if index < len(STEPS) - 1:
            at.button(key="present.next").click().run()
            assert not at.exception
    region, hubs, training, networks, gaps, sites = seen
    assert "region-boundary" in region and not [i for i in region if i.endswith("-existing")]
    assert "hubs-existing" in hubs and "hubs-discs" in hubs and "training-existing" not in hubs
    assert "training-existing" in training and "networks-existing" in networks
    assert "gap-areas" in gaps and "uncovered-settlements" in gaps
    assert "suggested-sites" in sites and len(layer(at, "suggested-sites")["data"]) == 3
    assert "would bring" in html(at)
    assert at.button(key="present.next").disabled
    # Points are drawn twice as large for the projector.
    assert layer(at, "hubs-existing")["getRadius"] == 14

    at.button(key="present.prev").click().run()
    assert at.session_state[ui.PRESENT_STEP] == len(STEPS) - 2


def test_present_with_an_empty_workspace(tmp_path):
    at = run_page(PRESENT, empty_workspace(tmp_path))
    assert "holds no features yet" in texts(at)
    assert not at.get("deck_gl_json_chart")


def test_present_controls_sit_in_a_fixed_bar(tmp_path):
    at = run_page(PRESENT, demo_copy(tmp_path))
    block = next(b for b in at.main.children.values() if getattr(b, "key", None) == "present-bar")
    keys = [getattr(child, "key", None) for child in block.children.values()]
    for key in ("present.first", "present.prev", "present.next", "present.last", ui.PRESENT_AUTO,
                ui.PRESENT_INTERVAL):
        assert key in keys
    assert [c for c in block.children.values() if type(c).__name__ == "PageLink"]  # Leave meeting mode
    page = html(at)
    assert ".st-key-present-bar {position: fixed" in page and "padding: .75rem 1.5rem 7.5rem" in page
    assert "Step 1 of 6" in page
    assert not at.caption  # no small grey captions on the slide
    script = next(h.proto for h in at.get("html") if "<script>" in h.proto.body)
    assert script.unsafe_allow_javascript and 'PageDown: "next"' in script.body and 'Home: "first"' in script.body

    at.button(key="present.last").click().run()
    assert at.session_state[ui.PRESENT_STEP] == len(STEPS) - 1 and at.button(key="present.last").disabled
    assert f"Step {len(STEPS)} of {len(STEPS)}" in html(at)
    at.button(key="present.first").click().run()
    assert at.session_state[ui.PRESENT_STEP] == 0 and at.button(key="present.first").disabled


def test_present_auto_advance_wraps_round_and_stops_when_off(tmp_path):
    last = len(STEPS) - 1
    long_ago = (last, time.monotonic() - 60)
    # Off: however long the last step has been shown, it stays.
    at = run_page(PRESENT, demo_copy(tmp_path), **{ui.PRESENT_STEP: last, ui.PRESENT_AUTO: False,
                                                 ui.PRESENT_INTERVAL: 10, ui.PRESENT_SHOWN: long_ago})
    assert at.session_state[ui.PRESENT_STEP] == last
    assert escape(STEPS[last].title) in html(at)

    # On, but shown for less than the interval: it stays too.
    at.session_state[ui.PRESENT_SHOWN] = (last, time.monotonic())
    at.toggle(key=ui.PRESENT_AUTO).set_value(True).run()
    assert at.session_state[ui.PRESENT_STEP] == last

    # On and shown longer than the interval: after the last step comes the first.
    at.session_state[ui.PRESENT_SHOWN] = long_ago
    at.run()
    assert not at.exception
    assert at.session_state[ui.PRESENT_STEP] == 0
    assert escape(STEPS[0].title) in html(at) and at.query_params["step"] == "1"
    shown, since = at.session_state[ui.PRESENT_SHOWN]
    assert shown == 0 and time.monotonic() - since < 60  # the new step's clock starts afresh


def test_present_keeps_the_step_in_the_url(tmp_path):
    at = run_page(PRESENT, demo_copy(tmp_path))
    assert at.query_params["step"] == "1"
    at.button(key="present.next").click().run()
    assert at.query_params["step"] == "2"
    assert at.query_params["region"] == "west-ireland"  # the sidebar's URL state is kept

    # A link or a reload naming a step opens it.
    at.query_params["step"] = "5"
    at.run()
    assert at.session_state[ui.PRESENT_STEP] == 4 and escape(STEPS[4].title) in html(at)

    # A step the story does not have: one line saying so, and the slide stays.
    for bad in ("9", "0", "two"):
        at.query_params["step"] = bad
        at.run()
        assert not at.exception
        assert [w.value for w in at.warning] == [
            f"?step={bad} in the address is not a step of the story: use 1 to 6. Showing the step this session had."]
        assert at.session_state[ui.PRESENT_STEP] == 4 and at.query_params["step"] == "5"
    at.run()
    assert not at.warning


def test_step_order_and_url_values():
    count = len(STEPS)
    assert [next_step(i, count) for i in range(count)] == [1, 2, 3, 4, 5, 5]
    assert [next_step(i, count, wrap=True) for i in range(count)] == [1, 2, 3, 4, 5, 0]
    assert step_from_url("1", count) == 0 and step_from_url(" 6 ", count) == 5
    for bad in ("0", "7", "-1", "2.5", "", "three"):
        with pytest.raises(UsageError, match=r"use 1 to 6"):
            step_from_url(bad, count)
