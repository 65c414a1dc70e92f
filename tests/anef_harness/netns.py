"""Hosts for tests as Linux network namespaces: one switch (a bridge), a veth link per host.

Each host is a namespace with its own loopback and one interface ``eth0`` on 10.77.0.0/24; the
switch is a namespace of its own, so nothing is added to the machine's network and the addresses
exist only inside. Commands run in a host with ``ip netns exec``; ``close()`` kills what was started
and removes every namespace, also after a failure. Needs root and iproute2's ``ip``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNET = 0x40000000
SUBNET = "10.77.0"


def unavailable() -> str | None:
    """Why namespaces cannot be built here, if so (the test is skipped with this reason)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if ip_command() is None:
        return "iproute2's ip is not installed"
    probe = f"anef-probe-{os.getpid()}"
    done = subprocess.run([ip_command() or "ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"ip netns add failed: {done.stderr.strip()}"
    subprocess.run([ip_command() or "ip", "netns", "del", probe], capture_output=True, check=False)
    return None


def ip_command() -> str | None:
    return shutil.which("ip") or next((p for p in ("/usr/sbin/ip", "/sbin/ip") if Path(p).exists()), None)


@dataclass
class Host:
    name: str
    namespace: str
    address: str


@dataclass
class Network:
    """A switch and hosts on it; a context manager that removes everything at its end."""

    tag: str = field(default_factory=lambda: f"anef{os.getpid()}")
    hosts: dict[str, Host] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.switch = f"{self.tag}-sw"
        self._namespaces: list[str] = []

    def __enter__(self) -> Network:
        self._add_namespace(self.switch)
        self.ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        self.ip("-n", self.switch, "link", "set", "br0", "up")
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def host(self, name: str, number: int) -> Host:
        namespace = f"{self.tag}-{name}"
        self._add_namespace(namespace)
        port = f"p{number}"  # the switch's end of the link
        self.ip("link", "add", "eth0", "netns", namespace, "type", "veth", "peer", "name", port, "netns", self.switch)
        self.ip("-n", self.switch, "link", "set", port, "master", "br0")
        self.ip("-n", self.switch, "link", "set", port, "up")
        address = f"{SUBNET}.{number}"
        self.ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        self.ip("-n", namespace, "link", "set", "eth0", "up")
        self.hosts[name] = host = Host(name, namespace, address)
        return host

    def cut(self, host: Host) -> None:
        self.ip("-n", host.namespace, "link", "set", "eth0", "down")

    def restore(self, host: Host) -> None:
        self.ip("-n", host.namespace, "link", "set", "eth0", "up")

    def start(
        self, host: Host, command: list[str], *, cwd: Path, log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A command run in the host's namespace (``ip netns exec`` execs it: the pid is the command's)."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(
                [ip_command() or "ip", "netns", "exec", host.namespace, *command],
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def reachable(self, host: Host, address: str, port: int) -> bool:
        """Whether a TCP connection from ``host`` to ``address:port`` opens (from a thread moved into
        the host's namespace: the test process itself stays where it is)."""
        answer: list[bool] = []

        def probe() -> None:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            descriptor = os.open(f"/run/netns/{host.namespace}", os.O_RDONLY)
            try:
                if libc.setns(descriptor, CLONE_NEWNET) != 0:
                    answer.append(False)
                    return
            finally:
                os.close(descriptor)
            try:
                with socket.create_connection((address, port), timeout=1.0):
                    answer.append(True)
            except OSError:
                answer.append(False)

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        return bool(answer and answer[0])

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for namespace in reversed(self._namespaces):
            subprocess.run([ip_command() or "ip", "netns", "del", namespace], capture_output=True, check=False)
        self._namespaces.clear()

    def ip(self, *args: str) -> None:
        done = subprocess.run([ip_command() or "ip", *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")

    def _add_namespace(self, namespace: str) -> None:
        self.ip("netns", "add", namespace)
        self._namespaces.append(namespace)
        self.ip("-n", namespace, "link", "set", "lo", "up")
