"""PostgreSQL's backups, proved by behaviour: a target the backups cannot reach is refused with
nothing changed, a point-in-time restore brings back exactly the rows of a second and the standby
follows the restored primary, and after a failover the new primary archives and the NAS's timers
back it up. Tests run in file order; the failover is last."""

import json
import time

from scenario import changed_counts, eventually, on, playbook, words

PRIMARY, STANDBY, NAS = "backup-primary", "backup-standby", "backup-nas"
METRICS = "/var/lib/prometheus/node-exporter"


def sql(name, query, database="app"):
    """Runs query as postgres over the local socket; returns the result, or raises."""
    with on(name).sudo("postgres"):
        return on(name).check_output(f"psql -XAt -d {database} -v ON_ERROR_STOP=1 -c {json.dumps(query)}")


def nas(command):
    """Runs command on the NAS as root; returns its result."""
    with on(NAS).sudo():
        return on(NAS).run(command)


def metric(name, labels, file):
    """The value of sample name{labels} in the NAS's metrics file, or None."""
    wanted = f"{name}{{{labels}}} "
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


def test_after_failover_the_new_primary_archives_and_the_timers_back_it_up():
    result = playbook("../../playbooks/failover.yml", "-e", f"postgresql_failover_to={STANDBY}")
    assert result.returncode == 0, result.stdout[-4000:]
    assert sql(STANDBY, "SELECT pg_is_in_recovery()") == "f"
    # check makes the new primary switch WAL segments and waits for that one in the repository.
    assert nas("sudo -u pgbackrest pgbackrest --stanza=main check").rc == 0
    assert int(sql(STANDBY, "SELECT archived_count FROM pg_stat_archiver")) >= 1
    # The differential backup its timer starts finds the new primary itself.
    assert nas("systemctl start pgbackrest-backup@diff.service").rc == 0
    assert metric("selfhost_pgbackrest_job_exit_status", 'stanza="main",repo="1",type="diff"', "pgbackrest-main-repo1-job-diff.prom") == 0
    assert metric("selfhost_pgbackrest_backups", 'stanza="main",repo="1",type="diff"', "pgbackrest-main.prom") == 1
    backup = json.loads(nas("sudo -u pgbackrest pgbackrest --stanza=main --output=json info").stdout)[0]["backup"][-1]
    assert backup["type"] == "diff"
