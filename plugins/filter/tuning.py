# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hardware-based tuning: PostgreSQL settings from RAM and CPUs, and RAM shared between services.

pg_tune reproduces the formulas of PGTune (https://pgtune.leopard.in.ua, le0pard/pgtune,
src/features/configuration/configurationSlice.js at commit 830d3bb3, June 2026) for Linux, so
the numbers can be checked against the web page. memory_budget decides what share of a host's
RAM those formulas get when Redis or MinIO run on the same machine. pgbouncer_pools sizes
PgBouncer's pools from the max_connections pg_tune gives.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

KB_PER_MB = 1024
KB_PER_GB = 1024 * 1024

STORAGES = ("hdd", "ssd", "nvme", "san")
WORKLOADS = ("web", "oltp", "dw", "mixed", "desktop")
DB_SIZES = ("less_ram", "mid_ram", "greater_ram")
VERSIONS = range(10, 19)  # the PostgreSQL versions PGTune offers
MIN_MEMORY_MB = 256  # below this PGTune itself warns that its formulas do not hold
MAX_CONNECTIONS = (20, 262143)  # PGTune's form minimum; PostgreSQL's MAX_BACKENDS

DEFAULT_CONNECTIONS = {"web": 200, "oltp": 300, "dw": 40, "desktop": 20, "mixed": 100}
# PGTune's shares of the memory for shared_buffers, effective_cache_size and maintenance_work_mem.
SHARED_BUFFERS_DIVISOR = {"web": 4, "oltp": 4, "dw": 4, "desktop": 16, "mixed": 4}
CACHE_SIZE_SHARE = {"web": (3, 4), "oltp": (3, 4), "dw": (3, 4), "desktop": (1, 4), "mixed": (3, 4)}
MAINTENANCE_DIVISOR = {"web": 16, "oltp": 16, "dw": 8, "desktop": 16, "mixed": 16}
# Each connection may use work_mem several times per query; analytics and desktops get less each.
WORK_MEM_DIVISOR = {"web": 1, "oltp": 1, "dw": 2, "desktop": 6, "mixed": 2}
WAL_SIZE_MB = {"web": (1024, 4096), "oltp": (2048, 8192), "dw": (4096, 16384), "desktop": (100, 2048),
               "mixed": (1024, 4096)}
STATISTICS_TARGET = {"web": 100, "oltp": 100, "dw": 500, "desktop": 100, "mixed": 100}
IO_CONCURRENCY = {"hdd": 2, "ssd": 200, "san": 300, "nvme": 1000}

MAINTENANCE_WORK_MEM_CAP_KB = 8 * KB_PER_GB
AUTOVACUUM_WORK_MEM_CAP_KB = 2 * KB_PER_GB
HUGE_PAGES_FROM_KB = 2 * KB_PER_GB
WAL_BUFFERS_MAX_KB = 16 * KB_PER_MB
WAL_BUFFERS_ROUND_UP_FROM_KB = 14 * KB_PER_MB
WAL_BUFFERS_MIN_KB = 32
WORK_MEM_MIN_KB = 4 * KB_PER_MB
# Below 4 CPUs PGTune leaves max_worker_processes at PostgreSQL's default, 8, and work_mem allows for that.
DEFAULT_WORKER_PROCESSES = 8

SIZE_UNITS_MB = {"kb": 1 / 1024, "mb": 1, "gb": 1024, "tb": 1024 * 1024}
SIZE_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kb|mb|gb|tb|%)?\s*$", re.IGNORECASE)
OS_RESERVE_MIN_MB = 512
OS_RESERVE_PERCENT = 10
MIN_POSTGRESQL_MB = MIN_MEMORY_MB
# PgBouncer's pools: the databases share this part of max_connections (the rest stays for
# superusers, replication and monitoring); a database's pool is this many server connections per
# CPU, at least MIN_POOL_SIZE, within its share.
POOLED_SHARE = 0.8
POOL_PER_CPU = 4
MIN_POOL_SIZE = 10


