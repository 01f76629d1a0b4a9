"""The data dictionary fails closed: a table, view or column nobody describes stops it."""
from __future__ import annotations

import pytest

from warehouse import dictionary

pytestmark = pytest.mark.slow


def test_the_readme_block_is_current_and_a_column_without_a_meaning_is_refused(monkeypatch):
    assert dictionary.main(["--check"]) == 0
    monkeypatch.delitem(dictionary.MEANINGS, "parts_rows")
    with pytest.raises(ValueError, match="parts_rows"):
        dictionary.render()


def test_the_contract_defines_the_metric_columns():
    meanings = dictionary.contract_meanings(dictionary.CONTRACT.read_text())
    assert meanings["hook_views"].startswith("count of `teaser_view` with `watch_ms` ≥ 3000")
    assert "unlocks_rewarded_ad" in meanings
