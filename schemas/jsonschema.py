"""JSON Schema (draft 2020-12) for every event type, generated from schemas/events.py.

    python -m schemas.jsonschema          # rewrite schemas/jsonschema/*.json
    python -m schemas.jsonschema --check  # exit 1 if the checked-in files are stale

For producers in other languages. Two rules are not expressible here and are enforced by the
validator only: `coins_spent` is 0 unless `method` is `coins`, and `coins` is 0 for subscriptions.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from schemas.events import EVENT_TYPES, FieldSpec, field_specs

OUT = Path(__file__).resolve().parent / "jsonschema"
BASE_URI = "https://drama-loop.invalid/schemas/v1/"
RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$"
JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def property_schema(spec: FieldSpec) -> dict:
    schema: dict = {"type": JSON_TYPES[spec.kind]}
    if spec.choices:
        schema = {"const": spec.choices[0]} if len(spec.choices) == 1 else {"enum": list(spec.choices)}
    b = spec.bounds
    if b.minimum is not None:
        bound = b.minimum if spec.kind is float else int(b.minimum)
        schema["exclusiveMinimum" if b.exclusive_minimum else "minimum"] = bound
    if b.maximum is not None:
        schema["maximum"] = int(b.maximum) if spec.kind is int else b.maximum
    if b.min_length is not None:
        schema["minLength"] = b.min_length
    if b.max_length is not None:
        schema["maxLength"] = b.max_length
    if b.pattern:
        schema["pattern"] = RFC3339_PATTERN if b.pattern == "rfc3339" else b.pattern
    return schema


def event_schema(event_type: str) -> dict:
    cls = EVENT_TYPES[event_type]
    specs = field_specs(cls)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE_URI}{event_type}.json",
        "title": event_type,
        "description": (f"events-v1 `{event_type}`, sent to Kafka topic `{cls.TOPIC}`. "
                        "Extra fields are allowed and kept."),
        "type": "object",
        "properties": {"event_type": {"const": event_type},
                       **{spec.name: property_schema(spec) for spec in specs}},
        "required": ["event_id", "event_type", *[s.name for s in specs if s.required and s.name != "event_id"]],
        "additionalProperties": True,
    }


def render() -> dict[str, str]:
    files = {f"{name}.json": json.dumps(event_schema(name), indent=2) + "\n" for name in sorted(EVENT_TYPES)}
    files["index.json"] = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                      "$id": f"{BASE_URI}index.json", "title": "events-v1: any event",
                                      "oneOf": [{"$ref": f"{name}.json"} for name in sorted(EVENT_TYPES)]},
                                     indent=2) + "\n"
    return files


def main(argv: list[str]) -> int:
    files = render()
    if "--check" in argv:
        stale = [name for name, text in files.items() if not (OUT / name).exists() or (OUT / name).read_text() != text]
        if stale:
            print(f"stale JSON Schema files: {', '.join(stale)}; run `python -m schemas.jsonschema`")
            return 1
        return 0
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        if old.name not in files:
            old.unlink()
    for name, text in files.items():
        (OUT / name).write_text(text)
    print(f"wrote {len(files)} files to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
