-- The evidence a plan is replayed against: every accepted record group of the one scan
-- (zt_reduced), read the ways its own evidence allows, whatever orient.sql concluded.
--
-- A record says traffic went from src to dst. Security groups are stateful, so it is either
-- a request (reading 'a': src is the client, dst:dstport the server) or the response to one
-- (reading 'b': dst is the client, src:srcport the server). What decides:
--   flags          SYN without ACK proves 'a', SYN-ACK proves 'b' (decision 1 / 2, flagged);
--   strong ports   a configured service port against an ephemeral one (decision 1 / 2 by
--                  the scan, which kept only the server's port);
--   listeners      a socket seen answering or accepting a handshake anywhere in the data
--                  (zt_listeners), on exactly one side;
--   port rules     1-4 of zt_port_rule.
-- One reading decided: it must stay allowed ('must'). Two readings, one favoured: the
-- favoured one if today's rules allow it ('prefer'), else the other ('fallback'). Nothing
-- decides (port rules 5 / 6, or none): both readings must stay allowed ('must'), since a
-- wrong guess would remove a listener's rule.
--
-- Both sides of every reading are resolved as edges.sql resolves them; the logging
-- interface is authoritative for its own side, and its side is the one a record speaks for:
-- a record's action is the decision of the logging interface's security groups (egress when
-- it is the reading's client, ingress when it is the server; a forwarder's records decide
-- nothing). Hours fold together per resolution.
-- AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html (action)
CREATE OR REPLACE TEMP TABLE zt_readings AS
WITH kept AS (
    SELECT r.*, fw.interface_id IS NOT NULL AS forwarded
    FROM zt_reduced AS r
    LEFT JOIN zt_forwarding AS fw ON fw.interface_id = r.interface_id
    ANTI JOIN zt_own AS o
        ON o.interface_id = r.interface_id AND (o.address = r.src_a OR o.address = r.dst_a)
    WHERE r.records > r.rejected_records
),
judged AS (
    SELECT
        k.*,
        CASE
            WHEN k.decision IN (1, 2) THEN k.decision
            WHEN ld.addr IS NOT NULL AND ls.addr IS NULL THEN 1
            WHEN ls.addr IS NOT NULL AND ld.addr IS NULL THEN 2
            ELSE [0, 1, 2, 1, 2, 0, 0][
                zt_port_rule(k.srcport, k.dstport, CAST($service_bits AS BIT), $ephemeral_min) + 1
            ]
        END AS favoured
    FROM kept AS k
    LEFT JOIN zt_listeners AS ld
        ON k.decision IN (7, 8) AND ld.addr = k.dst_a AND ld.port = k.dstport
        AND ld.protocol = k.protocol
    LEFT JOIN zt_listeners AS ls
        ON k.decision IN (7, 8) AND ls.addr = k.src_a AND ls.port = k.srcport
        AND ls.protocol = k.protocol
),
readings AS (
    SELECT
        *,
        'a' AS reading,
        src_a AS client_a,
        dst_a AS server_a,
        dstport AS server_port,
        src_service AS client_service,
        dst_service AS server_service,
        src_class AS client_class,
        dst_class AS server_class,
        CASE
            WHEN decision = 1 THEN 'must'
            WHEN favoured = 1 THEN 'prefer'
            WHEN favoured = 2 THEN 'fallback'
            ELSE 'must'
        END AS need
    FROM judged
    WHERE decision <> 2
    UNION ALL
    SELECT
        *,
        'b' AS reading,
        dst_a AS client_a,
        src_a AS server_a,
        srcport AS server_port,
        dst_service AS client_service,
        src_service AS server_service,
        dst_class AS client_class,
        src_class AS server_class,
        CASE
            WHEN decision = 2 THEN 'must'
            WHEN favoured = 2 THEN 'prefer'
            WHEN favoured = 1 THEN 'fallback'
            ELSE 'must'
        END AS need
    FROM judged
    WHERE decision <> 1
)
SELECT
    interface_id, src_a, dst_a, srcport, dstport, protocol, hour, decision, forwarded,
    reading, need, client_a, server_a, server_port, client_service, server_service,
    client_class, server_class,
    -- egress: the logging interface sent the record, so it is the record's source.
    CASE
        WHEN egress IS NULL THEN NULL
        WHEN egress = (reading = 'a') THEN 'client'
        ELSE 'server'
    END AS local_hint,
    records - rejected_records AS records,
    first_start,
    last_end
FROM readings;

CREATE OR REPLACE TEMP TABLE zt_evidence AS
WITH joined AS (
    SELECT
        z.*,
        li.vpc_id AS l_vpc, li.security_group_ids AS l_sgs, li.interface_role AS l_role,
        rc.kind AS c_kind, coalesce(z.client_class, rc.id) AS c_id, rc.vpc_id AS c_vpc,
        rc.label AS c_label, rc.security_group_ids AS c_sgs, rc.interface_role AS c_role,
        rs.kind AS s_kind, coalesce(z.server_class, rs.id) AS s_id, rs.vpc_id AS s_vpc,
        rs.label AS s_label,
        rs.security_group_ids AS s_sgs, rs.interface_role AS s_role
    FROM zt_readings AS z
    LEFT JOIN zt_local AS li ON li.interface_id = z.interface_id AND li.hour = z.hour
    JOIN zt_res AS rc ON rc.address = z.client_a AND rc.hour = z.hour
    JOIN zt_res AS rs ON rs.address = z.server_a AND rs.hour = z.hour
),
vantaged AS (
    SELECT
        *,
        CASE
            WHEN c_kind = 'eni' AND c_id = interface_id THEN 'client'
            WHEN s_kind = 'eni' AND s_id = interface_id THEN 'server'
            WHEN forwarded THEN 'middle'
            WHEN local_hint IS NOT NULL THEN local_hint
            WHEN c_kind = 'eni' AND s_kind <> 'eni' THEN 'server'
            WHEN s_kind = 'eni' AND c_kind <> 'eni' THEN 'client'
            ELSE 'middle'
        END AS vantage
    FROM joined
),
sides AS (
    SELECT
        *,
        CASE
            WHEN vantage = 'client' THEN 'eni'
            WHEN c_kind = 'internet' AND client_service IS NOT NULL THEN 'aws_service'
            ELSE c_kind
        END AS client_kind,
        CASE
            WHEN vantage = 'client' THEN interface_id
            WHEN c_kind = 'internet' AND client_service IS NOT NULL THEN client_service
            ELSE c_id
        END AS client_id,
        CASE WHEN vantage = 'client' THEN coalesce(l_vpc, c_vpc) ELSE c_vpc END AS client_vpc_id,
        CASE WHEN vantage = 'client' THEN coalesce(l_sgs, []) ELSE c_sgs END AS client_sgs,
        CASE WHEN vantage = 'client' THEN coalesce(l_role, 'unknown') ELSE c_role END
            AS client_role,
        CASE WHEN vantage = 'client' THEN NULL ELSE c_label END AS client_label,
        CASE
            WHEN vantage = 'server' THEN 'eni'
            WHEN s_kind = 'internet' AND server_service IS NOT NULL THEN 'aws_service'
            ELSE s_kind
        END AS server_kind,
        CASE
            WHEN vantage = 'server' THEN interface_id
            WHEN s_kind = 'internet' AND server_service IS NOT NULL THEN server_service
            ELSE s_id
        END AS server_id,
        CASE WHEN vantage = 'server' THEN coalesce(l_vpc, s_vpc) ELSE s_vpc END AS server_vpc_id,
        CASE WHEN vantage = 'server' THEN coalesce(l_sgs, []) ELSE s_sgs END AS server_sgs,
        CASE WHEN vantage = 'server' THEN coalesce(l_role, 'unknown') ELSE s_role END
            AS server_role,
        CASE WHEN vantage = 'server' THEN NULL ELSE s_label END AS server_label
    FROM vantaged
),
keyed AS (
    -- One group of records, read its ways: the readings of a record group share its key,
    -- the resolution of both its addresses included (an address held by another ENI an
    -- hour later is another group).
    SELECT
        *,
        hash(
            interface_id, src_a, dst_a, srcport, dstport, protocol, decision,
            CASE WHEN reading = 'a' THEN client_id ELSE server_id END,
            CASE WHEN reading = 'a' THEN server_id ELSE client_id END
        ) AS row_id
    FROM sides
)
SELECT
    row_id,
    reading,
    need,
    vantage,
    client_kind, client_id, client_vpc_id, client_role, client_sgs, client_label,
    client_a,
    server_kind, server_id, server_vpc_id, server_role, server_sgs, server_label,
    server_a,
    CAST(protocol AS INTEGER) AS protocol,
    CAST(server_port AS INTEGER) AS server_port,
    min(interface_id) AS interface_id,
    CAST(sum(records) AS BIGINT) AS records,
    make_timestamp(min(first_start) * 1000000) AS first_seen,
    make_timestamp(max(last_end) * 1000000) AS last_seen
FROM keyed
GROUP BY ALL;
