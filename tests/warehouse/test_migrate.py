import pytest

from warehouse.metrics import GRAINS
from warehouse.migrate import MIGRATIONS, MigrationError, checksum, files, ledger, migrate, statements


def test_statements_split_on_semicolons_at_line_ends_and_drop_comments():
    sql = "-- a comment\nCREATE TABLE a (x UInt8) ENGINE = Log;\n\nCREATE VIEW b AS\nSELECT ';' AS x FROM a;\n"
    assert statements(sql) == ["CREATE TABLE a (x UInt8) ENGINE = Log", "CREATE VIEW b AS\nSELECT ';' AS x FROM a;"]


def test_migrations_apply_once_in_order_on_a_fresh_database(stack, run_id):
    from infra.settings import load
    from warehouse.client import connect
    settings = load(namespace=f"mig{run_id}")
    try:
        versions = [path.stem for path in sorted(MIGRATIONS.glob("*.sql"))]
        assert migrate(settings) == versions
        assert migrate(settings) == []
        client = connect(settings)
        assert [v for (v,) in client.execute("SELECT version FROM schema_migrations ORDER BY version")] == versions
        assert client.execute("SELECT count() FROM title_metrics_1m") == [(0,)]
    finally:
        connect(stack, "default").execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")


@pytest.fixture
def empty_database(stack, run_id):
    from infra.settings import load
    from warehouse.client import connect
    settings = load(namespace=f"mig{run_id}")
    connect(settings, "default").execute(f"CREATE DATABASE {settings.clickhouse_db}")
    try:
        yield settings, connect(settings)
    finally:
        connect(stack, "default").execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")


def tables(client) -> set[str]:
    return {name for (name,) in client.execute("SELECT name FROM system.tables WHERE database = currentDatabase()")}


def test_a_ledger_from_a_newer_release_is_refused_and_nothing_applied(empty_database):
    settings, client = empty_database
    ledger(client)
    client.execute("INSERT INTO schema_migrations (version, checksum) VALUES", [("9999_from_the_future", "ab")])
    with pytest.raises(MigrationError, match="9999_from_the_future.*newer release"):
        migrate(settings)
    assert tables(client) == {"schema_migrations"}


def test_an_applied_file_that_changed_is_refused(empty_database):
    settings, client = empty_database
    migrate(settings)
    first = sorted(files())[0]
    client.execute("INSERT INTO schema_migrations (version, checksum) VALUES", [(first, "f" * 64)])
    with pytest.raises(MigrationError, match=f"changed since they were applied: {first}.*new NNNN"):
        migrate(settings)


def test_versions_applied_before_checksums_get_them_and_nothing_runs_again(empty_database):
    settings, client = empty_database
    client.execute("CREATE TABLE schema_migrations (version String, applied_at DateTime DEFAULT now()) "
                   "ENGINE = MergeTree() ORDER BY version")             # the ledger as it was before checksums
    client.execute("INSERT INTO schema_migrations (version) VALUES", [(v,) for v in files()])
    assert migrate(settings) == []
    assert ledger(client) == {v: checksum(path) for v, path in files().items()}
    assert tables(client) == {"schema_migrations"}                      # nothing was applied again


def test_make_migrate_says_what_it_did(stack, run_id):
    import os
    import subprocess
    import sys
    from infra.settings import load
    from warehouse.client import connect
    settings = load(namespace=f"mig{run_id}")
    env = {**os.environ, **settings.as_env()}
    try:
        first = subprocess.run([sys.executable, "-m", "warehouse.migrate"], env=env, capture_output=True, text=True)
        again = subprocess.run([sys.executable, "-m", "warehouse.migrate"], env=env, capture_output=True, text=True)
    finally:
        connect(stack, "default").execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")
    assert first.returncode == 0 and f"database {settings.clickhouse_db}: applied 0001_" in first.stdout, first
    assert again.returncode == 0 and "nothing to apply" in again.stdout, again


def test_0017_converts_the_stored_viewer_states_so_old_and_new_merge_exactly(empty_database):
    """The title and segment rollups' distinct viewers move from 16-byte to 8-byte hashes. The states
    stored before are converted (their parts are gone after 7 days): a user counted before the
    migration and seen again after it must count once, in every grain."""
    settings, client = empty_database
    ledger(client)
    for version, path in files().items():       # the database as the release before 0017 left it
        if version < "0017":
            for statement in statements(path.read_text()):
                client.execute(statement.rstrip(";"))
            client.execute("INSERT INTO schema_migrations (version, checksum) VALUES", [(version, checksum(path))])

    def feed(users: range, minute: int) -> None:
        at = f"toDateTime('2026-12-01 10:00:00') + {minute * 60}"
        client.execute(f"INSERT INTO title_metrics_1m_parts (window_start, title_id, user_id) "
                       f"SELECT {at}, concat('t', toString(number % 3)), concat('u', toString(number)) "
                       f"FROM numbers({users.start}, {len(users)})")
        client.execute(f"INSERT INTO segment_metrics_1m_parts (window_start, gender, age_band, country, user_id, "
                       f"viewer, payer) SELECT {at}, 'f', '25-34', 'US', concat('u', toString(number)), 1, "
                       f"number % 7 = 0 FROM numbers({users.start}, {len(users)})")

    feed(range(0, 5000), 0)
    feed(range(1000, 3000), 1)
    assert "0017_rollups_hashed_viewers" in migrate(settings)
    feed(range(4000, 9000), 1)          # 4000–4999 were counted before: in the 1h and 1d states
    feed(range(2000, 2500), 0)          # and in the same minute: the converted 1m state
    for grain in ("1m", "1h", "1d"):
        type_, = client.execute(f"SELECT type FROM system.columns WHERE database = currentDatabase() "
                                f"AND table = 'title_metrics_{grain}_rollup' AND name = 'unique_viewers'")[0]
        assert type_ == "AggregateFunction(uniqExactIf, UInt64, UInt8)"
        assert client.execute(f"SELECT toUInt32(window_start), title_id, unique_viewers FROM title_metrics_{grain} "
                              f"ORDER BY window_start, title_id") == client.execute(
            f"SELECT toUInt32({GRAINS[grain]}) AS w, title_id, uniqExactIf(user_id, user_id != '') "
            f"FROM title_metrics_1m_parts GROUP BY w, title_id ORDER BY w, title_id")
        assert client.execute(f"SELECT uniqExactIfMerge(viewers), uniqExactIfMerge(payers) "
                              f"FROM segment_metrics_{grain}_rollup") == [(9000, len(range(0, 9000, 7)))]
    assert client.execute("SELECT uniqExactIfMerge(unique_viewers) FROM title_metrics_1m_rollup") == [(9000,)]
