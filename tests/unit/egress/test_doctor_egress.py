"""`appliance doctor`'s egress check: the full allowlist, whether Microsoft's hosts are mapped to the dev
tenant, and a failure that says what to do for a malformed or plain-http entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli.doctor_cmd import check_egress, doctor
from appliance.config import Settings, load_settings
from appliance.errors import ApplianceError

DEFAULTS = ["https://login.microsoftonline.com", "https://graph.microsoft.com", "https://login.botframework.com",
            "https://smba.trafficmanager.net"]


def settings(home: Path, toml: str = "") -> Settings:
    (home / "appliance.toml").write_text(toml, encoding="utf-8")
    return load_settings(home)


def test_lists_every_destination_of_a_real_tenant(tmp_path: Path) -> None:
    lines = check_egress(settings(tmp_path, '[egress]\nallow = ["https://llm.example.net:8443"]\n')).splitlines()
    assert lines[0] == "5 allowed destinations; Microsoft hosts are the real ones (no dev tenant mapping)"
    assert [line.strip() for line in lines[1:]] == [*DEFAULTS, "https://llm.example.net:8443"]
    assert all(line.startswith(" " * 16) for line in lines[1:])  # under the check's text in doctor's output


def test_says_when_microsoft_hosts_are_mapped_to_the_dev_tenant(tmp_path: Path) -> None:
    text = check_egress(settings(tmp_path, "[graph]\ndev = true\n[devtenant]\nport = 9443\n"))
    assert "mapped to the dev tenant at 127.0.0.1:9443" in text
    assert "graph.microsoft.com" in text.splitlines()[0] and "smba.trafficmanager.net" in text.splitlines()[0]


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ('[egress]\nallow = ["http://llm.example.net"]\n', "'http://llm.example.net' is not https"),
        ('[egress]\nallow = ["llm.example.net"]\n', "'llm.example.net' is not http(s)"),
        ('[egress]\nallow = ["https://llm.example.net/v1"]\n', "has a path"),
        ('[egress]\nallow = ["https://key:secret@llm.example.net"]\n', "'https://***@llm.example.net' carries"),
        ('[egress]\nallow = ["https://bücher.example"]\n', "xn--"),
        ('[teams]\nservice_urls = ["http://smba.trafficmanager.net"]\n', "[teams] service_urls entry"),
        ('[graph]\nauthority_host = "http://login.microsoftonline.com"\n', "[graph] authority_host entry"),
    ],
)
def test_fails_with_what_to_do(tmp_path: Path, toml: str, said: str) -> None:
    with pytest.raises(ApplianceError) as failure:
        check_egress(settings(tmp_path, toml))
    assert said in failure.value.message
    assert "https://host[:port]" in failure.value.hint


def test_plain_http_passes_only_for_the_in_tenant_llm_server(tmp_path: Path) -> None:
    server = '[llm]\nmode = "local-server"\nmodel = "m"\nendpoint = "http://10.1.2.3:8080/v1"\n'
    assert "http://10.1.2.3:8080" in check_egress(settings(tmp_path, server))
    other = server + '[egress]\nallow = ["http://10.9.9.9:8080"]\n'
    with pytest.raises(ApplianceError) as failure:
        check_egress(settings(tmp_path, other))
    assert "'http://10.9.9.9:8080' is not https" in failure.value.message


def test_doctor_prints_the_failure_and_the_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPLIANCE_HOME", str(tmp_path))
    settings(tmp_path, '[egress]\nallow = ["http://llm.example.net"]\n')
    monkeypatch.setattr("appliance.cli.doctor_cmd.CHECKS", (("egress", check_egress),))
    result = CliRunner().invoke(doctor)
    assert result.exit_code == 1
    assert "FAIL  egress" in result.output and "what to do: Write each entry as https://host[:port]" in result.output