def _whole(value):
    """A whole number (or its digits, as inventory strings give it), or None."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _setting_size(kb):
    """A size in kB the way PGTune prints it: in GB or MB only when that loses nothing."""
    if kb % KB_PER_GB == 0:
        return f"{kb // KB_PER_GB}GB"
    if kb % KB_PER_MB == 0:
        return f"{kb // KB_PER_MB}MB"
    return f"{kb}kB"


def _one_of(argument, value, choices):
    if value not in choices:
        raise AnsibleFilterError(f"pg_tune: {argument} {value!r} is not one of {', '.join(choices)}")
    return value


def _parallel_settings(cpus, workload, version):
    """PGTune sets parallelism only from 4 CPUs; below that PostgreSQL's defaults stay."""
    if cpus < 4:
        return {}
    per_gather = math.ceil(cpus / 2)
    if workload != "dw":
        per_gather = min(per_gather, 4)
    settings = {"max_worker_processes": cpus, "max_parallel_workers_per_gather": per_gather,
                "max_parallel_workers": cpus}
    if version >= 11:
        settings["max_parallel_maintenance_workers"] = min(math.ceil(cpus / 2), 4)
    return settings


def _work_mem_kb(memory_kb, shared_buffers_kb, connections, workers, workload, db_size):
    # PGTune's rule: what shared_buffers leaves, shared by every connection and worker, each
    # counted three times because one query may sort or hash several times at once.
    per_connection = (memory_kb - shared_buffers_kb) / ((connections + workers) * 3)
    work_mem = math.floor(per_connection / WORK_MEM_DIVISOR[workload])
    # Same float arithmetic as PGTune's JavaScript, so the results match to the kB.
    if db_size == "less_ram":
        work_mem = math.floor(work_mem * 1.3)  # the page cache has little to hold
    elif db_size == "greater_ram":
        work_mem = math.floor(work_mem * 0.9)  # the page cache is under pressure
    return max(work_mem, WORK_MEM_MIN_KB)


