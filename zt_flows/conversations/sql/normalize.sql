-- One row per flow record, with the addresses of the packets themselves.
--
-- pkt-srcaddr / pkt-dstaddr (v3+) are the addresses in the packet: at an ordinary
-- interface they equal srcaddr / dstaddr, except that traffic to a secondary private IP is
-- logged with the primary one in dstaddr; at a forwarding interface (NAT gateway, transit
-- gateway, NLB) they name the real endpoints behind it. So they are used wherever the log
-- has them. A NAT gateway's translated legs (its own address on one side) are the same
-- conversation again and are dropped later, on the reduced rows (orient.sql).
-- AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html (pkt-dstaddr)
-- AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-nat
CREATE OR REPLACE TEMP VIEW zt_norm AS
SELECT
    interface_id,
    coalesce(pkt_srcaddr, srcaddr) AS src_a,
    coalesce(pkt_dstaddr, dstaddr) AS dst_a,
    srcport,
    dstport,
    protocol,
    coalesce(packets, 0) AS packets,
    coalesce(bytes, 0) AS bytes,
    start,
    "end",
    action,
    coalesce(tcp_flags, 0) AS flags,
    flow_direction,
    pkt_src_aws_service,
    pkt_dst_aws_service
FROM zt_conv_input
WHERE srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND protocol IS NOT NULL;
