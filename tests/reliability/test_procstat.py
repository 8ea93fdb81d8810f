"""Process sampling for soaks: readings from /proc, growth judged after the warm-up."""

from __future__ import annotations

import os

from scripts.loadgen.procstat import MIB, ProcessWatch, Sample, read_sample


def test_a_live_process_has_memory_and_open_files() -> None:
    """This very process: some resident memory, at least stdin/stdout/stderr open."""
    sample = read_sample(os.getpid(), 0.0)
    assert sample is not None
    assert sample.rss > MIB
    assert sample.fds >= 3


def test_a_gone_process_reads_as_nothing() -> None:
    """A pid that does not exist gives no sample rather than an error."""
    assert read_sample(2**22 + 12345, 0.0) is None


def test_growth_counts_from_the_first_sample_after_warm_up() -> None:
    """Warm-up growth is ignored; later growth past the bound fails the watch."""
    watch = ProcessWatch(1, warmup=10.0, max_rss_growth=64 * MIB, max_fd_growth=50)
    watch.samples = [
        Sample(0.0, 50 * MIB, 10),
        Sample(10.0, 150 * MIB, 40),
        Sample(20.0, 180 * MIB, 60),
    ]
    assert watch.growth() == (30 * MIB, 20)
    assert watch.to_json()["ok"] is True
    watch.samples.append(Sample(30.0, 250 * MIB, 95))
    assert watch.growth() == (100 * MIB, 55)
    assert watch.to_json()["ok"] is False
    assert watch.to_json()["rss_mib"]["growth"] == 100.0


def test_the_series_keeps_about_one_sample_a_minute_and_the_last() -> None:
    """Samples every 5 s over 3 minutes thin out to one a minute plus the final one."""
    watch = ProcessWatch(1)
    watch.samples = [Sample(float(t), (100 + t) * MIB, 20) for t in range(0, 181, 5)]
    watch.samples.append(Sample(183.0, 290 * MIB, 21))
    assert [row[0] for row in watch.series()] == [0, 60, 120, 180, 183]
    assert watch.series()[-1] == [183, 290.0, 21]
