"""Unit tests for the tuning filters: pg_tune against PGTune, memory_budget's split."""

from __future__ import annotations

import itertools
import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.tuning import FilterModule, memory_budget, pg_tune, pgbouncer_pools

KB = {"kB": 1, "MB": 1024, "GB": 1024 * 1024}
SIZE_SETTINGS = ("shared_buffers", "effective_cache_size", "maintenance_work_mem", "wal_buffers", "work_mem",
                 "autovacuum_work_mem", "min_wal_size", "max_wal_size")


def kb(value):
    """A size setting back in kB; fails the test when it is not a positive size PostgreSQL reads."""
    match = re.fullmatch(r"([1-9][0-9]*)(kB|MB|GB)", value)
    assert match, f"{value!r} is not a size in kB, MB or GB"
    return int(match.group(1)) * KB[match.group(2)]


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"pg_tune", "memory_budget", "pgbouncer_pools"}


# What PGTune (https://pgtune.leopard.in.ua, OS type Linux) prints, worked out by hand from
# le0pard/pgtune src/features/configuration/configurationSlice.js at commit
# 830d3bb36876013e9f56b87faa025b82f4f93e64 (unchanged in HEAD 7caef27c of July 2026).
# Arithmetic for each case is in its comment; M is the memory in kB, C the connections, P the
# workers work_mem allows for (the CPUs from 4 on, else 8).
COMMON = {"checkpoint_completion_target": "0.9"}
PGTUNE_CASES = [
    pytest.param(
        # M=16777216: 4GB / 12GB / M/16=1GB; wal 3%=125829 -> 16MB;
        # work_mem (M-4194304)/((200+4)*3) = 12582912/612 = 20560.3 -> 20560kB
        (16384, 4, "ssd", "web", None, 15, "mid_ram"),
        {"max_connections": 200, "shared_buffers": "4GB", "effective_cache_size": "12GB",
         "maintenance_work_mem": "1GB", "wal_buffers": "16MB", "default_statistics_target": 100,
         "random_page_cost": "1.1", "effective_io_concurrency": 200, "work_mem": "20560kB", "huge_pages": "try",
         "jit": "off", "wal_compression": "lz4", "min_wal_size": "1GB", "max_wal_size": "4GB",
         "max_worker_processes": 4, "max_parallel_workers_per_gather": 2, "max_parallel_workers": 4,
         "max_parallel_maintenance_workers": 2},
        id="16GB-4cpu-ssd-web-pg15"),
    pytest.param(
        # M=1048576: 256MB / 768MB / 64MB; wal 3%=7864.32 -> 7864kB;
        # work_mem 786432/((200+8)*3) = 1260 -> floor 4MB; hdd -> random_page_cost 4
        (1024, 1, "hdd", "web", None, 13, "mid_ram"),
        {"max_connections": 200, "shared_buffers": "256MB", "effective_cache_size": "768MB",
         "maintenance_work_mem": "64MB", "wal_buffers": "7864kB", "default_statistics_target": 100,
         "random_page_cost": "4", "effective_io_concurrency": 2, "work_mem": "4MB", "huge_pages": "off",
         "jit": "off", "wal_compression": "on", "min_wal_size": "1GB", "max_wal_size": "4GB"},
        id="1GB-1cpu-hdd-web-pg13"),
    pytest.param(
        # M=67108864: 16GB / 48GB / 4GB (so autovacuum_work_mem 2GB); work_mem
        # 50331648/((300+16)*3) = 53092.46 -> 53092kB; per gather ceil(16/2)=8 capped at 4
        (65536, 16, "nvme", "oltp", None, 17, "mid_ram"),
        {"max_connections": 300, "shared_buffers": "16GB", "effective_cache_size": "48GB",
         "maintenance_work_mem": "4GB", "wal_buffers": "16MB", "default_statistics_target": 100,
         "random_page_cost": "1.1", "effective_io_concurrency": 1000, "work_mem": "53092kB", "huge_pages": "try",
         "jit": "off", "wal_compression": "lz4", "autovacuum_max_workers": 4, "autovacuum_work_mem": "2GB",
         "min_wal_size": "2GB", "max_wal_size": "8GB", "max_worker_processes": 16,
         "max_parallel_workers_per_gather": 4, "max_parallel_workers": 16, "max_parallel_maintenance_workers": 4},
        id="64GB-16cpu-nvme-oltp-pg17"),
    pytest.param(
        # M=268435456: 64GB / 192GB / M/8=32GB capped at 8GB; work_mem
        # 201326592/((40+64)*3) = 645277.54, halved for dw -> 322638kB; dw on san -> random_page_cost 4;
        # per gather ceil(64/2)=32 (no cap for dw); no jit for dw; io_uring from 18
        (262144, 64, "san", "dw", None, 18, "mid_ram"),
        {"max_connections": 40, "shared_buffers": "64GB", "effective_cache_size": "192GB",
         "maintenance_work_mem": "8GB", "wal_buffers": "16MB", "default_statistics_target": 500,
         "random_page_cost": "4", "effective_io_concurrency": 300, "work_mem": "322638kB", "huge_pages": "try",
         "wal_compression": "lz4", "autovacuum_max_workers": 5, "autovacuum_work_mem": "2GB",
         "io_method": "io_uring", "min_wal_size": "4GB", "max_wal_size": "16GB", "max_worker_processes": 64,
         "max_parallel_workers_per_gather": 32, "max_parallel_workers": 64, "max_parallel_maintenance_workers": 4},
        id="256GB-64cpu-san-dw-pg18"),
    pytest.param(
        # M=2097152: M/16=128MB / M/4=512MB / 128MB; wal 3%=3932.16 -> 3932kB;
        # work_mem 1966080/((20+8)*3) = 23405.7, /6 -> 3900 -> floor 4MB; minimal WAL
        (2048, 2, "ssd", "desktop", None, 16, "mid_ram"),
        {"max_connections": 20, "shared_buffers": "128MB", "effective_cache_size": "512MB",
         "maintenance_work_mem": "128MB", "wal_buffers": "3932kB", "default_statistics_target": 100,
         "random_page_cost": "1.1", "effective_io_concurrency": 200, "work_mem": "4MB", "huge_pages": "off",
         "wal_compression": "lz4", "min_wal_size": "100MB", "max_wal_size": "2GB", "wal_level": "minimal",
         "max_wal_senders": 0},
        id="2GB-2cpu-ssd-desktop-pg16"),
    pytest.param(
        # M=8388608: 2GB (so huge_pages try) / 6GB / 512MB; work_mem 6291456/((150+8)*3) = 13273.1,
        # halved for mixed -> 6636, x0.9 for greater_ram -> 5972kB
        (8192, 8, "hdd", "mixed", 150, 14, "greater_ram"),
        {"max_connections": 150, "shared_buffers": "2GB", "effective_cache_size": "6GB",
         "maintenance_work_mem": "512MB", "wal_buffers": "16MB", "default_statistics_target": 100,
         "random_page_cost": "4", "effective_io_concurrency": 2, "work_mem": "5972kB", "huge_pages": "try",
         "jit": "off", "wal_compression": "on", "min_wal_size": "1GB", "max_wal_size": "4GB",
         "max_worker_processes": 8, "max_parallel_workers_per_gather": 4, "max_parallel_workers": 8,
         "max_parallel_maintenance_workers": 4},
        id="8GB-8cpu-hdd-mixed-150conn-pg14-greater_ram"),
    pytest.param(
        # M=33554432: 8GB / 24GB / 2GB (autovacuum_work_mem 2GB); work_mem
        # 25165824/((100+12)*3) = 74898.3 -> 74898, x1.3 for less_ram -> 97367kB
        (32768, 12, "ssd", "web", 100, 18, "less_ram"),
        {"max_connections": 100, "shared_buffers": "8GB", "effective_cache_size": "24GB",
         "maintenance_work_mem": "2GB", "wal_buffers": "16MB", "default_statistics_target": 100,
         "random_page_cost": "1.1", "effective_io_concurrency": 200, "work_mem": "97367kB", "huge_pages": "try",
         "jit": "off", "wal_compression": "lz4", "autovacuum_work_mem": "2GB", "io_method": "io_uring",
         "min_wal_size": "1GB", "max_wal_size": "4GB", "max_worker_processes": 12,
         "max_parallel_workers_per_gather": 4, "max_parallel_workers": 12, "max_parallel_maintenance_workers": 4},
        id="32GB-12cpu-ssd-web-100conn-pg18-less_ram"),
    pytest.param(
        # M=4194304: 1GB / 3GB / 256MB; wal 3%=31457 -> 16MB; work_mem 3145728/((20+4)*3) = 43690.7
        # -> 43690kB; PostgreSQL 10: no jit, wal_compression on, no max_parallel_maintenance_workers
        (4096, 4, "nvme", "oltp", 20, 10, "mid_ram"),
        {"max_connections": 20, "shared_buffers": "1GB", "effective_cache_size": "3GB",
         "maintenance_work_mem": "256MB", "wal_buffers": "16MB", "default_statistics_target": 100,
         "random_page_cost": "1.1", "effective_io_concurrency": 1000, "work_mem": "43690kB", "huge_pages": "off",
         "wal_compression": "on", "min_wal_size": "2GB", "max_wal_size": "8GB", "max_worker_processes": 4,
         "max_parallel_workers_per_gather": 2, "max_parallel_workers": 4},
        id="4GB-4cpu-nvme-oltp-20conn-pg10"),
    pytest.param(
        # M=2048000: 512000kB=500MB / 1500MB / 128000kB=125MB; wal 3%=15360kB, between 14MB and
        # 16MB -> rounded up to 16MB; work_mem 1536000/((200+8)*3) = 2461 -> floor 4MB
        (2000, 2, "ssd", "web", None, 12, "mid_ram"),
        {"max_connections": 200, "shared_buffers": "500MB", "effective_cache_size": "1500MB",
         "maintenance_work_mem": "125MB", "wal_buffers": "16MB", "default_statistics_target": 100,
         "random_page_cost": "1.1", "effective_io_concurrency": 200, "work_mem": "4MB", "huge_pages": "off",
         "jit": "off", "wal_compression": "on", "min_wal_size": "1GB", "max_wal_size": "4GB"},
        id="2000MB-wal_buffers-rounded-up-pg12"),
    pytest.param(
        # M=1024000: 256000kB=250MB / 768000kB=750MB / 64000kB (not a whole MB, so kB);
        # wal 3%=7680kB (7.5MB, so kB); work_mem 768000/((100+8)*3)=2370, /2 -> floor 4MB
        (1000, 3, "ssd", "mixed", None, 17, "mid_ram"),
        {"max_connections": 100, "shared_buffers": "250MB", "effective_cache_size": "750MB",
         "maintenance_work_mem": "64000kB", "wal_buffers": "7680kB", "default_statistics_target": 100,
         "random_page_cost": "1.1", "effective_io_concurrency": 200, "work_mem": "4MB", "huge_pages": "off",
         "jit": "off", "wal_compression": "lz4", "min_wal_size": "1GB", "max_wal_size": "4GB"},
        id="1000MB-3cpu-mixed-units-pg17"),
]


