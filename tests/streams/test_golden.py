"""The golden set (../shared/golden/v1) replayed into the real stack: every row, every column."""
from tests import golden
from warehouse.client import connect


def test_the_golden_replay_matches_expected_exactly(pipeline):
    settings = pipeline()
    client = connect(settings)
    golden.replay(settings, client)
    assert golden.differences(client) == []
