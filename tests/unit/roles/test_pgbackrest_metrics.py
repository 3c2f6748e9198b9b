"""The backup role's job-result script: what node exporter's textfile collector reads."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "roles/backup/files/pgbackrest-metrics"
loader = importlib.machinery.SourceFileLoader("pgbackrest_metrics", str(SCRIPT))
spec = importlib.util.spec_from_loader("pgbackrest_metrics", loader)
metrics = importlib.util.module_from_spec(spec)
loader.exec_module(metrics)

# A sample line of the exposition format: name{labels} value.
SAMPLE = re.compile(r'^[a-z_]+\{(stanza="[a-z0-9_-]+")(,repo="[0-9]",type="[a-z]+")?\} -?[0-9.]+$')


def backup(kind, start, stop, size=1000, stored=300, repo=1):
    return {
        "type": kind,
        "database": {"id": 1, "repo-key": repo},
        "timestamp": {"start": start, "stop": stop},
        "info": {"size": size, "delta": size, "repository": {"size": stored, "delta": stored}},
    }


def samples(lines):
    """{(name, labels): value} of the sample lines; every line is a comment or a valid sample."""
    result = {}
    for line in lines:
        if line.startswith("# "):
            assert line.split()[1] in ("HELP", "TYPE")
            continue
        assert SAMPLE.match(line), line
        name_labels, value = line.rsplit(" ", 1)
        result[name_labels] = float(value)
    return result


def test_info_gives_the_newest_backup_of_each_type_and_the_counts():
    info = [{"name": "main", "status": {"code": 0}, "backup": [
        backup("full", 100, 160, size=5000, stored=1200),
        backup("diff", 200, 210, size=5100, stored=90),
        backup("full", 300, 390, size=6000, stored=1500),
    ]}]
    got = samples(metrics.info_metrics("main", info))
    assert got['selfhost_pgbackrest_stanza_status{stanza="main"}'] == 0
    full = 'stanza="main",repo="1",type="full"'
    assert got[f"selfhost_pgbackrest_backup_last_success_timestamp_seconds{{{full}}}"] == 390
    assert got[f"selfhost_pgbackrest_backup_duration_seconds{{{full}}}"] == 90
    assert got[f"selfhost_pgbackrest_backup_database_size_bytes{{{full}}}"] == 6000
    assert got[f"selfhost_pgbackrest_backup_repository_size_bytes{{{full}}}"] == 1500
    assert got[f"selfhost_pgbackrest_backups{{{full}}}"] == 2
    assert got['selfhost_pgbackrest_backup_last_success_timestamp_seconds{stanza="main",repo="1",type="diff"}'] == 210
    assert not any('type="incr"' in key for key in got)


def test_each_repository_has_its_own_series():
    info = [{"name": "main", "status": {"code": 0}, "backup": [
        backup("full", 100, 160),
        backup("full", 120, 200, repo=2),
        backup("full", 300, 390),
    ]}]
    got = samples(metrics.info_metrics("main", info))
    assert got['selfhost_pgbackrest_backups{stanza="main",repo="1",type="full"}'] == 2
    assert got['selfhost_pgbackrest_backups{stanza="main",repo="2",type="full"}'] == 1
    assert got['selfhost_pgbackrest_backup_last_success_timestamp_seconds{stanza="main",repo="1",type="full"}'] == 390
    assert got['selfhost_pgbackrest_backup_last_success_timestamp_seconds{stanza="main",repo="2",type="full"}'] == 200


def test_an_unreadable_repository_reports_an_unknown_status_and_no_backups():
    got = samples(metrics.info_metrics("main", []))
    assert got == {'selfhost_pgbackrest_stanza_status{stanza="main"}': -1}
    other = samples(metrics.info_metrics("main", [{"name": "other", "status": {"code": 0}, "backup": []}]))
    assert other == {'selfhost_pgbackrest_stanza_status{stanza="main"}': -1}


def test_the_job_file_carries_the_exit_status_end_and_run_time():
    got = samples(metrics.job_metrics("main", "2", "diff", 28, 1700000000, 12.5))
    assert got == {
        'selfhost_pgbackrest_job_exit_status{stanza="main",repo="2",type="diff"}': 28,
        'selfhost_pgbackrest_job_last_run_timestamp_seconds{stanza="main",repo="2",type="diff"}': 1700000000,
        'selfhost_pgbackrest_job_duration_seconds{stanza="main",repo="2",type="diff"}': 12.5,
    }


def test_exit_status_from_systemd():
    assert metrics.exit_status({"EXIT_STATUS": "0"}) == 0
    assert metrics.exit_status({"EXIT_STATUS": "31"}) == 31
    assert metrics.exit_status({"EXIT_STATUS": "TERM"}) == 143
    assert metrics.exit_status({"EXIT_STATUS": "KILL"}) == 137
    assert metrics.exit_status({}) == 1


def test_files_are_written_whole_and_readable(tmp_path):
    metrics.write_atomically(str(tmp_path), "pgbackrest-main.prom", ["a 1", "b 2"])
    metrics.write_atomically(str(tmp_path), "pgbackrest-main.prom", ["a 3"])
    written = tmp_path / "pgbackrest-main.prom"
    assert written.read_text() == "a 3\n"
    assert oct(os.stat(written).st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["pgbackrest-main.prom"]
