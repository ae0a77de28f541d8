-- Addresses the flow logs themselves attribute to an interface: the sender of an egress
-- record and the receiver of an ingress record is the logging interface. This names an
-- address whose ENI the inventory does not know (deleted before the snapshot, or a
-- snapshot that missed it), so that both vantages of one connection agree on its client.
CREATE OR REPLACE TEMP TABLE zt_self AS
SELECT
    CASE local_hint WHEN 'client' THEN client_a ELSE server_a END AS address,
    hour,
    min(interface_id) AS interface_id
FROM zt_oriented
WHERE local_hint IS NOT NULL AND NOT forwarded
GROUP BY ALL;

UPDATE zt_res
SET kind = 'eni',
    id = s.interface_id,
    label = 'not in the inventory',
    security_group_ids = [],
    interface_role = 'unknown'
FROM zt_self AS s
WHERE zt_res.address = s.address AND zt_res.hour = s.hour AND zt_res.kind <> 'eni';
