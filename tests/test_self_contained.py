"""The repository carries everything its tests read: a clone with nothing beside it passes.

CI once had a folder beside the checkout with the AMI transcripts; a user's clone did not,
and the suite stopped at collection. Here the checkout's files (tracked, plus new ones not
ignored: what the next commit can hold) are copied into an empty temporary folder and the
suite is collected there, and the transcript tests run there, on the embedded defaults
(SQLite under the copy's own var/, no Redis), importing the copy's modules, not ours.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRANSCRIPTS = ROOT / "tests" / "telephony" / "transcripts"
PACKAGES = ("config", "contactcenter", "crm", "provisioning", "realtime", "telephony", "tests")
# Spelled in pieces so that this file does not match itself.
_SHARED = "shared"
FORBIDDEN = (f"../{_SHARED}", f"{_SHARED}/ami", f"/work/{_SHARED}", "/work/" + "main")
# Measurement history quotes old runs verbatim; it is not read by anything.
HISTORY = ("docs/benchmarks",)
# Settings that would point the copy at this machine's services or folders.
SCRUBBED = (
    "DATABASE_URL",
    "REDIS_URL",
    "DATABASE_TEST_NAME",
    "VAR_DIR",
    "PYTHONPATH",
    "PYTEST_ADDOPTS",
)

# Runs inside the copy: every project module must come from the copy, before and after
# pytest has imported what it collects.
DRIVER = """
import sys
from pathlib import Path

import pytest

root = Path.cwd().resolve()
packages = set(sys.argv[1].split(","))


def outside():
    return sorted(
        f"{name}: {module.__file__}"
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in packages
        and getattr(module, "__file__", None)
        and not Path(module.__file__).resolve().is_relative_to(root)
    )


for package in sorted(packages):
    __import__(package)
assert not outside(), outside()
code = int(pytest.main(sys.argv[2:]))
strays = outside()
if strays:
    print("imported from outside the copy:", *strays, sep="\\n  ")
    code = code or 1
sys.exit(code)
"""


def _checkout_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing says which files the repository holds")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    # A file deleted in the working tree but not yet in the index is not there to copy.
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def _copy_checkout(target: Path) -> Path:
    clone = target / "clone"
    for name in _checkout_files():
        destination = clone / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination)
    return clone


def _run_in(clone: Path, *pytest_args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env["PYTHONPATH"] = str(clone)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", DRIVER, ",".join(PACKAGES), "-p", "no:cacheprovider", *pytest_args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def test_a_copy_with_nothing_beside_it_collects_and_replays_the_transcripts(
    tmp_path: Path,
) -> None:
    clone = _copy_checkout(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clone"]

    collected = _run_in(clone, "--collect-only", "-q", timeout=300)
    assert collected.returncode == 0, _explain(collected)
    assert "error" not in collected.stdout.splitlines()[-1].lower(), _explain(collected)

    replayed = _run_in(
        clone,
        "-q",
        "tests/telephony/ami/test_transcripts_offline.py",
        "tests/telephony/ami/test_bridge_transcripts.py",
        timeout=600,
    )
    assert replayed.returncode == 0, _explain(replayed)
    assert " passed" in replayed.stdout and "skipped" not in replayed.stdout, _explain(replayed)
    # The embedded defaults kept their files in the copy, not in this checkout's var/.
    assert (clone / "var").is_dir()


def test_no_file_points_outside_the_repository() -> None:
    offenders = []
    for name in _checkout_files():
        if name.startswith(HISTORY):
            continue
        data = (ROOT / name).read_bytes()
        offenders += [f"{name}: {word}" for word in FORBIDDEN if word.encode() in data]
    assert not offenders, "files that read or cite paths outside the repository:\n" + "\n".join(
        offenders
    )


def test_the_transcripts_keep_their_crlf_line_endings() -> None:
    """A clone that converted line endings (core.autocrlf) would replay other bytes."""
    names = sorted(TRANSCRIPTS.glob("*.ami"))
    assert names
    for path in names:
        data = path.read_bytes()
        assert data.count(b"\n") == data.count(b"\r\n") > 0, path.name
