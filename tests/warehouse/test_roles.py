"""The three ClickHouse users (infra/clickhouse/users.xml): what each may do, and every denial.

ClickHouse 18.16 has no SQL grants, only users.xml profiles; what it cannot enforce is marked
and documented in warehouse/README.md ("Roles")."""
from __future__ import annotations

import stat

import pytest
from clickhouse_driver import Client
from clickhouse_driver.errors import ServerException

from infra.settings import load


@pytest.fixture(scope="module")
def users(clickhouse):
    s = load()
    def client(user, password):
        return Client(s.clickhouse_host, port=s.clickhouse_port, user=user, password=password, database=s.clickhouse_db)
    return (client(s.clickhouse_writer_user, s.clickhouse_writer_password),
            client(s.clickhouse_analyst_user, s.clickhouse_analyst_password))


def denied(client, sql, *, code: int, params=None, settings=None):
    with pytest.raises(ServerException) as raised:
        client.execute(sql, params, settings=settings)
    assert raised.value.code == code, raised.value
    return raised.value


REJECTED = "INSERT INTO events_rejected (topic, partition, offset, reason, detail, raw) VALUES"
ROW = [("roles.test", 0, 0, "not_json", "roles test", "x")]


def test_passwords_are_generated_secret_and_only_hashed_in_the_users_file(stack):
    s = load()
    for role, password in (("writer", s.clickhouse_writer_password), ("analyst", s.clickhouse_analyst_password)):
        path = s.state_dir / "clickhouse" / "secrets" / role
        assert len(password) >= 24 and path.read_text().strip() == password
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        users_file = (s.state_dir / "clickhouse" / "users.xml").read_text()
        assert password not in users_file


def test_the_writer_reads_and_writes_the_project_database_and_nothing_else(users, clickhouse):
    writer, _ = users
    assert writer.execute("SELECT count() FROM events_raw")[0][0] >= 0
    writer.execute(REJECTED, ROW)
    try:
        denied(writer, "CREATE TABLE roles_test (x UInt8) ENGINE = Memory", code=392)
        denied(writer, "DROP TABLE events_rejected", code=392)
        denied(writer, "ALTER TABLE events_rejected DELETE WHERE topic = 'roles.test'", code=392)
        denied(writer, "SET allow_ddl = 1", code=392)
        denied(writer, "SELECT count() FROM default.nothing", code=291)       # another database
        with pytest.raises(ServerException):
            Client("127.0.0.1", user=load().clickhouse_writer_user, password="wrong").execute("SELECT 1")
    finally:
        clickhouse.execute("ALTER TABLE events_rejected DELETE WHERE topic = 'roles.test'")


def test_the_analyst_only_reads_within_its_limits(users):
    _, analyst = users
    assert analyst.execute("SELECT count() FROM title_metrics_1m")[0][0] >= 0
    denied(analyst, REJECTED, code=164, params=ROW)
    denied(analyst, "ALTER TABLE events_rejected DELETE WHERE 1", code=164)
    denied(analyst, "DROP TABLE events_rejected", code=164)
    denied(analyst, "SELECT * FROM url('http://127.0.0.1:8123/ping', CSV, 'x String')", code=164)
    denied(analyst, "SELECT * FROM file('users.xml', CSV, 'x String')", code=164)
    denied(analyst, "SET max_execution_time = 0", code=164)
    denied(analyst, "SELECT number FROM system.numbers LIMIT 2000000", code=396)       # max_result_rows
    # a limit sent with the query is ignored, not applied: the profile's value stands
    assert analyst.execute("SELECT value FROM system.settings WHERE name = 'max_execution_time'",
                           settings={"max_execution_time": 0}) == [("60",)]
    denied(analyst, "SELECT count() FROM default.nothing", code=291)


@pytest.mark.xfail(strict=True, reason="18.16 gap (warehouse/README.md, Roles): a setting sent with a query is "
                                       "not checked against allow_ddl=0, so the writer can create tables; "
                                       "current ClickHouse enforces it with GRANT and settings constraints")
def test_the_writer_cannot_turn_ddl_back_on_per_query(users, clickhouse):
    writer, _ = users
    try:
        denied(writer, "CREATE TABLE roles_gap (x UInt8) ENGINE = Memory", code=392, settings={"allow_ddl": 1})
    finally:
        clickhouse.execute("DROP TABLE IF EXISTS roles_gap")
