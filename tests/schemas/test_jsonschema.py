from schemas import jsonschema
from schemas.events import EVENT_TYPES


def test_checked_in_json_schemas_are_current():
    assert jsonschema.main(["--check"]) == 0, "run `python -m schemas.jsonschema` and commit schemas/jsonschema/"


def test_one_schema_per_event_type_with_its_required_fields():
    schema = jsonschema.event_schema("purchase")
    assert set(schema["required"]) >= {"event_id", "event_type", "event_time", "schema_version", "app_id",
                                       "user_id", "title_id", "product", "amount_usd", "coins"}
    assert schema["properties"]["amount_usd"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 10_000_000}
    assert "user_id" not in jsonschema.event_schema("script_created")["required"]
    assert "title_id" not in jsonschema.event_schema("user_profile")["required"]
    assert set(jsonschema.render()) == {f"{name}.json" for name in EVENT_TYPES} | {"index.json"}


def test_every_input_topic_carries_at_least_one_event_type():
    from schemas.topics import INPUT_TOPICS
    assert {cls.TOPIC for cls in EVENT_TYPES.values()} == set(INPUT_TOPICS)
