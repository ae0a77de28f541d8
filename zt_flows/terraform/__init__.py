"""The plan as Terraform: one root module of per-rule resources, removals held apart.

Public API: :func:`render_terraform` (write the folder) and :func:`terraform_module` (its
files in memory, for the pull request), with what they return. Inside: ``module`` lays
out the files, ``attributes`` checks each rule and puts it in the provider's form,
``naming`` gives stable resource names, ``hcl`` writes HCL by hand and ``readme`` writes
the rollout; :mod:`zt_flows.outdir` replaces the folder only where ztflows wrote it.
"""

from zt_flows.terraform.module import (
    TerraformModule,
    TerraformOutput,
    render_terraform,
    terraform_module,
)

__all__ = [
    "TerraformModule",
    "TerraformOutput",
    "render_terraform",
    "terraform_module",
]
