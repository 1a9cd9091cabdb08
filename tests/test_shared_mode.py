"""Shared mode (ATLAS_CONFIG): sign-in before any data, roles on every page, no workspace the config does not list."""
from __future__ import annotations

import shutil

import pytest
from apptest_helpers import DEMO, TIMEOUT_S, texts
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

import access
import ui
from atlas import data_ops
from tests.conftest import ROOT
from workspace import Workspace

FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
PASSWORDS = {"vera": "viewer-pass-1", "ed": "editor-pass-1", "ada": "admin-pass-1"}


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """A deployment: two workspaces (copies of the demo) and a viewer, an editor and an admin."""
    config = tmp_path / "atlas.json"
    access.init_config(config)
    for name in ("west", "south"):
        folder = tmp_path / name
        shutil.copytree(DEMO, folder)
        access.add_workspace(config, name, str(folder))
    for (name, password), role in zip(PASSWORDS.items(), ("viewer", "editor", "admin")):
        access.add_user(config, name, role=role, password=password, hasher=FAST)
    monkeypatch.setenv(ui.CONFIG_ENV, str(config))
    return tmp_path


def _app(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def _sign_in(at: AppTest, name: str, password: str | None = None) -> AppTest:
    at.run()
    at.text_input(key="atlas.sign_in.name").input(name)
    at.text_input(key="atlas.sign_in.password").input(password or PASSWORDS[name])
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _param(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", ["app.py", "pages/map.py", "pages/data.py", "pages/export.py", "pages/present.py"])
def test_signed_out_requests_see_no_data(shared, page):
    at = _app()
    at.run()
    if page != "app.py":
        _goto(at, page)
    assert not at.dataframe and not at.metric and not at.get("deck_gl_json_chart")
    assert [b.label for b in at.button] == ["Sign in"]
    assert "sign in to see its maps" in texts(at)


def test_a_wrong_password_is_refused_and_never_kept(shared):
    at = _sign_in(_app(), "ed", "not-the-password")
    assert any("not right" in e.value for e in at.error)
    assert not at.metric
    assert ui.USER not in at.session_state


def test_signing_in_shows_the_first_workspace_and_who_is_signed_in(shared):
    at = _sign_in(_app(), "vera")
    assert "Signed in as **vera** (viewer)" in texts(at)
    assert at.selectbox(key=ui.WORKSPACE).options == ["south", "west"]  # the config lists them sorted
    assert len(at.metric) == 8
    assert _param(at, "workspace") == "south"
    # The password is not kept in the session: its field is gone, and the user and token hold no trace of it.
    assert "atlas.sign_in.password" not in at.session_state
    assert PASSWORDS["vera"] not in repr(at.session_state[ui.USER]) + at.session_state[ui.TOKEN]


def test_a_viewer_sees_every_page_but_no_control_that_changes_data(shared):
    at = _sign_in(_app(), "vera")
    _goto(at, "pages/data.py")
    labels = {b.label for b in at.button}
    assert not {"Assign layer", "Save changes", "Undo"} & labels
    assert not at.get("file_uploader")
    assert "signed in as a viewer" in texts(at)
    assert len(at.dataframe) >= 2  # the changes and the import history are visible
    _goto(at, "pages/gaps.py")
    assert not any(b.label.startswith("Add to the workspace") for b in at.button)


def test_a_viewer_is_refused_by_the_service_layer_too(shared):
    config = access.load_config(shared / "atlas.json")
    location = access.workspace_location(config, "west")
    viewer = Workspace(location, user="vera", role="viewer")
    fid = viewer.features()["feature_id"].iloc[0]
    with pytest.raises(access.AccessDenied):
        data_ops.edit_feature(viewer, fid, {"town": "Boyle"})
    with pytest.raises(access.AccessDenied):
        data_ops.assign_layer(viewer, [fid], "hubs")
    with pytest.raises(access.AccessDenied):
        data_ops.revert_change(viewer, 1)
    with pytest.raises(access.AccessDenied):
        data_ops.import_uploads(viewer, [("x.csv", b"Name,Latitude,Longitude\nA,53,-8\n")])
    assert len(Workspace(location).history()) == len(Workspace(location).imports())  # nothing was written


def test_an_editor_sees_the_controls_and_can_undo(shared):
    at = _sign_in(_app(), "ed")
    _goto(at, "pages/data.py")
    assert at.get("file_uploader")
    assert any(b.label == "Undo" for b in at.button)
    assert not any("Activity across" in e.proto.expandable.label for e in at.get("expandable"))


def test_an_admin_sees_who_did_what_across_workspaces(shared):
    config = access.load_config(shared / "atlas.json")
    south = Workspace(access.workspace_location(config, "south"), user="ed", role="editor")
    fid = south.features()["feature_id"].iloc[0]
    south.edit_features({fid: {"town": "Karlshamn"}})
    at = _sign_in(_app(), "ada")
    _goto(at, "pages/data.py")
    activity = at.dataframe[-3].value
    assert set(activity["workspace"]) == {"west", "south"}
    assert "ed" in set(activity["who"])


@pytest.mark.parametrize("trick", ["../../etc", "/etc", "postgresql://evil@10.0.0.1/db", "West", "west/../south",
                                   "%2e%2e%2fetc"])
def test_no_path_or_url_opens_a_workspace_the_config_does_not_list(shared, trick):
    at = _sign_in(_app(workspace=trick), "ed")
    assert any("is not a workspace of this atlas" in w.value for w in at.warning)
    assert at.session_state[ui.WORKSPACE] in ("west", "south")
    with pytest.raises(access.ConfigError):
        access.workspace_location(access.load_config(shared / "atlas.json"), trick)


def test_a_link_opens_the_named_workspace_and_region(shared):  # west is not the first workspace
    at = _sign_in(_app(workspace="west", region="lodz"), "vera")
    assert at.session_state[ui.WORKSPACE] == "west" and at.session_state[ui.REGION] == "lodz"
    _goto(at, "pages/present.py")
    assert "workspace: west" in texts(at)
    assert (_param(at, "workspace"), _param(at, "region")) == ("west", "lodz")


def test_signing_out_returns_to_the_form(shared):
    at = _sign_in(_app(), "ed")
    next(b for b in at.button if b.label == "Sign out").click()
    at.run()
    assert [b.label for b in at.button] == ["Sign in"] and not at.metric
