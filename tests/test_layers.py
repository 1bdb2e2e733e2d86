"""The layer contracts bite: lint-imports (import-linter, contracts in pyproject.toml) fails
on a copy of the tree where a domain module imports a web area and reads the request."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_lint_imports_fails_when_a_domain_imports_the_web_layer(tmp_path):
    shutil.copytree(ROOT / "portal", tmp_path / "portal", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    for name in ("__init__.py", "import_contracts.py"):
        shutil.copy(ROOT / "tests" / name, tmp_path / "tests" / name)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "portal" / "units" / "service.py").open("a") as f:
        f.write("\nfrom portal.web.admin import views as _views  # noqa\nfrom flask import request  # noqa\n")

    env = {**os.environ, "PYTHONPATH": str(tmp_path)}  # the copy's `portal`, not the installed one
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)

    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "Domains never import the web layer BROKEN" in out, out
    assert "portal.units.service -> portal.web.admin.views" in out, out
    assert "portal.units.service (line" in out and "imports flask.request" in out, out
