"""The Kubernetes manifests (deploy/kubernetes/), validated offline: no cluster runs here.

Built-in kinds against the Kubernetes API's OpenAPI schemas (kubernetes-validate, strict: an unknown
field is an error, as kubectl's strict field validation makes it), the LocustTest against the Locust
operator's CRD (tests/deploy/schemas/) and its webhook's rules; the pieces that must agree (the
master's Service, the workers' address, the number of workers, the volumes) are checked together,
and the campaign of the ConfigMap is loaded by the harness's own loader with the master's options.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from anef_harness.campaign import load_campaign
from core.errors import ConfigError
from tests.deploy.manifests import (
    CRD,
    campaign_text,
    containers,
    documents,
    one,
    operator_master_command,
    option,
    pod_spec,
)

# The oldest Kubernetes the manifests are meant for (native sidecars, which the operator's metrics
# exporter uses, came in 1.29) and the newest whose schemas kubernetes-validate carries.
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
BUILT_IN = {"ConfigMap", "PersistentVolumeClaim", "Service", "Job", "Pod"}


def test_every_document_is_a_kind_this_test_validates() -> None:
    kinds = {document["kind"] for _, document in documents()}
    assert kinds == BUILT_IN | {"LocustTest"}


@pytest.mark.parametrize("version", VERSIONS)
def test_built_in_kinds_are_valid_against_the_kubernetes_schemas(version: str) -> None:
    checked = 0
    for path, document in documents():
        if document["kind"] in BUILT_IN:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{path.name}: {document['kind']} {document['metadata']['name']}: {exc.message}")
            checked += 1
    assert checked >= 6


def test_the_kubernetes_check_refuses_an_unknown_field() -> None:
    job = copy.deepcopy(one("Job", "anef-master"))
    job["spec"]["template"]["spec"]["containers"][0]["argz"] = ["run"]
    with pytest.raises(kubernetes_validate.ValidationError, match="argz"):
        kubernetes_validate.validate(job, VERSIONS[-1], strict=True)


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The CRD's schema with unknown fields refused where the API server refuses them (strict field
    validation): every object with properties, unless it preserves unknown fields."""
    schema = dict(schema)
    if "properties" in schema:
        schema["properties"] = {name: _strict(sub) for name, sub in schema["properties"].items()}
        if "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = _strict(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            schema[key] = [_strict(sub) for sub in schema[key]]
    return schema


