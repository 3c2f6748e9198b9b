"""PostgreSQL's backups, proved by behaviour: a target the backups cannot reach is refused with
nothing changed, a point-in-time restore brings back exactly the rows of a second and the standby
follows the restored primary, and after a failover the new primary archives and the NAS's timers
back it up. Tests run in file order; the failover is last."""

import json
import os
import re
import time

import urllib3
from minio import Minio
from scenario import changed_counts, eventually, on, playbook, words

PRIMARY, STANDBY, NAS, OFFSITE = "backup-primary", "backup-standby", "backup-nas", "backup-offsite"
METRICS = "/var/lib/prometheus/node-exporter"
# The S3 repository's bucket on the off-site MinIO, as pgBackRest's user sees it.
CA = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "tls", "ca.crt")
HTTPS = urllib3.PoolManager(ca_certs=CA, cert_reqs="CERT_REQUIRED", retries=False, timeout=10)


def sql(name, query, database="app"):
    """Runs query as postgres over the local socket; returns the result, or raises."""
    with on(name).sudo("postgres"):
        return on(name).check_output(f"psql -XAt -d {database} -v ON_ERROR_STOP=1 -c {json.dumps(query)}")


def nas(command):
    """Runs command on the NAS as root; returns its result."""
    with on(NAS).sudo():
        return on(NAS).run(command)


def metric(name, repo, kind, file):
    """The value of sample name{stanza="main",repo=...,type=...} in the NAS's metrics file, or None."""
    wanted = f'{name}{{stanza="main",repo="{repo}",type="{kind}"}} '
    lines = nas(f"cat {METRICS}/{file}").stdout.splitlines()
    return next((float(line[len(wanted):]) for line in lines if line.startswith(wanted)), None)


def unit_state(unit):
    """The unit's ActiveState and Result on the NAS."""
    lines = nas(f"systemctl show -p ActiveState -p Result {unit}").stdout.splitlines()
    found = dict(line.split("=", 1) for line in lines)
    return found["ActiveState"], found["Result"]


def test_a_target_outside_the_backups_is_refused_with_nothing_changed():
    # The converge started the first full backup without waiting; it ends within minutes on an
    # empty cluster. (Its timers, metrics and failure hook are proved by the lab: tests/lab/check.sh.)
    assert eventually(lambda: unit_state("pgbackrest-backup@full.service")[0] != "activating", seconds=300)
    assert unit_state("pgbackrest-backup@full.service") == ("inactive", "success")
    # Neither server restarts: each keeps the start time it had.
    started = {name: sql(name, "SELECT pg_postmaster_start_time()") for name in (PRIMARY, STANDBY)}
    result = playbook("../../playbooks/restore.yml", "-e", "restore_target_time='2001-01-01 00:00:00+00'")
    assert result.returncode != 0
    assert "restore_target_time: 2001-01-01 00:00:00+00 is before the oldest backup" in words(result)
    assert set(changed_counts(result.stdout).values()) == {0}
    assert sql(PRIMARY, "SELECT pg_is_in_recovery()") == "f"
    assert {name: sql(name, "SELECT pg_postmaster_start_time()") for name in (PRIMARY, STANDBY)} == started
    assert on(PRIMARY).run("ls -d /var/lib/postgresql/15/main.replaced-*").stdout == ""


