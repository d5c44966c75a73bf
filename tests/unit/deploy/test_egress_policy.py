"""`appliance egress policy`: the shipped deploy/ files are its output for the default configuration
(drift check), and each format says what the allowlist says."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from appliance.cli.main import cli
from appliance.config import Settings
from appliance.egress.policy import APP_NAME, render
from appliance.errors import ConfigError
from appliance.wiring.components import egress_destinations
from tests.conftest import REPO_ROOT

SHIPPED = {
    "k8s": REPO_ROOT / "deploy/kubernetes/networkpolicy.yaml",
    "cilium": REPO_ROOT / "deploy/kubernetes/cilium/egress-fqdn.yaml",
    "iptables": REPO_ROOT / "deploy/host/egress-iptables.sh",
}
DEFAULT_HOSTS = [
    "login.microsoftonline.com",
    "graph.microsoft.com",
    "login.botframework.com",
    "smba.trafficmanager.net",
]


def defaults(tmp_path: Path) -> list[str]:
    return egress_destinations(Settings(home=tmp_path))


@pytest.mark.parametrize("fmt", sorted(SHIPPED))
def test_shipped_policy_matches_the_default_configuration(fmt: str, tmp_path: Path) -> None:
    expected = render(defaults(tmp_path), fmt)
    assert SHIPPED[fmt].read_text(encoding="utf-8") == expected, (
        f"{SHIPPED[fmt].relative_to(REPO_ROOT)} is stale; run: appliance egress policy --defaults "
        f"--format {fmt} --out {SHIPPED[fmt].relative_to(REPO_ROOT)}"
    )


def test_the_cli_renders_the_configured_allowlist(appliance_home_dir: Path) -> None:
    (appliance_home_dir / "appliance.toml").write_text('[egress]\nallow = ["https://llm.example.net:8443"]\n')
    result = CliRunner().invoke(cli, ["egress", "policy", "--format", "cilium"])
    assert result.exit_code == 0, result.output
    assert "matchName: llm.example.net" in result.stdout and 'port: "8443"' in result.stdout
    with_defaults = CliRunner().invoke(cli, ["egress", "policy", "--format", "cilium", "--defaults"])
    assert "llm.example.net" not in with_defaults.stdout
    listed = CliRunner().invoke(cli, ["egress", "list"])
    assert listed.stdout.split() == [f"https://{h}" for h in DEFAULT_HOSTS] + ["https://llm.example.net:8443"]


def test_k8s_is_default_deny_plus_bot_port_dns_and_the_allowlist_ports(tmp_path: Path) -> None:
    docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(render(defaults(tmp_path), "k8s"))}
    deny = docs["aidizen-default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"} and "egress" not in deny
    assert docs["aidizen-ingress-bot"]["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": 3978}]}]
    https = docs["aidizen-egress-https"]["spec"]["egress"]
    assert https[0]["ports"] == [{"protocol": "TCP", "port": 443}]
    assert "169.254.0.0/16" in https[0]["to"][0]["ipBlock"]["except"]  # no cloud metadata endpoint
    for doc in docs.values():
        selector = doc["spec"]["podSelector"]
        assert selector in ({}, {"matchLabels": {"app.kubernetes.io/name": APP_NAME}})


def test_cilium_names_exactly_the_allowlisted_hosts(tmp_path: Path) -> None:
    (policy,) = yaml.safe_load_all(render(defaults(tmp_path), "cilium"))
    dns_rule, fqdn_rule = policy["spec"]["egress"]
    assert [r["matchName"] for r in dns_rule["toPorts"][0]["rules"]["dns"]] == DEFAULT_HOSTS
    assert [r["matchName"] for r in fqdn_rule["toFQDNs"]] == DEFAULT_HOSTS
    assert fqdn_rule["toPorts"] == [{"ports": [{"port": "443", "protocol": "TCP"}]}]


def test_ip_entries_and_other_ports_become_their_own_rules() -> None:
    (policy,) = yaml.safe_load_all(render(["https://graph.microsoft.com", "https://10.1.2.3:8000"], "cilium"))
    rules = policy["spec"]["egress"]
    assert {"toCIDR": ["10.1.2.3/32"], "toPorts": [{"ports": [{"port": "8000", "protocol": "TCP"}]}]} in rules
    k8s = list(yaml.safe_load_all(render(["https://graph.microsoft.com", "https://10.1.2.3:8000"], "k8s")))
    peers = k8s[-1]["spec"]["egress"][0]["to"]
    assert {"ipBlock": {"cidr": "10.1.2.3/32"}} in peers


@pytest.mark.parametrize(
    "entry",
    ["https://evil.example.com;rm -rf /", "https://a b", "ftp://graph.microsoft.com", "https://$(id).example.com"],
)
def test_an_entry_that_is_not_a_plain_host_is_refused(entry: str) -> None:
    with pytest.raises(ConfigError, match="cannot become a network policy"):
        render([entry], "iptables")


def test_the_iptables_script_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(SHIPPED["iptables"])], check=True)
    assert os.access(SHIPPED["iptables"], os.X_OK)


@pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "iptables", "ipset")),
    reason="needs root, unshare, iptables and ipset (a private network namespace is used)",
)
def test_the_iptables_script_allows_exactly_the_allowlist_in_a_private_namespace(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("".join(f"192.0.2.{10 + i} {h}\n" for i, h in enumerate(DEFAULT_HOSTS)))
    script = f"""
        mount --bind {hosts} /etc/hosts
        ip link set lo up && ip addr add 198.51.100.1/32 dev lo   # an IPv4 address, or getaddrinfo answers nothing
        iptables -N DOCKER-USER
        bash {SHIPPED["iptables"]} 172.30.0.0/24 && bash {SHIPPED["iptables"]} 172.30.0.0/24 >/dev/null
        ipset test aidizen-egress 192.0.2.10,tcp:443 2>/dev/null && echo allowed-login
        ipset test aidizen-egress 192.0.2.13,tcp:443 2>/dev/null && echo allowed-teams
        ipset test aidizen-egress 192.0.2.99,tcp:443 2>/dev/null || echo refused-other-host
        ipset test aidizen-egress 192.0.2.10,tcp:80 2>/dev/null || echo refused-other-port
        iptables -S DOCKER-USER | grep -c AIDIZEN-EGRESS
        iptables -S AIDIZEN-EGRESS | tail -1
    """
    done = subprocess.run(
        ["unshare", "--net", "--mount", "bash", "-ec", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert {"allowed-login", "allowed-teams", "refused-other-host", "refused-other-port"} <= set(lines)
    assert "limited to 4 destinations (4 addresses)" in done.stdout
    assert "1" in lines, "the DOCKER-USER jump must be added once, however often the script runs"
    assert "-A AIDIZEN-EGRESS -j DROP" in lines
