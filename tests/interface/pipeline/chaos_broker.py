"""A throwaway RabbitMQ node for tests that restart the broker.

The shared broker on 5672 serves every other test, so it is never restarted. This node gets
its own name (`scs-chaos-<random>@localhost`), free loopback ports, a data and log folder in a
temporary directory (its own HOME, hence its own Erlang cookie), no plugins, and listens on
127.0.0.1 only (AMQP and Erlang distribution). `restart` stops the node and starts it again on
the same data folder: durable queues and persistent messages survive, connections do not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from nameko.testing.utils import find_free_port

BIN = Path("/usr/lib/rabbitmq/bin")
LOOPBACK_DIST = "-kernel inet_dist_use_interface {127,0,0,1}"


def available() -> bool:
    return (BIN / "rabbitmq-server").exists() and (BIN / "rabbitmqctl").exists()


class ChaosBroker:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="scs-chaos-"))
        self.node = f"scs-chaos-{uuid.uuid4().hex[:8]}@localhost"
        self.port = find_free_port()
        self.dist_port = find_free_port()
        self.process: subprocess.Popen[bytes] | None = None
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        (self.folder / "enabled_plugins").write_text("[].\n")

    @property
    def amqp_uri(self) -> str:
        return f"pyamqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.folder),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.folder / "pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": LOOPBACK_DIST,
            "RABBITMQ_CTL_ERL_ARGS": LOOPBACK_DIST,
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def ctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(BIN / "rabbitmqctl"), "-n", self.node, "-q", *args],
            env=self._env(),
            capture_output=True,
            timeout=timeout,
        )

    def start(self, timeout: float = 60) -> None:
        log = open(self.folder / "server.out", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [str(BIN / "rabbitmq-server")], env=self._env(), stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited; see {self.folder}/server.out")
            if self.ctl("status", timeout=15).returncode == 0:
                self.ctl("await_startup", "--timeout", str(int(timeout)), timeout=timeout)
                return
            time.sleep(0.3)
        raise TimeoutError(f"the chaos broker did not start in {timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.ctl("stop", timeout=30)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()  # our own node, by its pid
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> float:
        """Stop and start the node; answers the seconds the broker was away."""
        began = time.monotonic()
        self.stop()
        self.start()
        return time.monotonic() - began

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
