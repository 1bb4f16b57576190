"""The prod image (deploy/Dockerfile) as the deployment tests read it: its command, and where it
puts the instance and workspace files. Terraform's task definitions and the code location test
both take the image's command from here, never restated."""

from __future__ import annotations

import json
import shlex

from finops_platform.settings import REPO_ROOT

DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"


def _instruction(name: str) -> list[str]:
    """The Dockerfile's lines of one instruction (`CMD`, `COPY`), without the keyword."""
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    return [line.removeprefix(f"{name} ") for line in lines if line.startswith(f"{name} ")]


def image_command() -> list[str]:
    """The image's CMD (exec form): the code location's gRPC server."""
    (line,) = _instruction("CMD")
    return json.loads(line)


def image_file(name: str) -> str:
    """Where the image puts one of deploy/prod's files (`workspace.yaml`): `COPY ... <dir>/`."""
    for line in _instruction("COPY"):
        *sources, target = shlex.split(line)
        if f"deploy/prod/{name}" in sources:
            return target.rstrip("/") + "/" + name
    raise AssertionError(f"deploy/Dockerfile copies no deploy/prod/{name}")
