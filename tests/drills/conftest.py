"""Fixtures for the failure drills: each private service started for the drill and always torn
down afterwards, even when the drill fails (the services themselves: tests/support/drills.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.drills import NetworkNamespace, RedisServer, private_cluster
from tests.support.gunicorn_server import free_port


@pytest.fixture
def postgres_pass(database_url):
    """Before any cluster is made: the SQLite pass skips, saying why (`pytest.mark.usefixtures`)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL drill: it runs in the suite's PostgreSQL pass (its module says why)")


@pytest.fixture
def postgres_cluster():
    """A fresh cluster with an empty `hotline_drill` database; stopped and deleted afterwards."""
    with private_cluster() as cluster:
        yield cluster


@pytest.fixture
def network_namespace():
    """A fresh namespace with its own /30 on a veth pair; deleted afterwards."""
    if shutil.which("ip") is None:
        pytest.fail("`ip` (Debian's iproute2 package) is needed to put a database behind a link that can be cut")
    tag = f"{os.getpid() % 100000}"
    subnet = f"10.{200 + os.getpid() % 50}.{os.getpid() % 250}"
    network = NetworkNamespace(
        name=f"hotline-drill-{tag}",
        outside=f"{subnet}.1",
        inside=f"{subnet}.2",
        link=f"hld{tag}o",
        far_link=f"hld{tag}i",
    )
    try:
        network.ip("netns", "add", network.name)
        network.ip("link", "add", network.link, "type", "veth", "peer", "name", network.far_link, "netns", network.name)
        network.ip("addr", "add", f"{network.outside}/30", "dev", network.link)
        network.ip("link", "set", network.link, "up")
        network.ip("addr", "add", f"{network.inside}/30", "dev", network.far_link, inside=True)
        network.ip("link", "set", network.far_link, "up", inside=True)
        network.ip("link", "set", "lo", "up", inside=True)
        # The far end's hardware address, known for good: once the link is cut, what is sent
        # there is dropped on the wire, as past a router, rather than failing at once for
        # want of an ARP answer ("no route to host").
        mac = subprocess.run(
            network.exec_prefix + ["cat", f"/sys/class/net/{network.far_link}/address"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.strip()
        network.ip("neigh", "replace", network.inside, "lladdr", mac, "dev", network.link, "nud", "permanent")
        yield network
    finally:
        subprocess.run(["ip", "link", "del", network.link], capture_output=True, timeout=20)
        subprocess.run(["ip", "netns", "del", network.name], capture_output=True, timeout=20)


@pytest.fixture
def redis_server():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server not found: install the Debian package `redis-server`; this drill kills a Redis of its own"
        )
    folder = Path(tempfile.mkdtemp(prefix="hotline-drill-redis-"))
    server = RedisServer(binary=binary, folder=folder, port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
