"""deploy/kubernetes: the properties a security review asks for, read from the manifests themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from appliance.config import CONFIG_FILE_NAME, load_settings
from appliance.egress.policy import APP_NAME, BOT_PORT
from tests.conftest import REPO_ROOT

KUBE = REPO_ROOT / "deploy/kubernetes"


def load(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((KUBE / name).read_text(encoding="utf-8")) if doc]


def pod() -> dict[str, Any]:
    (deployment,) = load("deployment.yaml")
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def containers() -> list[dict[str, Any]]:
    return [*pod()["initContainers"], *pod()["containers"]]


def test_kustomization_lists_every_manifest_but_never_the_store_key() -> None:
    (kustomization,) = load("kustomization.yaml")
    resources = kustomization["resources"]
    assert all((KUBE / r).is_file() for r in resources)
    assert {"deployment.yaml", "pvc.yaml", "service.yaml", "configmap.yaml", "networkpolicy.yaml"} <= set(resources)
    assert not any("secret" in r for r in resources), "re-applying a placeholder Secret would replace the real key"


def test_every_container_is_locked_down() -> None:
    security = pod()["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod()["automountServiceAccountToken"] is False
    for container in containers():
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True and context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False and context["capabilities"] == {"drop": ["ALL"]}


def test_probes_gpu_and_one_writer() -> None:
    (deployment,) = load("deployment.yaml")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    (main,) = pod()["containers"]
    assert main["ports"] == [{"name": "bot", "containerPort": BOT_PORT, "protocol": "TCP"},
                             {"name": "metrics", "containerPort": 9464, "protocol": "TCP"}]
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "bot", "scheme": "HTTPS"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "bot", "scheme": "HTTPS"}
    assert main["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_store_key_comes_from_the_secret_and_config_says_env() -> None:
    for container in containers():
        env = {e["name"]: e for e in container["env"]}
        assert env["APPLIANCE_STORE_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "aidizen-store-key"
        assert env["APPLIANCE_HOME"]["value"] == "/var/lib/aidizen"
    (config,) = load("configmap.yaml")
    toml = config["data"][CONFIG_FILE_NAME]
    assert 'key_provider = "env"' in toml


def test_the_shipped_appliance_toml_is_valid_for_this_version(tmp_path: Path) -> None:
    (config,) = load("configmap.yaml")
    (tmp_path / CONFIG_FILE_NAME).write_text(config["data"][CONFIG_FILE_NAME], encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.store.key_provider == "env" and settings.engine.n_gpu_layers == -1
    (example,) = load("store-key-secret.example.yaml")
    assert example["kind"] == "Secret" and "APPLIANCE_STORE_KEY" in example["stringData"]


def test_only_home_and_tmp_are_writable_and_models_are_read_only() -> None:
    volumes = {v["name"]: v for v in pod()["volumes"]}
    assert volumes["home"]["persistentVolumeClaim"]["claimName"] == "aidizen-home"
    assert volumes["models"]["persistentVolumeClaim"]["readOnly"] is True
    assert volumes["tmp"]["emptyDir"]["medium"] == "Memory"
    for container in containers():
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        writable = {path for path, m in mounts.items() if not m.get("readOnly")}
        assert writable == {"/var/lib/aidizen", "/tmp"}
        assert mounts["/models"]["readOnly"] is True
        assert mounts[f"/var/lib/aidizen/{CONFIG_FILE_NAME}"]["subPath"] == CONFIG_FILE_NAME
    claims = {doc["metadata"]["name"] for doc in load("pvc.yaml")}
    assert claims == {"aidizen-home", "aidizen-models"}


def test_the_policies_select_the_pods_of_the_deployment() -> None:
    (deployment,) = load("deployment.yaml")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == APP_NAME
    for doc in load("networkpolicy.yaml"):
        selector = doc["spec"]["podSelector"]
        assert selector == {} or selector["matchLabels"].items() <= labels.items()
    (cilium,) = yaml.safe_load_all(Path(KUBE / "cilium/egress-fqdn.yaml").read_text(encoding="utf-8"))
    assert cilium["spec"]["endpointSelector"]["matchLabels"].items() <= labels.items()
    (service,) = load("service.yaml")
    assert service["spec"]["selector"].items() <= labels.items() and service["spec"]["ports"][0]["port"] == BOT_PORT


def test_the_pod_serves_tls_by_default_so_the_token_never_crosses_the_cluster_in_clear(tmp_path: Path) -> None:
    """Issue 15 item 3: the ingress -> pod hop carries the Bot Framework token; it is HTTPS by default."""
    (config,) = load("configmap.yaml")
    (tmp_path / CONFIG_FILE_NAME).write_text(config["data"][CONFIG_FILE_NAME], encoding="utf-8")
    teams = load_settings(tmp_path).teams
    assert teams.tls_cert is not None and teams.tls_key is not None
    (main,) = pod()["containers"]
    mounts = {m["name"]: m for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in pod()["volumes"]}
    tls = mounts["bot-tls"]
    assert tls["readOnly"] is True
    assert teams.tls_cert.parent == teams.tls_key.parent == Path(tls["mountPath"])
    secret = volumes["bot-tls"]["secret"]
    assert secret["secretName"] == "aidizen-bot-tls" and secret["defaultMode"] & 0o007 == 0  # not world-readable
    assert {teams.tls_cert.name, teams.tls_key.name} == {"tls.crt", "tls.key"}  # a kubernetes.io/tls Secret
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert main[probe]["httpGet"]["scheme"] == "HTTPS"
    (service,) = load("service.yaml")
    assert service["spec"]["ports"][0]["appProtocol"] == "https"
    (kustomization,) = load("kustomization.yaml")
    assert "bot-tls-certificate.example.yaml" not in kustomization["resources"]  # the Secret comes first


def _one_time_script(env: dict[str, str], tmp_path: Path) -> list[str]:
    """Run the one-time Job's shell script with `appliance` replaced by a recorder: each call and its stdin."""
    import subprocess

    (job,) = load("one-time-job.yaml")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    tmp_path.mkdir()
    log = tmp_path / "calls"
    recorder = f'appliance() {{ printf "%s | %s\\n" "$*" "$(cat)" >> {log}; }}; '
    subprocess.run(["sh", "-c", recorder + " ".join(container["args"])], env=env, check=True, stdin=subprocess.DEVNULL)
    return log.read_text().splitlines()


def test_the_one_time_job_imports_the_certificate_when_its_secret_exists_else_the_client_secret(
    tmp_path: Path,
) -> None:
    (job,) = load("one-time-job.yaml")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert refs["BOT_CERTIFICATE_PEM"]["optional"] and refs["BOT_SECRET"]["optional"]  # either one may be absent
    with_cert = _one_time_script({"BOT_CERTIFICATE_PEM": "PEM"}, tmp_path / "a")
    assert "teams certificate import - | PEM" in with_cert and not any("teams secret" in c for c in with_cert)
    with_secret = _one_time_script({"BOT_SECRET": "s3", "BOT_SECRET_EXPIRES": "2027-01-01"}, tmp_path / "b")
    assert "teams secret --expires 2027-01-01 | s3" in with_secret
    assert not any("certificate" in c for c in with_secret) and with_secret[-1].startswith("doctor")