def _locusttest_validator(api_version: str) -> jsonschema.Draft4Validator:
    crd = yaml.safe_load(CRD.read_text(encoding="utf-8"))
    group = crd["spec"]["group"]
    versions = {f"{group}/{v['name']}": v for v in crd["spec"]["versions"] if v["served"]}
    assert api_version in versions, f"{api_version}: the CRD serves {', '.join(versions)}"
    schema = _strict(versions[api_version]["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}  # checked by the Kubernetes schemas' ObjectMeta below
    return jsonschema.Draft4Validator(schema)


def _locusttest_problems(document: dict[str, Any]) -> list[str]:
    """What the CRD's schema and the operator's admission webhook (api/v2/locusttest_webhook.go) refuse."""
    problems = [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _locusttest_validator(document["apiVersion"]).iter_errors(document)
    ]
    name, spec = document["metadata"]["name"], document["spec"]
    if len(name) > 56:  # the Jobs are named NAME-master and NAME-worker, at most 63 characters
        problems.append(f"metadata.name: {name!r} is longer than 56 characters")
    volumes = {volume["name"] for volume in spec.get("volumes", [])}
    reserved = {"/lotest/src", "/opt/locust/lib"}
    for mount in spec.get("volumeMounts", []):
        if mount["name"] not in volumes:
            problems.append(f"volumeMounts: {mount['name']} names no volume")
        path = mount["mountPath"].rstrip("/")
        if any(path == r or path.startswith(f"{r}/") or r.startswith(f"{path}/") for r in reserved):
            problems.append(f"volumeMounts: {path} is the operator's")
    for volume in volumes:
        if volume.startswith("secret-") or volume in ("locust-lib", f"{name}-master", f"{name}-worker"):
            problems.append(f"volumes: {volume} is a name the operator uses")
    return problems


def test_the_locusttest_is_valid_against_the_operators_crd() -> None:
    document = one("LocustTest", "anef-campaign")
    assert document["apiVersion"] == "locust.io/v2"
    assert _locusttest_problems(document) == []
    meta = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": document["metadata"]}  # ObjectMeta's own rules
    kubernetes_validate.validate(meta, VERSIONS[-1], strict=True)


def test_the_locusttest_check_refuses_what_the_operator_refuses() -> None:
    document = copy.deepcopy(one("LocustTest", "anef-campaign"))
    document["spec"]["worker"]["replicas"] = "four"
    document["spec"]["master"]["comand"] = "run"
    document["spec"]["volumeMounts"].append({"name": "campaign", "mountPath": "/lotest/src/x"})
    problems = _locusttest_problems(document)
    assert any(p.startswith("spec.worker.replicas: 'four' is not of type 'integer'") for p in problems), problems
    assert any("'comand' was unexpected" in p for p in problems), problems
    assert "volumeMounts: campaign names no volume" in problems
    assert "volumeMounts: /lotest/src/x is the operator's" in problems


def _mounts(spec: dict[str, Any], container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Mount path → the volume mounted there."""
    volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
    return {mount["mountPath"]: volumes[mount["name"]] for mount in container.get("volumeMounts", [])}


def test_the_workers_reach_the_master_through_its_service() -> None:
    service, master, workers = one("Service", "anef-master"), one("Job", "anef-master"), one("Job", "anef-workers")
    master_container = pod_spec(master)["containers"][0]
    labels = master["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    worker_labels = workers["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= worker_labels.items(), "the Service would pick workers too"
    (port,) = service["spec"]["ports"]
    named = {p["name"]: p["containerPort"] for p in master_container["ports"]}
    master_port = int(option(master_container["args"], "--master-port"))
    assert named[port["targetPort"]] == master_port
    worker_args = pod_spec(workers)["containers"][0]["args"]
    assert option(worker_args, "--master") == f"{service['metadata']['name']}:{port['port']}"
    assert option(master_container["args"], "--master-bind") == "0.0.0.0"
    assert "--allow-remote" in master_container["args"]


def test_the_master_expects_as_many_workers_as_the_job_starts() -> None:
    master, workers = one("Job", "anef-master"), one("Job", "anef-workers")
    expected = int(option(pod_spec(master)["containers"][0]["args"], "--expect-workers"))
    assert workers["spec"]["parallelism"] == workers["spec"]["completions"] == expected


def test_a_master_is_never_retried() -> None:
    """Its exit code is the run's verdict: a retry after a failed verdict would be another campaign."""
    master = one("Job", "anef-master")
    assert master["spec"]["backoffLimit"] == 0
    assert pod_spec(master)["restartPolicy"] == "Never"


def test_every_pod_runs_as_the_images_user_with_limits_and_a_writable_home_and_tmp() -> None:
    for where, container, spec in containers():
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["runAsUser"] == 10001, where
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["capabilities"]["drop"] == ["ALL"], where
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), where
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys(), where
        if security.get("readOnlyRootFilesystem"):
            assert "/tmp" in _mounts(spec, container), where
        if container.get("args", [""])[0] in ("run", "worker"):
            assert "/home/anef" in _mounts(spec, container), f"{where}: its working folder is read-only"


def test_the_master_gets_the_campaign_the_results_volume_and_the_token_from_a_secret() -> None:
    master = one("Job", "anef-master")
    spec = pod_spec(master)
    container = spec["containers"][0]
    mounts = _mounts(spec, container)
    campaign_file = Path(container["args"][1])
    assert mounts[str(campaign_file.parent)]["configMap"]["name"] == "anef-campaign"
    assert campaign_file.name in one("ConfigMap", "anef-campaign")["data"]
    root = yaml.safe_load(campaign_text())["outputs"]["root"]
    claim = mounts[root]["persistentVolumeClaim"]["claimName"]
    assert one("PersistentVolumeClaim", claim)
    reader = one("Pod", "anef-results-reader")
    assert _mounts(reader["spec"], reader["spec"]["containers"][0])[root]["persistentVolumeClaim"]["claimName"] == claim
    (token,) = [e for e in container["env"] if e["name"] == "ANEF_ADMIN_TOKEN"]
    assert set(token) == {"name", "valueFrom"}, "the token comes from a Secret, never written in a manifest"
    assert token["valueFrom"]["secretKeyRef"]["name"] == "anef-admin-token"


def test_the_locusttest_mounts_what_the_jobs_mount() -> None:
    spec = one("LocustTest", "anef-campaign")["spec"]
    assert spec["testFiles"]["configMapRef"] == "anef-campaign"
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    mounts = {mount["mountPath"]: (volumes[mount["name"]], mount["target"]) for mount in spec["volumeMounts"]}
    root = yaml.safe_load(campaign_text())["outputs"]["root"]
    assert mounts[root] == ({"name": "results", "persistentVolumeClaim": {"claimName": "anef-results"}}, "master")
    assert mounts["/home/anef"][1] == mounts["/tmp"][1] == "both"
    (token,) = [e for e in spec["env"]["variables"] if e["name"] == "ANEF_ADMIN_TOKEN"]
    assert token["valueFrom"]["secretKeyRef"] == {"name": "anef-admin-token", "key": "token"}


def _campaign_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _masters() -> list[tuple[str, list[str]]]:
    """(where, the arguments after the campaign file) of the master in each way of deploying."""
    job = pod_spec(one("Job", "anef-master"))["containers"][0]["args"]
    locusttest = operator_master_command(one("LocustTest", "anef-campaign")["spec"])
    return [("master.yaml", job[2:]), ("locusttest.yaml", locusttest[2:])]


@pytest.mark.parametrize(("where", "arguments"), _masters(), ids=["jobs", "locusttest"])
def test_the_configmaps_campaign_loads_with_the_masters_target(
    where: str, arguments: list[str], tmp_path: Path
) -> None:
    target = option(arguments, "--target")
    campaign = load_campaign(_campaign_file(tmp_path, campaign_text()), {"target": target})
    assert campaign.target == target, where
    assert campaign.browser.users == 0, "the image has no browser"
    assert campaign.mailbox is not None, "a URL target needs the mailbox's URL"


def test_the_target_guard_refuses_the_masters_target_unless_the_campaign_lists_it(tmp_path: Path) -> None:
    data = yaml.safe_load(campaign_text())
    del data["allow_targets"]
    target = option(pod_spec(one("Job", "anef-master"))["containers"][0]["args"], "--target")
    with pytest.raises(ConfigError, match="is not a loopback address; add it to allow_targets"):
        load_campaign(_campaign_file(tmp_path, yaml.safe_dump(data)), {"target": target})
