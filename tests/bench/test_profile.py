"""bench/profile.py's summary of a py-spy recording (no services)."""
from bench.profile import summarize


def test_summary_counts_each_function_once_per_sample_and_leaves_out_the_wrappers(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("_bootstrap (threading.py:1);classify (streams/batch.py:10);classify (streams/batch.py:12) 3\n"
                   "_bootstrap (threading.py:1);write (warehouse/sink.py:5) 1\n")
    text = summarize(raw)
    assert "4 samples" in text
    assert " 75.0%  classify (streams/batch.py)" in text          # recursive frames counted once a sample
    assert " 25.0%  write (warehouse/sink.py)" in text
    assert "threading.py)" not in text.split("self (by line):")[0]  # wraps every sample: says nothing
    assert " 75.0%  classify (streams/batch.py:12)" in text         # self time keeps the line
