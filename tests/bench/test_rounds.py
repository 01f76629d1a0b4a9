"""bench/throughput.py's rounds: each ratio against its own round, the median round reported (no services)."""
from bench.throughput import combine_rounds


def ceiling(bare: int) -> dict:
    return {"bare": {"msgs_per_s": bare, "seconds": 1.0}, "validated": {"msgs_per_s": bare // 2}}


def test_the_median_of_the_rounds_ratios_is_reported_with_its_round():
    rounds = [{"ceiling": ceiling(100), "1": {"msgs_per_s": 50}, "2": {"msgs_per_s": 70}},
              {"ceiling": ceiling(200), "1": {"msgs_per_s": 60}, "2": {"msgs_per_s": 60}},
              {"ceiling": ceiling(150), "1": {"msgs_per_s": 90}, "2": {"msgs_per_s": 120}}]
    ceilings, drains = combine_rounds(rounds, {}, "ns")
    assert ceilings["bare"]["msgs_per_s"] == 150
    assert drains["1"]["ratios"] == [0.3, 0.5, 0.6] and drains["1"]["msgs_per_s"] == 50   # 50 ÷ its own 100
    assert drains["ratio_2_vs_1"] == 1.333 and drains["2"]["msgs_per_s"] == 120


def test_equal_ratios_do_not_break_the_median():
    rounds = [{"ceiling": ceiling(100), "1": {"msgs_per_s": 50, "drain_s": s}, "2": None} for s in (1.0, 2.0)]
    assert combine_rounds(rounds, {}, "ns")[1]["1"]["median_ratio"] == 0.5
