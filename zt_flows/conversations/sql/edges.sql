-- Resolve both sides of every oriented row to endpoints and aggregate to the edge table:
-- one row per (day, client, server, protocol, server port).
--
-- A connection between two logged interfaces is recorded at both (and, through a NAT
-- gateway, at the gateway too). Each edge takes its figures from one vantage so nothing is
-- doubled: the server's interface when it logged the edge (ingress rules are decided
-- there), else the client's, else a forwarder's. Requests the client's own egress rules
-- rejected never reach the server, so they are added from the client's vantage.
--
-- The logging interface's own record is joined first, in a statement of its own: in one
-- statement the planner links the three tables through their shared hour column and
-- builds an address x interface product before filtering it (seconds instead of ms).
CREATE OR REPLACE TEMP TABLE zt_localized AS
SELECT
    z.*,
    li.vpc_id AS l_vpc, li.security_group_ids AS l_sgs, li.interface_role AS l_role
FROM zt_oriented AS z
LEFT JOIN zt_local AS li ON li.interface_id = z.interface_id AND li.hour = z.hour;

CREATE OR REPLACE TEMP TABLE zt_edges AS
WITH joined AS (
    SELECT
        z.*,
        rc.kind AS c_kind, coalesce(z.client_class, rc.id) AS c_id, rc.vpc_id AS c_vpc,
        rc.label AS c_label, rc.security_group_ids AS c_sgs, rc.interface_role AS c_role,
        rs.kind AS s_kind, coalesce(z.server_class, rs.id) AS s_id, rs.vpc_id AS s_vpc,
        rs.label AS s_label,
        rs.security_group_ids AS s_sgs, rs.interface_role AS s_role
    FROM zt_localized AS z
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
    -- The logging interface is authoritative for its own side; an external address that
    -- flow logs name as an AWS service (pkt-*-aws-service) is that service.
    SELECT
        DATE '1970-01-01' + CAST(hour // 24 AS INTEGER) AS day,
        vantage,
        protocol,
        server_port,
        is_request,
        rejected_records,
        by_flags,
        by_listener,
        by_ports,
        by_fan_in,
        records,
        packets,
        bytes,
        first_start,
        last_end,
        syns,
        client_a,
        server_a,
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
        -- Groups as one text key (ids hold no space): hashing a list is slower than text.
        array_to_string(CASE WHEN vantage = 'client' THEN coalesce(l_sgs, []) ELSE c_sgs END,
                        ' ') AS client_sgs,
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
        array_to_string(CASE WHEN vantage = 'server' THEN coalesce(l_sgs, []) ELSE s_sgs END,
                        ' ') AS server_sgs,
        CASE WHEN vantage = 'server' THEN coalesce(l_role, 'unknown') ELSE s_role END
            AS server_role,
        CASE WHEN vantage = 'server' THEN NULL ELSE s_label END AS server_label
    FROM vantaged
),
collapsed AS (
    -- The hours of a day fold together first, keeping the addresses and groups each row
    -- names, so that the distinct lists below are built from a few rows per edge rather
    -- than from every hour of it.
    SELECT
        day, client_kind, client_id, server_kind, server_id, protocol, server_port, vantage,
        client_a, server_a, client_sgs, server_sgs,
        sum(records) FILTER (WHERE is_request) AS flows,
        sum(records - rejected_records) FILTER (WHERE is_request) AS accepted,
        sum(rejected_records) FILTER (WHERE is_request) AS rejected,
        sum(syns) AS connections,
        sum(packets) AS packets,
        sum(bytes) AS bytes,
        min(first_start) AS first_start,
        max(last_end) AS last_end,
        sum(by_flags) FILTER (WHERE is_request) AS by_flags,
        sum(by_listener) FILTER (WHERE is_request) AS by_listener,
        sum(by_ports) FILTER (WHERE is_request) AS by_ports,
        sum(by_fan_in) FILTER (WHERE is_request) AS by_fan_in,
        min(client_vpc_id) AS client_vpc_id,
        min(client_role) AS client_role,
        min(client_label) AS client_label,
        min(server_vpc_id) AS server_vpc_id,
        min(server_role) AS server_role,
        min(server_label) AS server_label
    FROM sides
    GROUP BY day, client_kind, client_id, server_kind, server_id, protocol, server_port, vantage,
             client_a, server_a, client_sgs, server_sgs
),
per_vantage AS (
    SELECT
        day, client_kind, client_id, server_kind, server_id, protocol, server_port, vantage,
        coalesce(sum(flows), 0) AS flows,
        coalesce(sum(accepted), 0) AS accepted,
        coalesce(sum(rejected), 0) AS rejected,
        coalesce(sum(connections), 0) AS connections,
        sum(packets) AS packets,
        sum(bytes) AS bytes,
        min(first_start) AS first_start,
        max(last_end) AS last_end,
        coalesce(sum(by_flags), 0) AS by_flags,
        coalesce(sum(by_listener), 0) AS by_listener,
        coalesce(sum(by_ports), 0) AS by_ports,
        coalesce(sum(by_fan_in), 0) AS by_fan_in,
        list(DISTINCT client_a ORDER BY client_a) AS client_addrs,
        list(DISTINCT server_a ORDER BY server_a) AS server_addrs,
        min(client_vpc_id) AS client_vpc_id,
        list_sort(list_distinct(flatten(list(DISTINCT
            CASE WHEN client_sgs = '' THEN []::VARCHAR[] ELSE string_split(client_sgs, ' ') END
        )))) AS client_sgs,
        min(client_role) AS client_role,
        min(client_label) AS client_label,
        min(server_vpc_id) AS server_vpc_id,
        list_sort(list_distinct(flatten(list(DISTINCT
            CASE WHEN server_sgs = '' THEN []::VARCHAR[] ELSE string_split(server_sgs, ' ') END
        )))) AS server_sgs,
        min(server_role) AS server_role,
        min(server_label) AS server_label
    FROM collapsed
    GROUP BY day, client_kind, client_id, server_kind, server_id, protocol, server_port, vantage
),
ranked AS (
    -- One row per edge: the preferred vantage's figures (a vantage appears once per edge,
    -- so the choice is unique), with what the other vantages add.
    SELECT
        day, client_kind, client_id, server_kind, server_id, protocol, server_port,
        arg_min(pv, CASE pv.vantage WHEN 'server' THEN 0 WHEN 'client' THEN 1 ELSE 2 END)
            AS best,
        coalesce(sum(rejected) FILTER (WHERE vantage = 'client'), 0) AS client_rejected,
        bool_or(vantage = 'server') AS server_logged,
        min(first_start) AS edge_first,
        max(last_end) AS edge_last
    FROM per_vantage AS pv
    GROUP BY day, client_kind, client_id, server_kind, server_id, protocol, server_port
),
totalled AS (
    SELECT
        best.*,
        edge_first,
        edge_last,
        CASE WHEN server_logged AND best.vantage = 'server' THEN client_rejected ELSE 0 END
            AS added_rejected
    FROM ranked
)
SELECT
    day,
    client_kind, client_id, client_vpc_id, client_role, client_sgs, client_addrs, client_label,
    server_kind, server_id, server_vpc_id, server_role, server_sgs, server_addrs, server_label,
    CAST(protocol AS INTEGER) AS protocol,
    CAST(server_port AS INTEGER) AS server_port,
    CAST(flows + added_rejected AS BIGINT) AS flows,
    CAST(accepted AS BIGINT) AS accepted,
    CAST(rejected + added_rejected AS BIGINT) AS rejected,
    CAST(connections AS BIGINT) AS connections,
    CAST(packets AS BIGINT) AS packets,
    CAST(bytes AS BIGINT) AS bytes,
    make_timestamp(edge_first * 1000000) AS first_seen,
    make_timestamp(edge_last * 1000000) AS last_seen,
    CASE
        WHEN by_flags > 0 THEN 'tcp_flags'
        WHEN by_listener > 0 THEN 'listener'
        WHEN by_ports > 0 THEN 'port_heuristic'
        ELSE 'fan_in'
    END AS initiator,
    CAST(by_flags AS BIGINT) AS flows_by_flags,
    CAST(by_listener AS BIGINT) AS flows_by_listener,
    CAST(by_ports + by_fan_in AS BIGINT) AS flows_by_heuristic,
    vantage
FROM totalled
WHERE flows + added_rejected > 0;
