"""`pip install ./bindings/python` works offline, and the installed package (with the
library it carries) runs the quickstart without the build tree."""

import os
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[3]


def test_pip_installs_the_package_offline_and_the_quickstart_runs_from_it(tmp_path):
    target = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_NO_INDEX"] = "1"  # nothing may come from the network
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-index", "--target", str(target),
         str(SOURCE / "bindings" / "python")],
        env=env, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout + install.stderr
    package = target / "banyan"
    assert (package / "__init__.py").exists()
    assert list(package.glob("_banyan*.so")) and list(package.glob("libbanyan.so.*"))
    env["PYTHONPATH"] = str(target)
    where = subprocess.run([sys.executable, "-c", "import banyan; print(banyan.__file__)"],
                           env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert where.stdout.strip() == str(package / "__init__.py"), where.stderr
    run = subprocess.run(
        [sys.executable, str(SOURCE / "examples" / "python" / "quickstart.py"),
         f"sqlite://{tmp_path}/quick.db"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Ada Lovelace Countess {'tier': 'gold'}" in run.stdout.splitlines()
