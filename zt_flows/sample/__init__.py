"""The sample VPC: a deterministic generator of flow logs, inventory and ground truth.

``python -m zt_flows.sample --out sample_data`` writes what ``sample_data/SCENARIO.md``
specifies: two EC2 inventory snapshots (AWS CLI JSON), three days of VPC Flow Logs
as AWS delivers them to S3 (Parquet and gzip text), and ``ground_truth.csv``, every
conversation the generator made. ``--records`` scales the same scenario up for
benchmarks.
"""

from zt_flows.sample.generate import SampleSummary, write_sample

__all__ = ["SampleSummary", "write_sample"]
