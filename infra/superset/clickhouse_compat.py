"""Three patches that let Superset 6's generated SQL run on ClickHouse 18.16 (Debian's package).

1. sqlglot renders `toStartOfHour(x)` and its siblings as `dateTrunc('HOUR', x)`; 18.16 has no
   `dateTrunc` (it arrived in ClickHouse 20.x). We render the toStartOf* function instead,
   which every ClickHouse release has, so the patch is harmless on current servers.
2. Superset writes `SELECT toStartOfMinute(ts) AS ts ... GROUP BY toStartOfMinute(ts)`; 18.16
   resolves the alias inside the expression and rejects it. We give every label a `__`
   suffix on the native (clickhouse+native) engine spec; Superset maps the result columns
   back to their labels, so charts are unchanged. Current servers (docker-compose) use the
   same dialect; the suffix does no harm there.
3. sqlglot writes a join's strictness after its side (`LEFT ANY JOIN`); 18.16 parses only
   `ANY LEFT JOIN` (current servers take both). We put the strictness first.

Applied from superset_config.py; set CLICKHOUSE_COMPAT=off to run Superset unpatched.
"""
import os

_TRUNC = {
    "SECOND": "toStartOfSecond", "MINUTE": "toStartOfMinute", "HOUR": "toStartOfHour",
    "DAY": "toStartOfDay", "WEEK": "toMonday", "MONTH": "toStartOfMonth",
    "QUARTER": "toStartOfQuarter", "YEAR": "toStartOfYear",
}
LABEL_SUFFIX = "__"


def _timestamp_trunc(original):
    def render(self, expression):
        unit = expression.args.get("unit")
        name = (unit.name if unit is not None else "").upper()
        if name not in _TRUNC or name == "SECOND":
            return original(self, expression)
        return self.func(_TRUNC[name], expression.this, expression.args.get("zone"))
    return render


def _join(original):
    def render(self, expression):
        sql = original(self, expression)
        side, kind = (expression.side or "").upper(), (expression.kind or "").upper()
        if side and kind in ("ANY", "ALL", "ASOF", "SEMI", "ANTI"):
            sql = sql.replace(f"{side} {kind} JOIN", f"{kind} {side} JOIN", 1)
        return sql
    return render


def apply() -> None:
    if os.environ.get("CLICKHOUSE_COMPAT", "on") == "off":
        return
    from sqlglot import exp
    from sqlglot.dialects.clickhouse import ClickHouse

    transforms = ClickHouse.Generator.TRANSFORMS
    transforms[exp.TimestampTrunc] = _timestamp_trunc(transforms[exp.TimestampTrunc])
    ClickHouse.Generator.join_sql = _join(ClickHouse.Generator.join_sql)

    from superset.db_engine_specs.base import BaseEngineSpec
    from superset.db_engine_specs.clickhouse import ClickHouseConnectEngineSpec, ClickHouseEngineSpec

    def mutate_label(label: str) -> str:
        return label if label.endswith(LABEL_SUFFIX) else label + LABEL_SUFFIX

    ClickHouseEngineSpec._mutate_label = staticmethod(mutate_label)
    # clickhouse-connect (current servers only) inherits from the native spec: leave it as it was.
    ClickHouseConnectEngineSpec._mutate_label = staticmethod(BaseEngineSpec._mutate_label)
