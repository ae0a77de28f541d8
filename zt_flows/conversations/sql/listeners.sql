-- Listener evidence, learnt from the whole data set in one scan: a socket (address, port,
-- protocol) that answered a handshake (SYN-ACK from it) or accepted one (SYN to it) is a
-- server, also in the intervals where a long-lived connection shows no flags at all.
-- tcp-flags are OR-ed per interval and ACK is only reported with SYN: SYN-ACK is 18.
-- AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html (tcp-flags)
CREATE OR REPLACE TEMP TABLE zt_listeners AS
SELECT DISTINCT
    CASE
        WHEN (flags & 18) = 18 THEN hash(src_a, srcport, protocol)
        ELSE hash(dst_a, dstport, protocol)
    END AS k
FROM zt_norm
WHERE protocol = 6
  AND ((flags & 18) = 18 OR ((flags & 18) = 2 AND action = 'ACCEPT'));
