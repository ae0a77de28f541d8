-- The one scan over the flow records: the reduce both engines run (DuckDB here, Spark SQL on
-- a cluster, zt_flows/reduce/spark.py), rendered from this one text by zt_flows/reduce/sql.py.
-- Placeholders in braces are filled per dialect: {input} the relation of canonical records,
-- {end} the quoted "end" column, {hour} the hour of start, {svc_src} / {svc_dst} whether
-- srcport / dstport is a configured service port, {eph} the first ephemeral port, {where}
-- more conditions on the records (a day, a window). Everything else is SQL both accept.
--
-- Each record is oriented as far as the record itself allows, and the client's ephemeral
-- port is dropped at once where it can be, so the aggregation groups by (interface,
-- addresses, server port, hour) instead of the literal 5-tuple. Keys are few and narrow (a
-- one-byte decision code; the source and destination as logged, not swapped into client
-- and server yet) because this is the one statement whose cost grows with the records.
--
-- pkt-srcaddr / pkt-dstaddr (v3+) are the addresses in the packet: at an ordinary
-- interface they equal srcaddr / dstaddr, except that traffic to a secondary private IP is
-- logged with the primary one in dstaddr; at a forwarding interface (NAT gateway, transit
-- gateway, NLB) they name the real endpoints behind it. So they are used wherever the log
-- has them.
-- AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html (pkt-dstaddr)
--
-- Per record: 1 SYN without ACK (src is the client)   2 SYN-ACK (src is the server)
--             5 dst port looks like a service          6 src port looks like a service
--             7 no flags, ports do not tell (non-TCP)  8 TCP without SYN / SYN-ACK, and
--                                                        no strong port signal either
-- TCP without flags is decided by the strong case alone (one side a configured service
-- port, the other an ephemeral one); other protocols by the port rules 1-6 of
-- conversations/sql/macros.sql (zt_port_rule). Rows are grouped by the side the record
-- decided, not by how: decision 1 (records 1 and 5), 2 (2 and 6), 7, 8; `flagged` counts
-- the records their own flags decided. The client's port is dropped for 1 (srcport) and 2
-- (dstport); 7 and 8 keep both, and orient.sql decides them from evidence learnt across
-- the whole data set.
-- tcp-flags are OR-ed per interval and ACK is only reported with SYN: SYN-ACK is 18.
-- AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html (tcp-flags)
--
-- nat_service names the AWS service of an accepted record whose packet addresses differ
-- from the logged ones (the inside leg of a NAT gateway, among others); NULL for every
-- other record. It lets rules/nat_services.py measure what NAT gateways carried to AWS
-- services from this scan's rows instead of a scan of its own; it almost never splits a
-- group, since translation and service follow from the addresses.
WITH norm AS (
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
        {end} AS last_time,
        action,
        coalesce(tcp_flags, 0) AS flags,
        flow_direction,
        pkt_src_aws_service,
        pkt_dst_aws_service,
        CASE
            WHEN action = 'ACCEPT'
                AND (pkt_srcaddr IS DISTINCT FROM srcaddr OR pkt_dstaddr IS DISTINCT FROM dstaddr)
            THEN coalesce(nullif(pkt_dst_aws_service, '-'), nullif(pkt_src_aws_service, '-'))
        END AS nat_service
    FROM {input}
    WHERE srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND protocol IS NOT NULL{where}
),
decided AS (
    SELECT
        *,
        CASE
            WHEN protocol = 6 AND (flags & 18) = 2 THEN 1
            WHEN protocol = 6 AND (flags & 18) = 18 THEN 2
            WHEN protocol = 6 THEN CASE
                WHEN srcport >= {eph} AND {svc_dst} AND NOT {svc_src} THEN 5
                WHEN dstport >= {eph} AND {svc_src} AND NOT {svc_dst} THEN 6
                ELSE 8
            END
            WHEN {svc_dst} AND NOT {svc_src} THEN 5
            WHEN {svc_src} AND NOT {svc_dst} THEN 6
            WHEN dstport < {eph} AND srcport >= {eph} THEN 5
            WHEN srcport < {eph} AND dstport >= {eph} THEN 6
            WHEN dstport < 1024 AND srcport >= 1024 THEN 5
            WHEN srcport < 1024 AND dstport >= 1024 THEN 6
            ELSE 7
        END AS code
    FROM norm
),
keyed AS (
    SELECT
        interface_id,
        src_a,
        dst_a,
        CASE WHEN code IN (1, 5) THEN NULL ELSE srcport END AS srcport,
        CASE WHEN code IN (2, 6) THEN NULL ELSE dstport END AS dstport,
        protocol,
        {hour} AS hour,
        CASE WHEN code IN (1, 5) THEN 1 WHEN code IN (2, 6) THEN 2 ELSE code END AS decision,
        code IN (1, 2) AS flag_decided,
        action = 'REJECT' AS rejected,
        packets,
        bytes,
        start,
        last_time,
        pkt_src_aws_service,
        pkt_dst_aws_service,
        nat_service,
        -- The sender of an egress record / the receiver of an ingress one is the logging
        -- interface (v5+ logs say which); NULL when the log does not.
        CASE flow_direction WHEN 'egress' THEN TRUE WHEN 'ingress' THEN FALSE END AS egress
    FROM decided
)
SELECT
    interface_id,
    src_a,
    dst_a,
    CAST(srcport AS INTEGER) AS srcport,
    CAST(dstport AS INTEGER) AS dstport,
    CAST(protocol AS INTEGER) AS protocol,
    CAST(hour AS BIGINT) AS hour,
    CAST(decision AS TINYINT) AS decision,
    CAST(count(*) AS BIGINT) AS records,
    CAST(count_if(flag_decided) AS BIGINT) AS flagged,
    CAST(count_if(flag_decided AND rejected) AS BIGINT) AS rejected_flagged,
    CAST(count_if(rejected) AS BIGINT) AS rejected_records,
    CAST(sum(packets) AS BIGINT) AS packets,
    CAST(sum(bytes) AS BIGINT) AS bytes,
    CAST(min(start) AS BIGINT) AS first_start,
    CAST(max(last_time) AS BIGINT) AS last_end,
    min(pkt_src_aws_service) AS src_service,
    min(pkt_dst_aws_service) AS dst_service,
    bool_or(egress) AS egress,
    nat_service
FROM keyed
GROUP BY interface_id, src_a, dst_a, srcport, dstport, protocol, hour, decision, nat_service
