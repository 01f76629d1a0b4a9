"""The reliability scenarios stop ClickHouse and Kafka and load them: each starts once every
namespace dropped in the background (tests/conftest.py) is gone."""
import pytest

from tests.conftest import settle_drops


@pytest.fixture(autouse=True)
def no_drop_in_flight():
    settle_drops()
