from zt_flows.cli import main

main()