@pytest.mark.parametrize("arguments, expected", PGTUNE_CASES)
def test_pg_tune_prints_what_pgtune_prints(arguments, expected):
    memory, cpus, storage, workload, connections, version, db_size = arguments
    result = pg_tune(memory, cpus=cpus, storage=storage, workload=workload, max_connections=connections,
                     version=version, db_size=db_size)
    assert result == {**COMMON, **expected}


def test_pg_tune_keeps_pgtunes_order_and_defaults():
    result = pg_tune(16384, 4)
    assert list(result)[:5] == ["max_connections", "shared_buffers", "effective_cache_size",
                                "maintenance_work_mem", "checkpoint_completion_target"]
    assert result == pg_tune(16384, 4, "ssd", "web", None, 15, "mid_ram")


def test_pg_tune_reads_inventory_strings():
    assert pg_tune("16384", "4", version="15", max_connections="200") == pg_tune(16384, 4)


@pytest.mark.parametrize("arguments, message", [
    ({"memory_mb": 255}, r"the memory 255 is not a whole number of MB of at least 256"),
    ({"memory_mb": "16GB"}, r"the memory '16GB' is not a whole number of MB"),
    ({"memory_mb": 16384.5}, r"the memory 16384.5 is not"),
    ({"memory_mb": True}, r"the memory True is not"),
    ({"cpus": 0}, r"cpus 0 is not a whole number of at least 1"),
    ({"cpus": None}, r"cpus None is not"),
    ({"storage": "SSD"}, r"storage 'SSD' is not one of hdd, ssd, nvme, san"),
    ({"workload": "olap"}, r"workload 'olap' is not one of web, oltp, dw, mixed, desktop"),
    ({"db_size": "huge"}, r"db_size 'huge' is not one of less_ram, mid_ram, greater_ram"),
    ({"version": 9}, r"version 9 is not a PostgreSQL major version from 10 to 18"),
    ({"version": 19}, r"version 19 is not"),
    ({"version": "15.4"}, r"version '15.4' is not"),
    ({"max_connections": 19}, r"max_connections 19 is not a whole number from 20 to 262143.*200 for web"),
    ({"max_connections": 300000}, r"max_connections 300000 is not"),
])
def test_pg_tune_refuses_bad_input(arguments, message):
    call = {"memory_mb": 16384, "cpus": 4, **arguments}
    with pytest.raises(AnsibleFilterError, match="^pg_tune: " + message):
        pg_tune(**call)


