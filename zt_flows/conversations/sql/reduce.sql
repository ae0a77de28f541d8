-- Orient every record (who is the client?) and drop the client's ephemeral port at once,
-- so the aggregation groups by (interface, client, server, server port, hour) instead of the
-- literal 5-tuple: a few groups per conversation instead of one per connection. Group keys
-- are kept narrow (a one-byte decision code, booleans) because this is the one statement
-- whose cost grows with the number of records.
--
-- decision: 1 SYN without ACK (src is the client)   2 SYN-ACK (src is the server)
--           3 dst socket listens                     4 src socket listens
--           5 dst port looks like a service          6 src port looks like a service
--           7 ambiguous: decided later from fan-in (both ports kept until then)
-- Even codes mean the record runs server -> client (a response).
CREATE OR REPLACE TEMP TABLE zt_reduced AS
WITH decided AS (
    SELECT
        n.*,
        CAST(CASE
            WHEN n.protocol = 6 AND (n.flags & 18) = 2 THEN 1
            WHEN n.protocol = 6 AND (n.flags & 18) = 18 THEN 2
            WHEN ld.k IS NOT NULL AND ls.k IS NULL THEN 3
            WHEN ls.k IS NOT NULL AND ld.k IS NULL THEN 4
            WHEN list_contains($service_ports, n.dstport)
                 AND NOT list_contains($service_ports, n.srcport) THEN 5
            WHEN list_contains($service_ports, n.srcport)
                 AND NOT list_contains($service_ports, n.dstport) THEN 6
            WHEN n.dstport < $ephemeral_min AND n.srcport >= $ephemeral_min THEN 5
            WHEN n.srcport < $ephemeral_min AND n.dstport >= $ephemeral_min THEN 6
            WHEN n.dstport < 1024 AND n.srcport >= 1024 THEN 5
            WHEN n.srcport < 1024 AND n.dstport >= 1024 THEN 6
            ELSE 7
        END AS UTINYINT) AS decision
    FROM zt_norm AS n
    LEFT JOIN zt_listeners AS ld ON ld.k = hash(n.dst_a, n.dstport, n.protocol)
    LEFT JOIN zt_listeners AS ls ON ls.k = hash(n.src_a, n.srcport, n.protocol)
)
SELECT
    interface_id,
    CASE WHEN decision % 2 = 0 THEN dst_a ELSE src_a END AS client_a,
    CASE WHEN decision % 2 = 0 THEN src_a ELSE dst_a END AS server_a,
    CASE WHEN decision % 2 = 0 THEN srcport ELSE dstport END AS server_port,
    CASE WHEN decision = 7 THEN srcport END AS client_port,
    protocol,
    start // 3600 AS hour,
    decision,
    action = 'REJECT' AS rejected,
    CASE WHEN decision % 2 = 0 THEN pkt_dst_aws_service ELSE pkt_src_aws_service END
        AS client_service,
    CASE WHEN decision % 2 = 0 THEN pkt_src_aws_service ELSE pkt_dst_aws_service END
        AS server_service,
    -- The sender of an egress record / the receiver of an ingress one is the logging
    -- interface (v5+ logs say which); NULL when the log does not.
    CASE flow_direction WHEN 'egress' THEN TRUE WHEN 'ingress' THEN FALSE END AS egress,
    bool_or(forwarded) AS forwarded,
    count(*) AS records,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    min(start) AS first_start,
    max("end") AS last_end,
    count_if(protocol = 6 AND (flags & 18) = 2) AS syns
FROM decided
GROUP BY ALL;
