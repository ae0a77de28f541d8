-- Records that neither flags, listener evidence nor ports could orient (both ports high, or
-- both well-known) kept both ports. Decide them now, on the reduced rows: a server socket
-- talks to many peer sockets (every client connection brings a new ephemeral port), a
-- client socket to one. On a tie, the lower port is the server.
--
-- Output: every reduced row with its orientation spelt out (is_request, method, and which
-- side the logging interface is on when the record said).
CREATE OR REPLACE TEMP TABLE zt_oriented AS
WITH amb AS (
    SELECT * FROM zt_reduced WHERE decision = 7
),
sockets AS (
    SELECT client_a AS addr, client_port AS port, protocol, server_a AS peer_a,
           server_port AS peer_port
    FROM amb
    UNION ALL
    SELECT server_a, server_port, protocol, client_a, client_port FROM amb
),
fan AS (
    SELECT addr, port, protocol, count(DISTINCT (peer_a, peer_port)) AS peers
    FROM sockets
    GROUP BY ALL
),
swaps AS (
    SELECT
        a.*,
        coalesce(fc.peers, 0) > coalesce(fs.peers, 0)
            OR (coalesce(fc.peers, 0) = coalesce(fs.peers, 0) AND a.client_port < a.server_port)
            AS swap
    FROM amb AS a
    LEFT JOIN fan AS fc
        ON fc.addr = a.client_a AND fc.port = a.client_port AND fc.protocol = a.protocol
    LEFT JOIN fan AS fs
        ON fs.addr = a.server_a AND fs.port = a.server_port AND fs.protocol = a.protocol
),
judged AS (
    SELECT
        * EXCLUDE (client_a, server_a, server_port, client_service, server_service),
        CASE WHEN swap THEN server_a ELSE client_a END AS client_a,
        CASE WHEN swap THEN client_a ELSE server_a END AS server_a,
        CASE WHEN swap THEN client_port ELSE server_port END AS server_port,
        CASE WHEN swap THEN server_service ELSE client_service END AS client_service,
        CASE WHEN swap THEN client_service ELSE server_service END AS server_service
    FROM swaps
),
decided AS (
    SELECT
        * EXCLUDE (client_port),
        decision % 2 = 1 AS is_request,
        CASE
            WHEN decision IN (1, 2) THEN 'tcp_flags'
            WHEN decision IN (3, 4) THEN 'listener'
            ELSE 'port_heuristic'
        END AS method
    FROM zt_reduced
    WHERE decision <> 7
    UNION ALL BY NAME
    SELECT
        * EXCLUDE (client_port, swap),
        NOT swap AS is_request,
        'fan_in' AS method
    FROM judged
)
SELECT
    * EXCLUDE (egress),
    -- egress: the logging interface sent this record, so it is the client of a request
    -- and the server of a response.
    CASE
        WHEN egress IS NULL THEN NULL
        WHEN egress = is_request THEN 'client'
        ELSE 'server'
    END AS local_hint
FROM decided;
