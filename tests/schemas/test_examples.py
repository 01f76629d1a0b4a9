from pathlib import Path

import orjson

from schemas.events import EVENT_TYPES
from schemas.examples import EXAMPLES
from schemas.validate import Accepted, validate

README = (Path(__file__).resolve().parents[2] / "schemas" / "README.md").read_text()


def test_one_valid_example_per_event_type_and_the_readme_shows_each():
    assert sorted(e.TYPE for e in EXAMPLES) == sorted(EVENT_TYPES)
    for example in EXAMPLES:
        assert isinstance(validate(orjson.dumps(example.to_dict()), example.TOPIC), Accepted), example
        assert f"### `{example.TYPE}` on `{example.TOPIC}`" in README
        assert f'"event_id": "{example.event_id}", "event_type": "{example.TYPE}"' in README
