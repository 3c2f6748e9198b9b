"""Fixtures shared by the module tests: running a module in this process, and real MinIO servers."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ansible.module_utils import _internal as ansible_internal
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

REPO = Path(__file__).resolve().parents[4]
MINIO_ROOT_USER = "selfhost-root"


@pytest.fixture
def run_module(capsys, monkeypatch):
    """Runs module's main() with arguments (check and diff mode as asked); returns its result."""
    # Once a test has loaded controller code (the filters' tests do), a module's warnings would go
    # to the controller's display instead of its result.
    monkeypatch.setattr(ansible_internal, "is_controller", False)

    def run(module, arguments, check=False, diff=True):
        try:
            with patch_module_args(dict(arguments, _ansible_check_mode=check, _ansible_diff=diff)):
                with pytest.raises(SystemExit):
                    module.main()
        finally:
            # A module's warnings are kept process-wide until a process ends; a module's does, here.
            for kept in (getattr(ansible_warnings, "_global_warnings", []), getattr(ansible_warnings, "_global_deprecations", [])):
                kept.clear()
        return json.loads(capsys.readouterr().out)

    return run


class MinioServer:
    """One MinIO server on loopback, single drive, its data in a temporary directory."""

    def __init__(self, binary, directory, certs=None):
        self.root_password = secrets.token_hex(16)
        self.directory = directory
        self.port = free_port()
        self.endpoint = f"{'https' if certs else 'http'}://127.0.0.1:{self.port}"
        tls = ["--certs-dir", str(certs)] if certs else []
        env = dict(os.environ, MINIO_ROOT_USER=MINIO_ROOT_USER, MINIO_ROOT_PASSWORD=self.root_password,
                   MINIO_BROWSER="off", MINIO_UPDATE="off", MINIO_CI_CD="1")
        self.log = open(directory / "minio.log", "wb")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [binary, "server", "--quiet", "--address", f"127.0.0.1:{self.port}", *tls, str(directory / "data")],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, seconds=30):
        deadline = time.monotonic() + seconds
        unverified = ssl.create_default_context()
        unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE  # only asks whether it is up
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"MinIO on port {self.port} exited: {(self.directory / 'minio.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/minio/health/ready", timeout=2,
                                            context=unverified) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"MinIO on port {self.port} was not ready in {seconds}s")

    def connection(self, **overrides):
        """The modules' connection options for this server, as root."""
        return dict(dict(endpoint=self.endpoint, login_access_key=MINIO_ROOT_USER,
                         login_secret_key=self.root_password), **overrides)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def minio_binary():
    """The MinIO server binary tests/artifacts/minio.sh builds (once); the tests skip without it."""
    try:
        built = subprocess.run([str(REPO / "tests/artifacts/minio.sh")], capture_output=True, text=True,
                               timeout=1800, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"no MinIO server binary: {error}")
    if built.returncode != 0:
        pytest.skip(f"no MinIO server binary: {built.stderr.strip()[-500:]}")
    return built.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def minio_servers(minio_binary, tmp_path_factory):
    """start(count, certs): that many new MinIO servers, ready (with TLS when certs, a directory
    with public.crt and private.key, is given); every one is stopped at the session's end."""
    started = []

    def start(count=1, certs=None):
        servers = [MinioServer(minio_binary, tmp_path_factory.mktemp("minio"), certs) for unused in range(count)]
        started.extend(servers)
        for server in servers:
            server.wait_ready()
        return servers

    yield start
    for server in started:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def minio_server(minio_servers):
    """One MinIO server shared by the tests of buckets, policies and users."""
    return minio_servers(1)[0]
