from warehouse.migrate import MIGRATIONS, migrate, statements


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
