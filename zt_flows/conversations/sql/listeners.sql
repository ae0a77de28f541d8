-- Listener evidence learnt from the whole data set: a socket that answered a handshake
-- (SYN-ACK from it) or accepted one (SYN to it) is a server. orient.sql and evidence.sql
-- use it; fold.sql keeps these addresses as they are (a listener is judged by its address).
CREATE OR REPLACE TEMP TABLE zt_listeners AS
SELECT DISTINCT
    CASE WHEN decision = 1 THEN dst_a ELSE src_a END AS addr,
    CASE WHEN decision = 1 THEN dstport ELSE srcport END AS port,
    protocol
FROM zt_reduced
WHERE (decision = 2 AND flagged > 0) OR (decision = 1 AND flagged > rejected_flagged);
