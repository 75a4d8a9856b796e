"""scripts/system-deps, which `make test` runs first: it installs espeak-ng and chromium when it may, else stops.

The script uses bash builtins only until it acts, so a PATH of one temporary folder hides espeak-ng from it, and
stand-ins for apt-get and sudo in that folder record what it would run. "Not root" is real: the script runs as
`nobody` (setpriv) when the tests run as root, as in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = (REPO_ROOT / "scripts" / "system-deps").read_text()
BASH = "/bin/bash"
HAS_CHROMIUM = Path("/usr/bin/chromium").exists()
ROOT = os.geteuid() == 0
NOBODY = [shutil.which("setpriv") or "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
EXPECTED_COMMAND = "sudo apt-get update && sudo apt-get install -y --no-install-recommends espeak-ng"

# apt-get as a stand-in: records its arguments (and DEBIAN_FRONTEND), and "installs" espeak-ng into this folder.
FAKE_APT_GET = """#!/bin/bash
echo "$DEBIAN_FRONTEND apt-get $*" >> "${0%/*}/calls"
if [ "$1" = install ]; then echo '#!/bin/bash' > "${0%/*}/espeak-ng"; /bin/chmod +x "${0%/*}/espeak-ng"; fi
"""
# sudo that asks no password: records its arguments, then runs the command (VAR=value first) as the caller.
FAKE_SUDO = """#!/bin/bash
echo "sudo $*" >> "${0%/*}/calls"
[ "$*" = "-n true" ] && exit 0
shift
exec /usr/bin/env "$@"
"""


@pytest.fixture
def bin_dir() -> Iterator[Path]:
    """An empty folder for PATH, readable and writable by `nobody` too (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="system-deps-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


def add_tool(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)
    (folder / name).chmod(0o755)


def run_script(bin_dir: Path, *args: str, as_nobody: bool = False) -> subprocess.CompletedProcess[str]:
    # The script comes on stdin, so `nobody` needs no access to the checkout.
    command = [*(NOBODY if as_nobody else []), BASH, "-s", "--", *args]
    env = {"PATH": str(bin_dir), "DEBIAN_FRONTEND": "unset"}
    return subprocess.run(command, input=SCRIPT, env=env, cwd="/", capture_output=True, text=True, timeout=30)


def calls(bin_dir: Path) -> list[str]:
    path = bin_dir / "calls"
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.skipif(not (shutil.which("espeak-ng") and HAS_CHROMIUM), reason="espeak-ng or chromium missing here")
def test_it_does_nothing_when_the_packages_are_there():
    started = time.monotonic()
    result = subprocess.run([REPO_ROOT / "scripts" / "system-deps"], capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert time.monotonic() - started < 2


@pytest.mark.skipif(ROOT and not shutil.which("setpriv"), reason="needs setpriv to run as nobody")
def test_without_root_or_sudo_it_stops_with_the_command_to_run(bin_dir):
    add_tool(bin_dir, "apt-get", FAKE_APT_GET)
    result = run_script(bin_dir, as_nobody=ROOT)
    assert result.returncode == 1
    assert "missing system packages: espeak-ng" in result.stderr
    assert EXPECTED_COMMAND + ("" if HAS_CHROMIUM else " chromium") in result.stderr
    assert calls(bin_dir) == []


def test_check_only_never_installs(bin_dir):
    add_tool(bin_dir, "apt-get", FAKE_APT_GET)
    result = run_script(bin_dir, "--check")
    assert result.returncode == 1
    assert EXPECTED_COMMAND in result.stderr
    assert calls(bin_dir) == []


@pytest.mark.skipif(not (ROOT and HAS_CHROMIUM), reason="runs as root where chromium is installed")
def test_as_root_it_installs_what_is_missing_with_apt_get(bin_dir):
    add_tool(bin_dir, "apt-get", FAKE_APT_GET)
    result = run_script(bin_dir)
    assert result.returncode == 0, result.stderr
    assert calls(bin_dir) == [
        "noninteractive apt-get update -q",
        "noninteractive apt-get install -y -q --no-install-recommends espeak-ng",
    ]


@pytest.mark.skipif(not (ROOT and HAS_CHROMIUM and shutil.which("setpriv")), reason="runs as nobody, via root")
def test_without_root_it_installs_through_sudo_that_asks_no_password(bin_dir):
    add_tool(bin_dir, "apt-get", FAKE_APT_GET)
    add_tool(bin_dir, "sudo", FAKE_SUDO)
    result = run_script(bin_dir, as_nobody=True)
    assert result.returncode == 0, result.stderr
    assert calls(bin_dir) == [
        "sudo -n true",
        "sudo -n DEBIAN_FRONTEND=noninteractive apt-get update -q",
        "noninteractive apt-get update -q",
        "sudo -n DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends espeak-ng",
        "noninteractive apt-get install -y -q --no-install-recommends espeak-ng",
    ]


@pytest.mark.skipif(not ROOT, reason="runs as root")
def test_an_install_that_leaves_a_package_missing_fails(bin_dir):
    add_tool(bin_dir, "apt-get", "#!/bin/bash\nexit 0\n")  # "succeeds" without installing anything
    result = run_script(bin_dir)
    assert result.returncode == 1
    assert EXPECTED_COMMAND in result.stderr
