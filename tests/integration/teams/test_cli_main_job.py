"""The main job as a person meets it: `appliance demo` (what `make demo` runs) and `appliance chat --dev`,
each as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from appliance_dev.dev_stack import DevStack
from tests.conftest import SHARED_MODELS_DIR


def test_the_demo_plays_the_whole_conversation(tmp_path: Path) -> None:
    env = {**os.environ, "APPLIANCE_HOME": str(tmp_path / "var"), "APPLIANCE_MODELS_DIR": str(SHARED_MODELS_DIR),
           "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "appliance", "demo"], env=env, capture_output=True, text=True,
                            timeout=600)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Sarah Lin (sarah.lin@contoso.com)" in out  # the lookup, answered at once
    assert "[ Confirm ] [ Cancel ]" in out and "Assign ENTERPRISEPACK to sarah.lin@contoso.com" in out
    assert "Only the person who asked for this change can confirm it." in out  # Mike's attempt
    assert "Assigned ENTERPRISEPACK to sarah.lin@contoso.com." in out and "audit record" in out
    assert "asked by doug@contoso.com" in out  # the audit query
    chain = re.search(r"audit chain intact: (\d+) records; AuditEntryId is the directory audit's id: True", out)
    assert chain and int(chain.group(1)) >= 2, out  # the assignment, and Mike's refused confirmation (recorded too)
    assert not (tmp_path / "var" / "demo").exists()  # cleaned up without --keep


def test_chat_lets_a_person_talk_to_the_aid(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with DevStack(home, models_dir=SHARED_MODELS_DIR) as stack:
        stack.start_appliance()
        env = {**os.environ, "APPLIANCE_HOME": str(home), "APPLIANCE_MODELS_DIR": str(SHARED_MODELS_DIR)}
        typed = "Disable the account of leaver@contoso.com\n/confirm\n/quit\n"
        result = subprocess.run([sys.executable, "-m", "appliance", "chat", "--dev", "--as", "jo.kim@contoso.com"],
                                input=typed, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "[/confirm]  [/cancel]" in result.stdout
        assert "Disabled the account of leaver@contoso.com." in result.stdout
        assert stack.tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is False  # type: ignore[union-attr,index]