MEMORY_GRID = (256, 300, 512, 1000, 1024, 1867, 2000, 2048, 3000, 4096, 7777, 8192, 16384, 32768, 65536, 131072,
               262144, 1048576)
CPU_GRID = (1, 2, 3, 4, 5, 8, 12, 16, 31, 32, 64)
CONNECTION_GRID = (None, 20, 100, 500, 5000)


@pytest.mark.parametrize("workload", ["web", "oltp", "dw", "mixed", "desktop"])
def test_pg_tune_invariants_over_a_grid(workload):
    for memory, cpus, connections, storage, version, db_size in itertools.product(
            MEMORY_GRID, CPU_GRID, CONNECTION_GRID, ("hdd", "ssd", "nvme", "san"), (10, 11, 13, 15, 18),
            ("less_ram", "mid_ram", "greater_ram")):
        case = (memory, cpus, connections, storage, version, db_size)
        result = pg_tune(memory, cpus, storage, workload, connections, version, db_size)
        sizes = {name: kb(result[name]) for name in SIZE_SETTINGS if name in result}
        memory_kb = memory * 1024
        shared_buffers, work_mem = sizes["shared_buffers"], sizes["work_mem"]
        connections = result["max_connections"]

        assert shared_buffers <= memory_kb // 4, case
        assert shared_buffers <= sizes["effective_cache_size"] <= memory_kb, case
        assert sizes["maintenance_work_mem"] <= min(8 * 1024 * 1024, memory_kb // 8), case
        assert sizes.get("autovacuum_work_mem", 2 * 1024 * 1024) == 2 * 1024 * 1024, case
        assert ("autovacuum_work_mem" in result) == (sizes["maintenance_work_mem"] >= 2 * 1024 * 1024), case
        assert 32 <= sizes["wal_buffers"] <= 16 * 1024, case
        assert sizes["min_wal_size"] < sizes["max_wal_size"], case
        assert result["huge_pages"] == ("try" if shared_buffers >= 2 * 1024 * 1024 else "off"), case
        # work_mem never drops below PGTune's 4MB floor; above it, every connection may use it at
        # once next to shared_buffers without exceeding the memory (the floor alone may, when
        # thousands of connections share little memory).
        assert work_mem >= 4096, case
        if work_mem > 4096:
            assert shared_buffers + work_mem * connections <= memory_kb, case
            workers = result.get("max_worker_processes", 8)
            if db_size != "less_ram":
                assert work_mem * (connections + workers) * 3 <= memory_kb - shared_buffers, case
        # Sizes are printed in the largest unit that is exact, as PGTune prints them.
        for name, value in sizes.items():
            assert result[name] == ("%dGB" % (value >> 20) if value % (1 << 20) == 0
                                    else "%dMB" % (value >> 10) if value % 1024 == 0 else "%dkB" % value), case

        parallel = {key for key in result if "parallel" in key or key == "max_worker_processes"}
        if cpus < 4:
            assert not parallel, case
        else:
            assert result["max_worker_processes"] == result["max_parallel_workers"] == cpus, case
            assert result["max_parallel_workers_per_gather"] <= (cpus if workload == "dw" else 4), case
            assert ("max_parallel_maintenance_workers" in result) == (version >= 11), case
        assert ("io_method" in result) == (version >= 18), case
        assert ("jit" in result) == (version >= 12 and workload not in ("dw", "desktop")), case
        assert ("wal_level" in result) == (workload == "desktop"), case
        assert all(isinstance(value, (int, str)) and not isinstance(value, bool) for value in result.values()), case


# memory_budget

@pytest.mark.parametrize("total, claims, os_reserve, expected", [
    # The reference primary: 32 GB with an 8 GB Redis; the reserve is 10 % of 32768.
    (32768, {"redis": "8GB"}, "auto",
     {"total_mb": 32768, "os_reserve_mb": 3276, "claims_mb": {"redis": 8192}, "postgresql_mb": 32768 - 8192 - 3276}),
    # Alone on the host, PostgreSQL gets everything: PGTune already leaves the OS its quarter.
    (32768, {}, "auto", {"total_mb": 32768, "os_reserve_mb": 0, "claims_mb": {}, "postgresql_mb": 32768}),
    (32768, None, "auto", {"total_mb": 32768, "os_reserve_mb": 0, "claims_mb": {}, "postgresql_mb": 32768}),
    # Services claiming nothing do not count, nor trigger the reserve.
    (16384, {"redis": 0, "minio": None, "cache": "0MB"}, "auto",
     {"total_mb": 16384, "os_reserve_mb": 0, "claims_mb": {}, "postgresql_mb": 16384}),
    # On a small host the reserve is at least 512 MB.
    (4096, {"redis": 512}, "auto",
     {"total_mb": 4096, "os_reserve_mb": 512, "claims_mb": {"redis": 512}, "postgresql_mb": 3072}),
    # An explicit reserve wins, even 0, and even when PostgreSQL is alone.
    (65536, {"redis": "512 mb", "minio": "12.5%"}, "2GB",
     {"total_mb": 65536, "os_reserve_mb": 2048, "claims_mb": {"redis": 512, "minio": 8192}, "postgresql_mb": 54784}),
    (16384, {}, "10%", {"total_mb": 16384, "os_reserve_mb": 1638, "claims_mb": {}, "postgresql_mb": 14746}),
    (16384, {"redis": 1024.9}, 0,
     {"total_mb": 16384, "os_reserve_mb": 0, "claims_mb": {"redis": 1024}, "postgresql_mb": 15360}),
    ("8192", {"minio": "1GB"}, "auto",
     {"total_mb": 8192, "os_reserve_mb": 819, "claims_mb": {"minio": 1024}, "postgresql_mb": 6349}),
])
def test_memory_budget_splits(total, claims, os_reserve, expected):
    assert memory_budget(total, claims, os_reserve) == expected


def test_memory_budget_reads_every_unit_in_any_case():
    result = memory_budget(65536, {"redis": "1.5GB", "minio": "25%", "exporter": "262144KB", "sidekick": "100",
                                   "bulk": "0.01tb"}, "0")
    assert result["claims_mb"] == {"redis": 1536, "minio": 16384, "exporter": 256, "sidekick": 100, "bulk": 10485}
    assert result["postgresql_mb"] == 65536 - 1536 - 16384 - 256 - 100 - 10485


def test_memory_budget_defaults_to_auto():
    assert memory_budget(32768, {"redis": "8GB"}) == memory_budget(32768, {"redis": "8GB"}, "auto")


@pytest.mark.parametrize("total, claims, os_reserve, message", [
    (4096, {"redis": "3.3GB"}, "auto",
     r"^memory_budget: of 4096 MB, the OS reserve \(512 MB\) and the claims \(redis 3379 MB\) leave "
     r"PostgreSQL 205 MB; it needs at least 256 MB"),
    (4096, {"redis": "3GB", "minio": "512MB"}, "auto",
     r"the claims \(redis 3072 MB, minio 512 MB\) leave PostgreSQL 0 MB; it needs at least 256 MB"),
    (2048, {"redis": "8GB"}, "auto", r"\(redis 8192 MB\) leave PostgreSQL -6656 MB"),
    (65536, {"redis": "1tb"}, "auto", r"\(redis 1048576 MB\) leave PostgreSQL -989593 MB"),
    (1024, {}, "900MB", r"the OS reserve \(900 MB\) and the claims \(none\) leave PostgreSQL 124 MB"),
    (200, {}, "auto", r"leave PostgreSQL 200 MB; it needs at least 256 MB"),
    (32768, {"postgresql": "8GB"}, "auto", r"claims must not include postgresql"),
    (32768, {"PostgreSQL": 1}, "auto", r"claims must not include postgresql"),
    (32768, {"redis": "8 gigs"}, "auto", r"the claim of redis '8 gigs' is not a size such as 512 \(MB\)"),
    (32768, {"redis": "-1GB"}, "auto", r"the claim of redis '-1GB' is not a size"),
    (32768, {"redis": -5}, "auto", r"the claim of redis -5 is not a size of 0 MB or more"),
    (32768, {"redis": float("nan")}, "auto", r"the claim of redis nan is not a size of 0 MB or more"),
    (32768, {"redis": True}, "auto", r"the claim of redis True is not a size"),
    (32768, {"minio": "101%"}, "auto", r"the claim of minio '101%' is more than 100% of the host's RAM"),
    (32768, {"redis": "1GB"}, "lots", r"os_reserve 'lots' is not a size such as .*, nor 'auto'$"),
    (32768, {"redis": "1GB"}, "150%", r"os_reserve '150%' is more than 100%"),
    (32768, ["redis"], "auto", r"claims \['redis'\] is not a mapping of service name to size"),
    ("32GB", {}, "auto", r"the host's memory '32GB' is not a whole number of MB"),
    (0, {}, "auto", r"the host's memory 0 is not"),
])
def test_memory_budget_refuses(total, claims, os_reserve, message):
    with pytest.raises(AnsibleFilterError, match=message) as error:
        memory_budget(total, claims, os_reserve)
    assert str(error.value).startswith("memory_budget: ")


def test_memory_budget_parts_always_sum_to_total():
    sizes = (0, None, 1, 256, "512MB", "1.5GB", "2gb", "5%", "12.5%", "33%", "786432kB")
    reserves = ("auto", 0, "1GB", "7%")
    checked = 0
    for total in (1024, 2000, 4096, 8192, 15988, 32768, 65536, 262144):
        for redis, minio, reserve in itertools.product(sizes, sizes, reserves):
            claims = {"redis": redis, "minio": minio}
            try:
                result = memory_budget(total, claims, reserve)
            except AnsibleFilterError as error:
                assert "leave PostgreSQL" in str(error)
                continue
            checked += 1
            assert result["total_mb"] == total
            assert result["os_reserve_mb"] + sum(result["claims_mb"].values()) + result["postgresql_mb"] == total
            assert result["postgresql_mb"] >= 256
            assert all(value > 0 for value in result["claims_mb"].values())
            if reserve == "auto":
                assert result["os_reserve_mb"] == (max(512, total // 10) if result["claims_mb"] else 0)
    assert checked > 1000


def test_memory_budget_without_postgresql_leaves_the_rest_free():
    assert memory_budget(1024, {"redis": "30%"}, postgresql=False) == {
        "total_mb": 1024, "os_reserve_mb": 512, "claims_mb": {"redis": 307}, "postgresql_mb": 0}
    # What would starve PostgreSQL is fine without it, as long as it fits.
    assert memory_budget(4096, {"redis": "3.3GB"}, postgresql=False)["claims_mb"] == {"redis": 3379}
    with pytest.raises(AnsibleFilterError, match=r"the claims \(redis 2048 MB\) need 1536 MB more than the host has"):
        memory_budget(1024, {"redis": "2GB"}, postgresql=False)


@pytest.mark.parametrize("max_connections, databases, cpus, pool_size, expected", [
    # 80 % of 200 for one database: 160; four per CPU on 2 CPUs is below the minimum of 10.
    (200, ["app"], 2, 0, {"max_db_connections": 160, "default_pool_size": 10}),
    # 16 CPUs want 64 per pool, within the share of 160.
    (200, ["app"], 16, 0, {"max_db_connections": 160, "default_pool_size": 64}),
    # 32 CPUs want 128, but two databases share 160: 80 each.
    (200, ["app", "reports"], 32, 0, {"max_db_connections": 80, "default_pool_size": 80}),
    # No database yet counts as one; inventory strings are read as numbers.
    ("100", [], "4", 0, {"max_db_connections": 80, "default_pool_size": 16}),
    # Many databases never make a share of 0.
    (20, [f"db{n}" for n in range(40)], 2, 0, {"max_db_connections": 1, "default_pool_size": 1}),
    # The user's pool size wins.
    (200, ["app"], 2, 25, {"max_db_connections": 160, "default_pool_size": 25}),
])
def test_pgbouncer_pools_share_max_connections(max_connections, databases, cpus, pool_size, expected):
    assert pgbouncer_pools(max_connections, databases, cpus, pool_size) == expected


@pytest.mark.parametrize("arguments, message", [
    ((0, ["app"], 2), "max_connections 0"),
    (("many", ["app"], 2), "max_connections 'many'"),
    ((200, ["app"], 0), "cpus 0"),
    ((200, "app", 2), "databases 'app' is not a list"),
    ((200, ["app"], 2, -1), "pool_size -1"),
])
def test_pgbouncer_pools_refuse_bad_arguments(arguments, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        pgbouncer_pools(*arguments)
