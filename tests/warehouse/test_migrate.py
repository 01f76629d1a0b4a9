import pytest

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
