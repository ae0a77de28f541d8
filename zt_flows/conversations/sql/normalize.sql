-- One row per flow record, with the addresses that name the real endpoints.
--
-- Records logged at forwarding interfaces (NAT gateway, transit gateway, NLB/GWLB) name
-- the forwarder itself in srcaddr/dstaddr; pkt-srcaddr/pkt-dstaddr carry the original
-- endpoints. A NAT gateway logs each connection twice: once on the inside leg (whose pkt-*
-- fields differ from srcaddr/dstaddr) and once translated (equal). The translated leg is
-- the same conversation again, so it is dropped; so are forwarded records without pkt-*
-- fields (v2 logs), whose real endpoints are unknowable (the endpoints' own interfaces log
-- the same connection with real addresses).
-- AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-nat
CREATE OR REPLACE TEMP VIEW zt_norm AS
SELECT
    f.interface_id,
    CASE WHEN fw.interface_id IS NULL THEN f.srcaddr ELSE f.pkt_srcaddr END AS src_a,
    CASE WHEN fw.interface_id IS NULL THEN f.dstaddr ELSE f.pkt_dstaddr END AS dst_a,
    f.srcport,
    f.dstport,
    f.protocol,
    coalesce(f.packets, 0) AS packets,
    coalesce(f.bytes, 0) AS bytes,
    f.start,
    f."end",
    f.action,
    coalesce(f.tcp_flags, 0) AS flags,
    f.flow_direction,
    f.pkt_src_aws_service,
    f.pkt_dst_aws_service,
    fw.interface_id IS NOT NULL AS forwarded
FROM zt_conv_input AS f
LEFT JOIN zt_forwarding AS fw ON fw.interface_id = f.interface_id
WHERE f.srcaddr IS NOT NULL
  AND f.dstaddr IS NOT NULL
  AND f.protocol IS NOT NULL
  AND (
      fw.interface_id IS NULL
      OR (
          f.pkt_srcaddr IS NOT NULL
          AND f.pkt_dstaddr IS NOT NULL
          AND NOT (fw.translates AND f.pkt_srcaddr = f.srcaddr AND f.pkt_dstaddr = f.dstaddr)
      )
  );
