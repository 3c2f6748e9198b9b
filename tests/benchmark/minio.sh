#!/usr/bin/env bash
# Benchmark of the MinIO role's site replication (not a test: it reports numbers and asserts
# nothing), on the instances of the molecule scenario `objectstore`: the delay from the end of a
# 10 MB upload to site A until site B serves the whole object, over several uploads.
# Usage: tests/benchmark/minio.sh   (make benchmark); leaves nothing running.
set -euo pipefail
# shellcheck source=tests/benchmark/scenario.sh
source "$(dirname "$0")/scenario.sh"
scenario_instances objectstore
site_a=$(docker exec minio-a hostname -I | awk '{print $1}')
site_b=$(docker exec minio-b hostname -I | awk '{print $1}')
# The sites serve HTTPS with the scenario's certificates, made by its CA.
ca=$(find ~/.ansible/tmp -maxdepth 3 -path '*.objectstore/tls/ca.crt' | head -1)

python3 - "$ca" "$site_a" "$site_b" <<'PY'
import io, os, statistics, sys, time
import urllib3
from minio import Minio
from minio.error import S3Error

runs, size = 10, 10 * 1024 * 1024
https = urllib3.PoolManager(ca_certs=sys.argv[1], cert_reqs="CERT_REQUIRED")
site_a, site_b = (Minio(f"{address}:9000", "app", "scenario-app-secret", secure=True, http_client=https)
                  for address in sys.argv[2:])
delays = []
for run in range(runs):
    body = os.urandom(size)
    site_a.put_object("app-files", f"bench-{run}", io.BytesIO(body), size)
    uploaded = time.monotonic()
    while True:
        try:
            if site_b.get_object("app-files", f"bench-{run}").read() == body:
                break
        except S3Error:
            pass
        time.sleep(0.02)
    delays.append(time.monotonic() - uploaded)
print(f"10 MB object, end of upload to A until B serves it ({runs} runs): "
      f"median {statistics.median(delays):.3f} s, min {min(delays):.3f} s, max {max(delays):.3f} s")
PY
