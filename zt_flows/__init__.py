"""ztflows: AWS VPC Flow Logs to least-privilege security groups.

The library API (one or two functions a stage) is what the CLI and the notebooks
use::

    import duckdb
    from zt_flows import Settings, connect_engine, read_flow_logs, load_inventory

    settings = Settings()
    con = connect_engine(settings.engine)
    flows = read_flow_logs("sample_data/flowlogs", settings, con)
"""

__version__ = "0.1.0"