def _wal_buffers_kb(shared_buffers_kb):
    # PostgreSQL's own auto-tuning: 3 % of shared_buffers, at most 16MB; PGTune rounds values
    # just below 16MB up to it.
    wal_buffers = min(3 * shared_buffers_kb // 100, WAL_BUFFERS_MAX_KB)
    if WAL_BUFFERS_ROUND_UP_FROM_KB < wal_buffers < WAL_BUFFERS_MAX_KB:
        wal_buffers = WAL_BUFFERS_MAX_KB
    return max(wal_buffers, WAL_BUFFERS_MIN_KB)


def _random_page_cost(storage, workload, db_size):
    if db_size == "less_ram":
        return "1.1"  # every read is served from the page cache
    if storage == "hdd" or workload == "dw":
        # A low cost on a warehouse larger than RAM makes the planner choose index scans for
        # large retrievals, slower than sequential scans even on SSDs.
        return "4"
    return "1.1"


def pg_tune(memory_mb, cpus, storage="ssd", workload="web", max_connections=None, version=15,
            db_size="mid_ram"):
    """PGTune's postgresql.conf settings (Linux) for memory_mb of RAM and cpus CPUs, each value in
    the form postgresql.conf accepts; settings PGTune leaves at PostgreSQL's default are absent."""
    memory = _whole(memory_mb)
    if memory is None or memory < MIN_MEMORY_MB:
        raise AnsibleFilterError(f"pg_tune: the memory {memory_mb!r} is not a whole number of MB of at least "
                                 f"{MIN_MEMORY_MB}, such as 16384 (the RAM PostgreSQL may use)")
    cpu_count = _whole(cpus)
    if cpu_count is None or cpu_count < 1:
        raise AnsibleFilterError(f"pg_tune: cpus {cpus!r} is not a whole number of at least 1, such as 4")
    _one_of("storage", storage, STORAGES)
    _one_of("workload", workload, WORKLOADS)
    _one_of("db_size", db_size, DB_SIZES)
    major = _whole(version)
    if major not in VERSIONS:
        raise AnsibleFilterError(f"pg_tune: version {version!r} is not a PostgreSQL major version from "
                                 f"{VERSIONS[0]} to {VERSIONS[-1]}, such as 15")
    if max_connections is None:
        connections = DEFAULT_CONNECTIONS[workload]
    else:
        connections = _whole(max_connections)
        if connections is None or not MAX_CONNECTIONS[0] <= connections <= MAX_CONNECTIONS[1]:
            raise AnsibleFilterError(f"pg_tune: max_connections {max_connections!r} is not a whole number from "
                                     f"{MAX_CONNECTIONS[0]} to {MAX_CONNECTIONS[1]}, or none for the "
                                     f"workload's default ({DEFAULT_CONNECTIONS[workload]} for {workload})")

    memory_kb = memory * KB_PER_MB
    shared_buffers = memory_kb // SHARED_BUFFERS_DIVISOR[workload]
    numerator, denominator = CACHE_SIZE_SHARE[workload]
    maintenance = min(memory_kb // MAINTENANCE_DIVISOR[workload], MAINTENANCE_WORK_MEM_CAP_KB)
    parallel = _parallel_settings(cpu_count, workload, major)
    workers = parallel.get("max_worker_processes", DEFAULT_WORKER_PROCESSES)
    min_wal_mb, max_wal_mb = WAL_SIZE_MB[workload]

    settings = {
        "max_connections": connections,
        "shared_buffers": _setting_size(shared_buffers),
        "effective_cache_size": _setting_size(memory_kb * numerator // denominator),
        "maintenance_work_mem": _setting_size(maintenance),
        "checkpoint_completion_target": "0.9",
        "wal_buffers": _setting_size(_wal_buffers_kb(shared_buffers)),
        "default_statistics_target": STATISTICS_TARGET[workload],
        "random_page_cost": _random_page_cost(storage, workload, db_size),
        "effective_io_concurrency": IO_CONCURRENCY[storage],
        "work_mem": _setting_size(_work_mem_kb(memory_kb, shared_buffers, connections, workers, workload,
                                               db_size)),
        "huge_pages": "try" if shared_buffers >= HUGE_PAGES_FROM_KB else "off",
    }
    if major >= 12 and workload in ("web", "oltp", "mixed"):
        settings["jit"] = "off"  # JIT slows short queries down; it pays off only for analytics
    settings["wal_compression"] = "lz4" if major >= 15 else "on"
    if cpu_count >= 16:
        settings["autovacuum_max_workers"] = 5 if cpu_count >= 32 else 4
    if maintenance >= AUTOVACUUM_WORK_MEM_CAP_KB:
        # Each autovacuum worker would otherwise take all of maintenance_work_mem.
        settings["autovacuum_work_mem"] = _setting_size(AUTOVACUUM_WORK_MEM_CAP_KB)
    if major >= 18:
        settings["io_method"] = "io_uring"
    settings["min_wal_size"] = _setting_size(min_wal_mb * KB_PER_MB)
    settings["max_wal_size"] = _setting_size(max_wal_mb * KB_PER_MB)
    settings.update(parallel)
    if workload == "desktop":
        settings["wal_level"] = "minimal"
        settings["max_wal_senders"] = 0  # required by wal_level=minimal
    return settings


def _size_mb(value, total_mb, what):
    """Whole MB from an int (MB), a size such as "1.5GB" or a share of total_mb such as "25%"."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise AnsibleFilterError(f"memory_budget: {what} {value!r} is not a size such as 512, '512MB', "
                                 "'8GB' or '25%'")
    if isinstance(value, (int, float)):
        if not 0 <= value < math.inf:
            raise AnsibleFilterError(f"memory_budget: {what} {value!r} is not a size of 0 MB or more")
        return int(value)
    match = SIZE_PATTERN.match(str(value))
    if not match:
        raise AnsibleFilterError(f"memory_budget: {what} {value!r} is not a size such as 512 (MB), '512MB', "
                                 "'1.5GB' (units kB, MB, GB, TB, in 1024s) or '25%' (of the host's RAM)"
                                 + (", nor 'auto'" if what == "os_reserve" else ""))
    number, unit = float(match.group(1)), (match.group(2) or "mb").lower()
    if unit == "%":
        if number > 100:
            raise AnsibleFilterError(f"memory_budget: {what} {value!r} is more than 100% of the host's RAM")
        return int(total_mb * number // 100)
    return int(number * SIZE_UNITS_MB[unit])


def memory_budget(total_mb, claims=None, os_reserve="auto", postgresql=True):
    """Split total_mb of RAM into a reserve for the OS, the claims of the other services on the host,
    and the rest, which is PostgreSQL's; without PostgreSQL on the host (postgresql=False), the rest
    stays free and the claims need only fit beside the reserve."""
    total = _whole(total_mb)
    if total is None or total < 1:
        raise AnsibleFilterError(f"memory_budget: the host's memory {total_mb!r} is not a whole number of MB, "
                                 "such as ansible_memtotal_mb")
    if claims is None:
        claims = {}
    if not isinstance(claims, Mapping):
        raise AnsibleFilterError(f"memory_budget: claims {claims!r} is not a mapping of service name to size, "
                                 "such as {'redis': '8GB'}")
    claims_mb = {}
    for service, size in claims.items():
        if str(service).lower() == "postgresql":
            raise AnsibleFilterError("memory_budget: claims must not include postgresql; PostgreSQL gets what "
                                     "the OS reserve and the other services leave")
        size_mb = _size_mb(size, total, f"the claim of {service}")
        if size_mb:
            claims_mb[service] = size_mb

    if os_reserve == "auto":
        # Alone, PostgreSQL needs no reserve: PGTune's formulas leave a quarter of RAM to the OS.
        # Next to other services the kernel needs room of its own: Redis forks for RDB snapshots
        # and AOF rewrites (copy-on-write pages), MinIO lives on the page cache.
        reserve = max(OS_RESERVE_MIN_MB, total * OS_RESERVE_PERCENT // 100) if claims_mb else 0
    else:
        reserve = _size_mb(os_reserve, total, "os_reserve")

    rest = total - reserve - sum(claims_mb.values())
    taken = ", ".join(f"{service} {size} MB" for service, size in claims_mb.items()) or "none"
    if not postgresql and rest < 0:
        raise AnsibleFilterError(f"memory_budget: of {total} MB, the OS reserve ({reserve} MB) and the claims "
                                 f"({taken}) need {-rest} MB more than the host has. Lower the claims or "
                                 "os_reserve, or give the host more RAM")
    if postgresql and rest < MIN_POSTGRESQL_MB:
        raise AnsibleFilterError(f"memory_budget: of {total} MB, the OS reserve ({reserve} MB) and the claims "
                                 f"({taken}) leave PostgreSQL {rest} MB; it needs at least "
                                 f"{MIN_POSTGRESQL_MB} MB. Lower the claims or os_reserve, or give the host "
                                 "more RAM")
    return {"total_mb": total, "os_reserve_mb": reserve, "claims_mb": claims_mb,
            "postgresql_mb": rest if postgresql else 0}


def pgbouncer_pools(max_connections, databases, cpus, pool_size=0):
    """PgBouncer's max_db_connections and default_pool_size for the list `databases` sharing
    POOLED_SHARE of PostgreSQL's max_connections on a host with `cpus` CPUs; pool_size, when
    given, is the pool."""
    connections = _whole(max_connections)
    cores = _whole(cpus)
    size = _whole(pool_size or 0)
    if connections is None or connections < 1:
        raise AnsibleFilterError(f"pgbouncer_pools: max_connections {max_connections!r} is not a whole number "
                                 "above 0")
    if cores is None or cores < 1:
        raise AnsibleFilterError(f"pgbouncer_pools: cpus {cpus!r} is not a whole number above 0")
    if size is None or size < 0:
        raise AnsibleFilterError(f"pgbouncer_pools: pool_size {pool_size!r} is not a whole number (0: computed)")
    if not isinstance(databases, (list, tuple)):
        raise AnsibleFilterError(f"pgbouncer_pools: databases {databases!r} is not a list")
    share = max(1, int(connections * POOLED_SHARE / max(len(databases), 1)))
    return {"max_db_connections": share,
            "default_pool_size": size or min(share, max(MIN_POOL_SIZE, cores * POOL_PER_CPU))}


class FilterModule:
    """selfhost.stack tuning filters."""

    def filters(self):
        return {"pg_tune": pg_tune, "memory_budget": memory_budget, "pgbouncer_pools": pgbouncer_pools}
