"""The team's own Terraform: where each security group lives, and edits in its style.

``ztflows pr`` uses :func:`plan_repository`: it discovers the repository's Terraform root
modules, reads their states (``terraform show -json``, or ``terraform state pull`` files
given with ``--state``), maps every planned group and rule to the block that writes it
(inline ``ingress``/``egress`` blocks, ``aws_security_group_rule``,
``aws_vpc_security_group_*_rule``, or the terraform-aws-modules/security-group module's
inputs, including ``count``/``for_each`` instances and local modules), and returns each
phase's edited files — everything outside the edited blocks byte for byte, then
``terraform fmt``. Groups no Terraform in the repository manages get no placement: the
caller writes them as the standalone module with ``import`` blocks.

Modules: :mod:`.scan` (positions in ``.tf`` text), :mod:`.values` (values, with
python-hcl2), :mod:`.config` (a module directory), :mod:`.discover` (roots and module
trees), :mod:`.state` (states), :mod:`.locate` (groups to blocks), :mod:`.edit`,
:mod:`.community` and :mod:`.write` (the edits), :mod:`.textedit` (applying them),
:mod:`.planinput` (the plan's groups and rules), :mod:`.repository` (all of it).
"""

from zt_flows.tfrepo.model import (
    GroupChange,
    ManualStep,
    Placement,
    RuleChange,
    RuleKey,
)
from zt_flows.tfrepo.planinput import group_changes
from zt_flows.tfrepo.repository import RepositoryPlan, plan_repository
from zt_flows.tfrepo.state import TerraformCli

__all__ = [
    "GroupChange",
    "ManualStep",
    "Placement",
    "RepositoryPlan",
    "RuleChange",
    "RuleKey",
    "TerraformCli",
    "group_changes",
    "plan_repository",
]
