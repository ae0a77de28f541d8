-- Internet peers fold into classes (see conversations/classes.py): every address of the scan
-- is placed in its segment of the inventory's address space with one range join, and the
-- public addresses no ENI holds are replaced by one representative per class, so that the
-- rows after this step grow with what decides rules, not with the number of clients.
--
-- What keeps its identity, whatever the numbers:
-- * rows the scan did not orient (decisions 7 and 8): orient.sql decides them from the
--   sockets' own evidence (listeners, fan-in) and needs the addresses for it;
-- * listeners (a socket seen answering or accepting a handshake): judged by their address;
-- * addresses the logs attribute to the logging interface itself (self_addresses.sql);
-- * accepted TCP to an identity port (SSH, RDP): the recommender judges each internet
--   client there, a session or a probe;
-- * every class with at most fold_threshold distinct addresses: few identities cost
--   nothing and read better.
-- A folded address becomes the class's representative (its lowest address; a member, so
-- that it evaluates against every rule as each member does) and the row carries the class.
CREATE OR REPLACE TEMP TABLE zt_fold_candidates AS
WITH seen AS (
    SELECT src_a AS address FROM zt_reduced WHERE decision IN (1, 2)
    UNION
    SELECT dst_a FROM zt_reduced WHERE decision IN (1, 2)
),
selves AS (
    SELECT DISTINCT CASE WHEN egress THEN src_a ELSE dst_a END AS address
    FROM zt_reduced
    WHERE egress IS NOT NULL
),
parsed AS (
    SELECT address, CAST(zt_ip_family(address) AS TINYINT) AS v, zt_ip_value(address) AS ip
    FROM seen
    ANTI JOIN (SELECT DISTINCT addr FROM zt_listeners) AS l ON l.addr = seen.address
    ANTI JOIN selves ON selves.address = seen.address
)
SELECT p.address, s.class_id
FROM parsed AS p
ASOF JOIN zt_segments AS s ON p.v = s.v AND p.ip >= s.lo
WHERE p.ip IS NOT NULL AND p.ip <= s.hi;

CREATE OR REPLACE TEMP TABLE zt_fold AS
WITH sized AS (
    SELECT class_id, count(*) AS addresses, min(address) AS rep
    FROM zt_fold_candidates
    GROUP BY class_id
    HAVING count(*) > $fold_threshold
)
SELECT c.address, c.class_id, s.rep
FROM zt_fold_candidates AS c
JOIN sized AS s ON s.class_id = c.class_id;

CREATE OR REPLACE TEMP TABLE zt_folded AS
WITH marked AS (
    SELECT
        r.*,
        r.decision IN (1, 2) AND NOT (
            r.protocol = 6 AND r.records > r.rejected_records
            AND list_contains($identity_ports,
                              CASE WHEN r.decision = 1 THEN r.dstport ELSE r.srcport END)
        ) AS may_fold
    FROM zt_reduced AS r
)
SELECT
    m.interface_id,
    CASE WHEN m.may_fold AND fs.rep IS NOT NULL THEN fs.rep ELSE m.src_a END AS src_a,
    CASE WHEN m.may_fold AND fd.rep IS NOT NULL THEN fd.rep ELSE m.dst_a END AS dst_a,
    m.srcport,
    m.dstport,
    m.protocol,
    m.hour,
    m.decision,
    CAST(sum(m.records) AS BIGINT) AS records,
    CAST(sum(m.flagged) AS BIGINT) AS flagged,
    CAST(sum(m.rejected_flagged) AS BIGINT) AS rejected_flagged,
    CAST(sum(m.rejected_records) AS BIGINT) AS rejected_records,
    sum(m.packets) AS packets,
    sum(m.bytes) AS bytes,
    min(m.first_start) AS first_start,
    max(m.last_end) AS last_end,
    min(m.src_service) AS src_service,
    min(m.dst_service) AS dst_service,
    bool_or(m.egress) AS egress,
    m.nat_service,
    CASE WHEN m.may_fold THEN fs.class_id END AS src_class,
    CASE WHEN m.may_fold THEN fd.class_id END AS dst_class
FROM marked AS m
LEFT JOIN zt_fold AS fs ON fs.address = m.src_a
LEFT JOIN zt_fold AS fd ON fd.address = m.dst_a
GROUP BY ALL;
