-- service_bits is a BIT string of 65 536 bits, bit p set when port p is a configured service
-- port: a lookup per record costs nothing, where list_contains() over a list parameter is
-- planned as a join evaluated for every record.
--
-- Port heuristics, for records no flag or listener evidence orients: which rule decides
-- which side serves? 1 / 2: a configured service port beats a port that is not one (the
-- destination / the source serves); 3 / 4: a port below the ephemeral range beats one in it;
-- 5 / 6: a well-known port (< 1024) beats a registered one; 0: cannot tell. Rules 1-4 are
-- strong evidence; 5 and 6 are weak (NFS, GlusterFS and rsh-style clients bind privileged
-- ports), so the record replay keeps both readings of what only they decided.
CREATE OR REPLACE TEMP MACRO zt_port_rule(srcport, dstport, service_bits, ephemeral_min) AS
    CASE
        WHEN get_bit(service_bits, dstport) = 1
             AND NOT get_bit(service_bits, srcport) = 1 THEN 1
        WHEN get_bit(service_bits, srcport) = 1
             AND NOT get_bit(service_bits, dstport) = 1 THEN 2
        WHEN dstport < ephemeral_min AND srcport >= ephemeral_min THEN 3
        WHEN srcport < ephemeral_min AND dstport >= ephemeral_min THEN 4
        WHEN dstport < 1024 AND srcport >= 1024 THEN 5
        WHEN srcport < 1024 AND dstport >= 1024 THEN 6
        ELSE 0
    END;

-- Which side serves by those rules: 1 the destination, 2 the source, 0 cannot tell.
CREATE OR REPLACE TEMP MACRO zt_port_side(srcport, dstport, service_bits, ephemeral_min) AS
    [0, 1, 2, 1, 2, 1, 2][zt_port_rule(srcport, dstport, service_bits, ephemeral_min) + 1];

-- The strong case alone: one side a configured service port, the other an ephemeral one.
-- Listener evidence can only disagree with it for a server listening in the ephemeral range
-- and reached from a configured service port, so the scan decides these records at once
-- (and orient.sql records where listener evidence confirms them).
CREATE OR REPLACE TEMP MACRO zt_strong_side(srcport, dstport, service_bits, ephemeral_min) AS
    CASE
        WHEN srcport >= ephemeral_min AND get_bit(service_bits, dstport) = 1
             AND NOT get_bit(service_bits, srcport) = 1 THEN 1
        WHEN dstport >= ephemeral_min AND get_bit(service_bits, srcport) = 1
             AND NOT get_bit(service_bits, dstport) = 1 THEN 2
        ELSE 0
    END;
