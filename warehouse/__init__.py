"""ClickHouse: the schema as ordered migrations, the client, and the sink the workers write through."""
