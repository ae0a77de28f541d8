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

-- Addresses as numbers, for the range join that classes internet peers (fold.sql): the
-- family, and the value as a UHUGEINT (IPv6 written with '::' is expanded first). NULL for
-- what is not an address, and for IPv6 with an embedded IPv4 part (kept as it is).
CREATE OR REPLACE TEMP MACRO zt_ip_family(a) AS
    CASE WHEN contains(a, ':') THEN 6 WHEN contains(a, '.') THEN 4 END;

CREATE OR REPLACE TEMP MACRO zt_ip4_value(a) AS
    TRY_CAST(split_part(a, '.', 1) AS UHUGEINT) * 16777216
    + TRY_CAST(split_part(a, '.', 2) AS UHUGEINT) * 65536
    + TRY_CAST(split_part(a, '.', 3) AS UHUGEINT) * 256
    + TRY_CAST(split_part(a, '.', 4) AS UHUGEINT);

CREATE OR REPLACE TEMP MACRO zt_ip6_left(a) AS
    CASE WHEN starts_with(a, '::') THEN []::VARCHAR[]
         ELSE string_split(split_part(a, '::', 1), ':') END;

CREATE OR REPLACE TEMP MACRO zt_ip6_right(a) AS
    CASE WHEN NOT contains(a, '::') OR ends_with(a, '::') THEN []::VARCHAR[]
         ELSE string_split(split_part(a, '::', 2), ':') END;

CREATE OR REPLACE TEMP MACRO zt_ip6_value(a) AS
    TRY_CAST('0x' || array_to_string(list_transform(
        list_concat(zt_ip6_left(a),
                    list_resize([]::VARCHAR[], 8 - len(zt_ip6_left(a)) - len(zt_ip6_right(a)), '0'),
                    zt_ip6_right(a)),
        lambda g: lpad(g, 4, '0')), '') AS UHUGEINT);

CREATE OR REPLACE TEMP MACRO zt_ip_value(a) AS
    CASE WHEN contains(a, ':') THEN
        CASE WHEN contains(a, '.') THEN NULL ELSE zt_ip6_value(a) END
    ELSE zt_ip4_value(a) END;
