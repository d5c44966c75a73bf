"""The generated Kubernetes policy lets the pod resolve names, and nothing more: DNS over UDP and TCP port
53 to kube-dns only (TCP carries the answers too large for UDP, so dropping either breaks resolution)."""

from __future__ import annotations

from pathlib import Path

import yaml

from appliance.config import Settings
from appliance.egress.policy import APP_NAME, render
from appliance.wiring.components import egress_destinations


def test_dns_is_udp_and_tcp_53_to_kube_dns_only(tmp_path: Path) -> None:
    docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(render(egress_destinations(Settings(home=tmp_path)),
                                                                        "k8s"))}
    dns = docs["aidizen-egress-dns"]["spec"]
    assert dns["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": APP_NAME}}
    assert dns["policyTypes"] == ["Egress"]
    assert dns["egress"] == [{
        "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }]
