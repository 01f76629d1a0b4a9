"""Settings: the Faust data directory lives under the state directory and follows it."""
from __future__ import annotations

from pathlib import Path

from infra.settings import load


def test_faust_keeps_its_data_under_the_state_directory_per_namespace(tmp_path, monkeypatch):
    monkeypatch.delenv("DRAMA_FAUST_DATA_DIR", raising=False)
    default = load(state_dir=tmp_path)
    assert default.faust_app_id == "drama-loop"
    assert default.faust_app_dir == tmp_path / "faust" / "drama-loop"
    spaced = load(state_dir=tmp_path, namespace="t1")
    assert spaced.faust_app_id == "drama-loop-t1"
    assert spaced.faust_app_dir == tmp_path / "faust" / "drama-loop-t1"


def test_the_faust_data_directory_can_be_set_and_reaches_child_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("DRAMA_FAUST_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = load(namespace="t2")
    assert settings.faust_app_dir == tmp_path / "elsewhere" / "drama-loop-t2"
    # A worker started with settings.as_env() resolves the same directory.
    monkeypatch.delenv("DRAMA_FAUST_DATA_DIR")
    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    assert load().faust_app_dir == settings.faust_app_dir
    assert Path(settings.as_env()["DRAMA_FAUST_DATA_DIR"]).is_absolute()


def test_clickhouse_grants_the_projects_database_whichever_namespace_starts_it(tmp_path):
    """A test that starts ClickHouse again from its namespace's settings must not narrow the writer's
    and analyst's grants to the namespace's database (the demo's analyst was refused its own)."""
    from infra.services import INFRA, render

    users = render(INFRA / "clickhouse" / "users.xml", tmp_path / "users.xml",
                   load(state_dir=tmp_path, namespace="t1")).read_text()
    assert users.count("<database>drama</database>") == 2 and "drama_t1" not in users