def test_a_restore_to_a_second_brings_back_exactly_its_rows_and_the_standby_follows():
    sql(PRIMARY, "CREATE TABLE sales (id int PRIMARY KEY, note text)")
    sql(PRIMARY, "CREATE TABLE ledger (id int)")
    sql(PRIMARY, "INSERT INTO sales VALUES (1, 'a'), (2, 'b'), (3, 'c'); INSERT INTO ledger VALUES (7)")
    time.sleep(1.1)
    target = sql(PRIMARY, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
    time.sleep(1.1)
    sql(PRIMARY, "INSERT INTO sales VALUES (4, 'after'), (5, 'after')")
    sql(PRIMARY, "DROP TABLE ledger")
    # The standby replays past the target and checkpoints there: its data then follows a history
    # that the restored primary will not have, and must not be started again.
    assert eventually(lambda: sql(STANDBY, "SELECT count(*) FROM pg_tables WHERE tablename = 'ledger'") == "0",
                      seconds=10)
    sql(STANDBY, "CHECKPOINT")

    started = time.monotonic()
    result = playbook("../../playbooks/restore.yml", "-e", f"restore_target_time='{target}'")
    assert result.returncode == 0, result.stdout[-4000:]
    print(f"restore.yml to {target}: {time.monotonic() - started:.1f}s")

    assert sql(PRIMARY, "SELECT string_agg(id || note, ',' ORDER BY id) FROM sales") == "1a,2b,3c"
    assert sql(PRIMARY, "SELECT id FROM ledger") == "7"
    assert sql(PRIMARY, "SELECT pg_is_in_recovery()") == "f"
    # Nothing of the restore's target stays for a clone of this primary to copy.
    assert sql(PRIMARY, "SELECT count(*) FROM pg_file_settings WHERE name LIKE 'recovery_target%'") == "0"
    # The data the restore replaced is kept beside the new one.
    assert on(PRIMARY).run("ls -d /var/lib/postgresql/15/main.replaced-*").stdout.strip() != ""

    # The standby was cloned anew from the restored primary (its data kept aside) and streams from it.
    assert on(STANDBY).run("ls -d /var/lib/postgresql/15/main.replaced-*").stdout.strip() != ""
    assert eventually(lambda: sql(STANDBY, "SELECT status FROM pg_stat_wal_receiver") == "streaming", seconds=30)
    sql(PRIMARY, "INSERT INTO sales VALUES (6, 'restored')")
    assert eventually(lambda: sql(STANDBY, "SELECT count(*) FROM sales") == "4", seconds=10)


def test_the_restored_primary_archives_and_a_second_converge_changes_nothing():
    assert nas("sudo -u pgbackrest pgbackrest --stanza=main check").rc == 0
    result = playbook("converge.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(changed_counts(result.stdout).values()) == {0}, result.stdout[-3000:]


def test_the_s3_copy_holds_encrypted_backups_and_wal_and_restores_the_database():
    # The converge started the S3 repository's first full backup too; it waited for the NAS's.
    assert eventually(lambda: unit_state("pgbackrest-backup-repo2@full.service")[0] != "activating", seconds=300)
    assert unit_state("pgbackrest-backup-repo2@full.service") == ("inactive", "success")
    assert metric("selfhost_pgbackrest_backups", 2, "full", "pgbackrest-main.prom") == 1
    assert metric("selfhost_pgbackrest_job_exit_status", 2, "full", "pgbackrest-main-repo2-job-full.prom") == 0
    # check switches WAL segments and waits until every repository has the segment.
    assert nas("sudo -u pgbackrest pgbackrest --stanza=main check").rc == 0
    # In the bucket, WAL and backups are encrypted (OpenSSL's header), read with pgBackRest's own key.
    address = on(OFFSITE).interface("eth0").addresses[0]
    bucket = Minio(f"{address}:9000", "pgbackrest", "scenario-pgbackrest-secret", secure=True, http_client=HTTPS)
    names = [item.object_name for item in bucket.list_objects("pgbackrest", prefix="pgbackrest/", recursive=True)]
    wal = [name for name in names if re.search(r"/archive/main/.*/[0-9A-F]{24}-[0-9a-f]{40}", name)]
    data = [name for name in names if re.search(r"/backup/main/.*F/pg_data/PG_VERSION", name)]
    assert wal and data, names
    for name in (wal[-1], data[0]):
        assert bucket.get_object("pgbackrest", name).read(8) == b"Salted__", name

    # A restore from the S3 repository (restore_repo=2) brings back every committed row.
    sql(PRIMARY, "INSERT INTO sales VALUES (7, 'from s3')")
    result = playbook("../../playbooks/restore.yml", "-e", "restore_target_time=latest", "-e", "restore_repo=2")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "in repository 2" in words(result)
    assert sql(PRIMARY, "SELECT string_agg(id || note, ',' ORDER BY id) FROM sales") == "1a,2b,3c,6restored,7from s3"
    assert eventually(lambda: sql(STANDBY, "SELECT status FROM pg_stat_wal_receiver") == "streaming", seconds=30)


def test_after_failover_the_new_primary_archives_and_the_timers_back_it_up():
    result = playbook("../../playbooks/failover.yml", "-e", f"postgresql_failover_to={STANDBY}")
    assert result.returncode == 0, result.stdout[-4000:]
    assert sql(STANDBY, "SELECT pg_is_in_recovery()") == "f"
    # check makes the new primary switch WAL segments and waits for that one in the repository.
    assert nas("sudo -u pgbackrest pgbackrest --stanza=main check").rc == 0
    assert int(sql(STANDBY, "SELECT archived_count FROM pg_stat_archiver")) >= 1
    # The differential backup its timer starts finds the new primary itself.
    assert nas("systemctl start pgbackrest-backup@diff.service").rc == 0
    assert metric("selfhost_pgbackrest_job_exit_status", 1, "diff", "pgbackrest-main-repo1-job-diff.prom") == 0
    assert metric("selfhost_pgbackrest_backups", 1, "diff", "pgbackrest-main.prom") == 1
    backups = json.loads(nas("sudo -u pgbackrest pgbackrest --stanza=main --repo=1 --output=json info").stdout)[0]["backup"]
    assert backups[-1]["type"] == "diff"
