"""Real Terraform against the moto server: where it is, how to run it, what it did.

Terraform and the AWS provider are found through two settings (the Makefile sets both on
the development and CI machines):

- ``ZTFLOWS_TERRAFORM``: the terraform executable (default: ``terraform`` on PATH);
- ``ZTFLOWS_TF_PLUGIN_DIR``: a filesystem mirror holding
  ``registry.terraform.io/hashicorp/aws/<version>/<os_arch>/terraform-provider-aws_*``,
  passed to ``terraform init -plugin-dir`` (no network is used).

Without them these tests fail on CI (``CI=true``) and are skipped elsewhere, saying what
is missing. ``terraform init`` links the provider from the mirror, so every root shares
the one copy; a shared ``TF_PLUGIN_CACHE_DIR`` covers Terraform versions that copy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

PROVIDER_GLOB = "registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class TerraformSetup:
    binary: str
    plugin_dir: Path


def terraform_setup() -> TerraformSetup | str:
    """The setup, or why it is missing."""
    binary = os.environ.get("ZTFLOWS_TERRAFORM", "terraform")
    found = shutil.which(binary)
    if found is None:
        return f"no Terraform: {binary!r} is not on PATH (set ZTFLOWS_TERRAFORM)"
    plugin_dir = os.environ.get("ZTFLOWS_TF_PLUGIN_DIR", "")
    if not plugin_dir:
        return (
            "ZTFLOWS_TF_PLUGIN_DIR is not set: point it at a filesystem mirror holding"
            f" {PROVIDER_GLOB} (make test finds one)"
        )
    if not list(Path(plugin_dir).glob(PROVIDER_GLOB)):
        return f"ZTFLOWS_TF_PLUGIN_DIR={plugin_dir} holds no {PROVIDER_GLOB}"
    return TerraformSetup(found, Path(plugin_dir))


def require_terraform() -> TerraformSetup:
    setup = terraform_setup()
    if isinstance(setup, str):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs Terraform for these tests: {setup}")
        pytest.skip(setup)
    return setup


def provider_tf(endpoint: str, *, required_providers: bool = True) -> str:
    """The AWS provider configured for the moto server (dummy credentials, no lookups).

    The provider asks STS (moto) for the account id rather than skipping it
    (``skip_requesting_account_id``): it reads a rule's referenced group back as
    ``account/sg-…`` whenever the owner differs from the account it knows, so without it
    every group-referencing ``aws_vpc_security_group_*_rule`` would differ from its
    configuration on every plan, against AWS as against moto.
    """
    required = """terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

"""
    return (
        (required if required_providers else "")
        + f"""provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true

  endpoints {{
    ec2 = "{endpoint}"
    sts = "{endpoint}"
  }}
}}
"""
    )


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    cwd: Path
    code: int
    out: str
    err: str

    def check(self) -> Run:
        assert self.code == 0, (
            f"terraform {' '.join(self.args)} in {self.cwd}:\n{self.err}\n{self.out[-3000:]}"
        )
        return self

    @property
    def destroyed(self) -> list[str]:
        """Addresses an apply destroyed (or replaced)."""
        return re.findall(r"^(\S+): Destroying\.\.\.", self.out, re.M)

    @property
    def summary(self) -> str:
        found = re.findall(r"^(Apply complete!.*|Plan:.*|No changes\..*)$", self.out, re.M)
        return found[-1] if found else ""


class Terraform:
    """``terraform`` in a test: the mirror for providers, nothing from the network."""

    def __init__(self, setup: TerraformSetup, cache: Path) -> None:
        self.setup = setup
        cache.mkdir(parents=True, exist_ok=True)
        config = cache / "terraformrc"
        config.write_text(f'plugin_cache_dir = "{cache / "plugins"}"\n')
        (cache / "plugins").mkdir(exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))},
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
        }

    def run(self, cwd: Path, *args: str, timeout: float = 900) -> Run:
        done = subprocess.run(
            [self.setup.binary, *args, "-no-color"],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(tuple(args), cwd, done.returncode, ANSI.sub("", done.stdout), done.stderr)

    def init(self, cwd: Path) -> Run:
        return self.run(cwd, "init", "-input=false", f"-plugin-dir={self.setup.plugin_dir}").check()

    def apply(self, cwd: Path) -> Run:
        return self.run(cwd, "apply", "-input=false", "-auto-approve").check()

    def plan_exit_code(self, cwd: Path) -> Run:
        return self.run(cwd, "plan", "-input=false", "-detailed-exitcode")

    def validate(self, cwd: Path) -> Run:
        return self.run(cwd, "validate")

    def each(self, roots: Sequence[Path], action: str) -> list[Run]:
        """Run one action in every root at once (roots are independent states)."""
        with ThreadPoolExecutor(max_workers=max(1, len(roots))) as pool:
            return list(pool.map(getattr(self, action), roots))
