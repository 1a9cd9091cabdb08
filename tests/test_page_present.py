"""Present page: the meeting story, step by step, with a big legend and no sidebar."""
from __future__ import annotations

from html import escape

from apptest_helpers import (
    demo_copy,
    empty_workspace,
    layer,
    layer_ids,
    run_page,
    texts,
)

import ui
from maps.story import STEPS

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
