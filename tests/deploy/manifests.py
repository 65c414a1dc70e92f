"""The deployment files as the tests read them: every Kubernetes document of deploy/kubernetes/, the
containers of its pods, the campaign of its ConfigMap, and the command lines the Locust operator builds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
CRD = Path(__file__).resolve().parent / "schemas" / "locust.io_locusttests.yaml"

# What the Locust operator 2.4.1 appends (internal/resources/command.go, constants.go).
OPERATOR_MASTER_PORT = 5557


def documents() -> list[tuple[Path, dict[str, Any]]]:
    """Every document of every manifest, with its file."""
    found = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document is not None:
                found.append((path, document))
    return found


def one(kind: str, name: str) -> dict[str, Any]:
    """The document of this kind and name (exactly one)."""
    matches = [d for _, d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def pod_spec(document: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Pod or a Job."""
    return document["spec"]["template"]["spec"] if document["kind"] == "Job" else document["spec"]


def containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, container, pod spec) of every container the manifests start."""
    for path, document in documents():
        if document["kind"] in ("Job", "Pod"):
            spec = pod_spec(document)
            for container in spec["containers"]:
                yield f"{path.name}: {document['kind']} {document['metadata']['name']}", container, spec


def campaign_text() -> str:
    return str(one("ConfigMap", "anef-campaign")["data"]["campaign.yaml"])


def option(arguments: list[str], name: str) -> str:
    """The value given to ``name`` (``--name VALUE``) in a command line."""
    assert name in arguments, f"{name} not in {arguments}"
    return arguments[arguments.index(name) + 1]


def operator_master_command(spec: dict[str, Any]) -> list[str]:
    """The master's arguments as the operator builds them from a LocustTest spec (BuildMasterCommand)."""
    master = spec["master"]
    arguments = [
        *str(master["command"]).split(),
        "--master",
        f"--master-port={OPERATOR_MASTER_PORT}",
        f"--expect-workers={spec['worker']['replicas']}",
    ]
    if master.get("autostart", True):
        arguments.append("--autostart")
    autoquit = master.get("autoquit")
    if autoquit is None or autoquit["enabled"]:
        arguments += ["--autoquit", str((autoquit or {}).get("timeout", 60))]
    return [*arguments, "--enable-rebalancing", "--only-summary", *master.get("extraArgs", [])]


def operator_worker_command(name: str, spec: dict[str, Any]) -> list[str]:
    """A worker's arguments as the operator builds them (BuildWorkerCommand): its master is NAME-master."""
    return [
        *str(spec["worker"]["command"]).split(),
        "--worker",
        f"--master-port={OPERATOR_MASTER_PORT}",
        f"--master-host={name.replace('.', '-')}-master",
        *spec["worker"].get("extraArgs", []),
    ]
