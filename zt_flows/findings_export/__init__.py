"""Findings for the security tools teams already watch: SARIF 2.1.0 (GitHub code scanning
and other SARIF viewers) and the AWS Security Finding Format (AWS Security Hub).

Both carry a finding's identity (code, subject, group; ``Finding.identity``) so that the
tool recognises the same finding from one weekly run to the next.
"""

from zt_flows.findings_export.asff import asff_findings, findings_to_asff
from zt_flows.findings_export.sarif import findings_to_sarif, sarif_log, terraform_places

__all__ = [
    "asff_findings",
    "findings_to_asff",
    "findings_to_sarif",
    "sarif_log",
    "terraform_places",
]
