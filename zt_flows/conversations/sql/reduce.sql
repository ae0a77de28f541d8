-- The one scan over the flow records. Each record is oriented as far as the record itself
-- allows, and the client's ephemeral port is dropped at once where it can be, so the
-- aggregation groups by (interface, addresses, server port, hour) instead of the literal
-- 5-tuple. Keys are few and narrow (a one-byte decision code; the source and destination
-- as logged, not swapped into client and server yet) because this is the one statement
-- whose cost grows with the number of records.
--
-- Per record: 1 SYN without ACK (src is the client)   2 SYN-ACK (src is the server)
--             5 dst port looks like a service          6 src port looks like a service
--             7 no flags, ports do not tell (non-TCP)  8 TCP without SYN / SYN-ACK, and
--                                                        no strong port signal either
-- Rows are grouped by the side the record decided, not by how: decision 1 (src is the
-- client: records 1 and 5), 2 (src is the server: 2 and 6), 7, 8; `flagged` counts the
-- records their own flags decided. The client's port is dropped for 1 (srcport) and 2
-- (dstport); 7 and 8 keep both, and orient.sql decides them from evidence learnt across
-- the whole data set.
-- tcp-flags are OR-ed per interval and ACK is only reported with SYN: SYN-ACK is 18.
-- AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html (tcp-flags)
CREATE OR REPLACE TEMP TABLE zt_reduced AS
WITH decided AS (
    SELECT
        *,
        CAST(CASE
            WHEN protocol = 6 AND (flags & 18) = 2 THEN 1
            WHEN protocol = 6 AND (flags & 18) = 18 THEN 2
            WHEN protocol = 6 THEN [8, 5, 6][
                zt_strong_side(srcport, dstport, CAST($service_bits AS BIT), $ephemeral_min) + 1
            ]
            ELSE [7, 5, 6][
                zt_port_side(srcport, dstport, CAST($service_bits AS BIT), $ephemeral_min) + 1
            ]
        END AS UTINYINT) AS decision
    FROM zt_norm
)
SELECT
    interface_id,
    src_a,
    dst_a,
    CASE WHEN decision IN (1, 5) THEN NULL ELSE srcport END AS srcport,
    CASE WHEN decision IN (2, 6) THEN NULL ELSE dstport END AS dstport,
    protocol,
    start // 3600 AS hour,
    CAST(CASE WHEN decision IN (1, 5) THEN 1 WHEN decision IN (2, 6) THEN 2 ELSE decision END
         AS UTINYINT) AS decision,
    count(*) AS records,
    count_if(decision IN (1, 2)) AS flagged,
    count_if(decision IN (1, 2) AND action = 'REJECT') AS rejected_flagged,
    count_if(action = 'REJECT') AS rejected_records,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    min(start) AS first_start,
    max("end") AS last_end,
    min(pkt_src_aws_service) AS src_service,
    min(pkt_dst_aws_service) AS dst_service,
    -- The sender of an egress record / the receiver of an ingress one is the logging
    -- interface (v5+ logs say which); NULL when the log does not.
    bool_or(CASE flow_direction WHEN 'egress' THEN TRUE WHEN 'ingress' THEN FALSE END) AS egress
FROM decided
GROUP BY ALL;
