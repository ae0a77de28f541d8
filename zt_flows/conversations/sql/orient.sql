-- Turn the reduced rows into client -> server rows, on the small table:
--
-- 0. A NAT gateway's translated legs (its own address on one side) are the same
--    conversation as its inside legs and are dropped; so are its records without pkt-*
--    fields (v2 logs), whose real endpoints are unknowable. The endpoints' own interfaces
--    log the same connections with the real addresses.
-- 1. Listener evidence learnt from the whole data set: a socket that answered a handshake
--    (SYN-ACK from it) or accepted one (SYN to it) is a server, also in the intervals
--    where a long-lived connection shows no flags at all (3: dst listens, 4: src listens);
--    port-decided TCP rows whose server socket listens are counted as listener-decided.
-- 2. Port heuristics (5: dst serves, 6: src serves).
-- 3. Fan-in for the rest: a server socket talks to many peer sockets (every client
--    connection brings a new ephemeral port), a client socket to one; on a tie the lower
--    port serves (9).
--
-- A row says how many of its records each method decided (by_flags, by_listener,
-- by_ports, by_fan_in): a scan row holds records its flags decided beside records its
-- ports decided.
CREATE OR REPLACE TEMP TABLE zt_oriented AS
WITH kept AS (
    SELECT r.*, fw.interface_id IS NOT NULL AS forwarded
    FROM zt_reduced AS r
    LEFT JOIN zt_forwarding AS fw ON fw.interface_id = r.interface_id
    ANTI JOIN zt_own AS o
        ON o.interface_id = r.interface_id AND (o.address = r.src_a OR o.address = r.dst_a)
),
sided AS (
    -- src/dst become client/server: decided rows by their code, open rows provisionally.
    SELECT
        * EXCLUDE (src_a, dst_a, srcport, dstport, src_service, dst_service, rejected_flagged,
                   src_class, dst_class, nat_service),
        CASE WHEN decision = 2 THEN dst_a ELSE src_a END AS client_a,
        CASE WHEN decision = 2 THEN src_a ELSE dst_a END AS server_a,
        -- The class a folded address stands for (fold.sql; only rows the scan decided).
        CASE WHEN decision = 2 THEN dst_class ELSE src_class END AS client_class,
        CASE WHEN decision = 2 THEN src_class ELSE dst_class END AS server_class,
        CASE WHEN decision = 2 THEN srcport ELSE dstport END AS server_port,
        CASE WHEN decision IN (7, 8) THEN srcport END AS client_port,
        CASE WHEN decision = 2 THEN dst_service ELSE src_service END AS client_service,
        CASE WHEN decision = 2 THEN src_service ELSE dst_service END AS server_service,
        decision <> 2 AS is_request
    FROM kept
),
pending AS (
    SELECT
        s.* EXCLUDE (decision),
        CAST(CASE
            WHEN s.decision = 8 AND ld.addr IS NOT NULL AND ls.addr IS NULL THEN 3
            WHEN s.decision = 8 AND ls.addr IS NOT NULL AND ld.addr IS NULL THEN 4
            ELSE [9, 5, 6][
                zt_port_side(s.client_port, s.server_port, CAST($service_bits AS BIT),
                             $ephemeral_min) + 1
            ]
        END AS UTINYINT) AS decision
    FROM sided AS s
    LEFT JOIN zt_listeners AS ld
        ON ld.addr = s.server_a AND ld.port = s.server_port AND ld.protocol = s.protocol
    LEFT JOIN zt_listeners AS ls
        ON ls.addr = s.client_a AND ls.port = s.client_port AND ls.protocol = s.protocol
    WHERE s.decision IN (7, 8)
),
sockets AS (
    SELECT client_a AS addr, client_port AS port, protocol, server_a AS peer_a,
           server_port AS peer_port
    FROM pending WHERE decision = 9
    UNION ALL
    SELECT server_a, server_port, protocol, client_a, client_port
    FROM pending WHERE decision = 9
),
fan AS (
    SELECT addr, port, protocol, count(DISTINCT (peer_a, peer_port)) AS peers
    FROM sockets
    GROUP BY ALL
),
judged AS (
    SELECT
        p.*,
        p.decision IN (4, 6) OR (
            p.decision = 9 AND (
                coalesce(fc.peers, 0) > coalesce(fs.peers, 0)
                OR (coalesce(fc.peers, 0) = coalesce(fs.peers, 0)
                    AND p.client_port < p.server_port)
            )
        ) AS swap
    FROM pending AS p
    LEFT JOIN fan AS fc
        ON p.decision = 9 AND fc.addr = p.client_a AND fc.port = p.client_port
        AND fc.protocol = p.protocol
    LEFT JOIN fan AS fs
        ON p.decision = 9 AND fs.addr = p.server_a AND fs.port = p.server_port
        AND fs.protocol = p.protocol
),
decided AS (
    -- A row the scan decided keeps its key: its (client, server, server port, direction)
    -- follows one to one from the scan's group, so it needs no second grouping. The
    -- records its ports decided count as listener-decided where the server socket is
    -- known to listen.
    SELECT
        s.* EXCLUDE (client_port, decision, flagged),
        s.flagged AS by_flags,
        CASE WHEN l.addr IS NOT NULL THEN s.records - s.flagged ELSE 0 END AS by_listener,
        CASE WHEN l.addr IS NULL THEN s.records - s.flagged ELSE 0 END AS by_ports,
        0 AS by_fan_in,
        CASE WHEN s.decision = 1 THEN s.flagged ELSE 0 END AS syns
    FROM sided AS s
    LEFT JOIN zt_listeners AS l
        ON l.addr = s.server_a AND l.port = s.server_port AND l.protocol = s.protocol
    WHERE s.decision IN (1, 2)
),
flipped AS (
    SELECT
        interface_id,
        CASE WHEN swap THEN server_a ELSE client_a END AS client_a,
        CASE WHEN swap THEN client_a ELSE server_a END AS server_a,
        CASE WHEN swap THEN client_port ELSE server_port END AS server_port,
        protocol,
        hour,
        NOT swap AS is_request,
        egress,
        forwarded,
        CASE WHEN swap THEN server_service ELSE client_service END AS client_service,
        CASE WHEN swap THEN client_service ELSE server_service END AS server_service,
        CAST(NULL AS VARCHAR) AS client_class,
        CAST(NULL AS VARCHAR) AS server_class,
        decision,
        records,
        rejected_records,
        packets,
        bytes,
        first_start,
        last_end
    FROM judged
),
swapped AS (
    -- Open rows, now oriented; rows that differed only by the client port they kept
    -- merge again here (few: the scan drops the client's port wherever it can).
    SELECT
        interface_id, client_a, server_a, server_port, protocol, hour, is_request, egress,
        bool_or(forwarded) AS forwarded,
        min(client_service) AS client_service,
        min(server_service) AS server_service,
        min(client_class) AS client_class,
        min(server_class) AS server_class,
        sum(records) AS records,
        sum(rejected_records) AS rejected_records,
        sum(packets) AS packets,
        sum(bytes) AS bytes,
        min(first_start) AS first_start,
        max(last_end) AS last_end,
        0 AS by_flags,
        sum(records) FILTER (WHERE decision IN (3, 4)) AS by_listener,
        sum(records) FILTER (WHERE decision IN (5, 6)) AS by_ports,
        sum(records) FILTER (WHERE decision = 9) AS by_fan_in,
        0 AS syns
    FROM flipped
    GROUP BY interface_id, client_a, server_a, server_port, protocol, hour, is_request, egress
)
SELECT
    interface_id,
    client_a,
    server_a,
    server_port,
    protocol,
    hour,
    is_request,
    -- egress: the logging interface sent this record, so it is the client of a request
    -- and the server of a response.
    CASE
        WHEN egress IS NULL THEN NULL
        WHEN egress = is_request THEN 'client'
        ELSE 'server'
    END AS local_hint,
    forwarded,
    client_service,
    server_service,
    client_class,
    server_class,
    CAST(records AS BIGINT) AS records,
    CAST(rejected_records AS BIGINT) AS rejected_records,
    CAST(packets AS BIGINT) AS packets,
    CAST(bytes AS BIGINT) AS bytes,
    first_start,
    last_end,
    CAST(coalesce(by_flags, 0) AS BIGINT) AS by_flags,
    CAST(coalesce(by_listener, 0) AS BIGINT) AS by_listener,
    CAST(coalesce(by_ports, 0) AS BIGINT) AS by_ports,
    CAST(coalesce(by_fan_in, 0) AS BIGINT) AS by_fan_in,
    CAST(syns AS BIGINT) AS syns
FROM (
    SELECT * FROM decided
    UNION ALL BY NAME
    SELECT * FROM swapped
);
