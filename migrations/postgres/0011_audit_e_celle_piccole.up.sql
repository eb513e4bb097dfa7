-- 0011 audit_e_celle_piccole: two fixes to the access boundaries of 0009 (issue 7).
--
-- 1. Audit entries written by a technician. Each entry's hash chains to the
--    last entry of the whole log, but row-level security shows a technician
--    only the entries of its own entes: written directly, its entries would
--    chain to the wrong predecessor and break `siso audit verify`. So
--    technicians append through siso_audit_append, which runs with the
--    owner's rights, computes the chain here, and checks the ente the same
--    way the policy did. The direct INSERT right is withdrawn: a technician
--    can no longer forge an entry's hashes or timestamp.
-- 2. v_uso_mensile (the lettore's aggregate view) hides small counts.

-- The hash is the one src/audit.rs chain_hash computes, byte for byte:
-- SHA-256 (hex) of the compact JSON array
--   [previous hash, registrato_il as RFC 3339 in UTC, operatore, comando,
--    ente_codice or null, azione, dettaglio or null]
-- to_json() escapes strings exactly as serde_json does (\" \\ \b \f \n \r \t,
-- other control characters as \u00xx, everything else as is), and the time
-- is written like the `time` crate's RFC 3339: seconds, then a fraction only
-- when there is one, without trailing zeros, then Z.
CREATE FUNCTION siso_audit_append(
    p_operatore TEXT, p_comando TEXT, p_ente_codice TEXT, p_azione TEXT, p_dettaglio TEXT)
RETURNS TEXT
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_previous TEXT;
    v_at TIMESTAMPTZ := date_trunc('microseconds', clock_timestamp());
    v_at_text TEXT;
    v_fraction TEXT;
    v_hash TEXT;
BEGIN
    -- The same rule as the 0009 insert policy: entries about the login's own
    -- entes only (session_user: the login, not this function's owner).
    IF p_ente_codice IS NULL
       OR NOT EXISTS (SELECT 1 FROM ente e
                       WHERE e.codice = p_ente_codice
                         AND e.id IN (SELECT siso_titolari_visibili())) THEN
        RAISE EXCEPTION 'login % may not write audit entries about ente %: it is outside the ambiti granted to it',
              session_user, coalesce(p_ente_codice, '(none)')
              USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The lock src/audit.rs takes: two writers never chain onto the same entry.
    PERFORM pg_advisory_xact_lock(1397314383, 1);
    SELECT a.hash INTO v_previous FROM audit_log a ORDER BY a.id DESC LIMIT 1;
    v_previous := coalesce(v_previous, repeat('0', 64));
    v_fraction := rtrim(to_char(v_at AT TIME ZONE 'UTC', 'US'), '0');
    v_at_text := to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                 || CASE WHEN v_fraction = '' THEN '' ELSE '.' || v_fraction END
                 || 'Z';
    v_hash := encode(sha256(convert_to(
        '[' || to_json(v_previous)::TEXT
        || ',' || to_json(v_at_text)::TEXT
        || ',' || to_json(p_operatore)::TEXT
        || ',' || to_json(p_comando)::TEXT
        || ',' || coalesce(to_json(p_ente_codice)::TEXT, 'null')
        || ',' || to_json(p_azione)::TEXT
        || ',' || coalesce(to_json(p_dettaglio)::TEXT, 'null')
        || ']', 'UTF8')), 'hex');
    INSERT INTO audit_log (registrato_il, operatore, comando, ente_codice, azione, dettaglio, hash_precedente, hash)
    VALUES (v_at, p_operatore, p_comando, p_ente_codice, p_azione, p_dettaglio, v_previous, v_hash);
    RETURN v_hash;
END
$$;

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION siso_audit_append(TEXT, TEXT, TEXT, TEXT, TEXT) SET search_path = %I, pg_temp', current_schema());
END
$$;
REVOKE ALL ON FUNCTION siso_audit_append(TEXT, TEXT, TEXT, TEXT, TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION siso_audit_append(TEXT, TEXT, TEXT, TEXT, TEXT) TO siso_tecnico;

-- Appending goes through the function only; reading stays as in 0009.
REVOKE INSERT ON audit_log FROM siso_tecnico;
DROP POLICY siso_audit_scrittura ON audit_log;

-- Small-cell suppression (the rule of the reports, src/report: no count
-- between 1 and 2 leaves siso): a count of 1 or 2 reads NULL, "fewer than
-- 3". Zeros and counts from 3 up stay. The view has no totals, so no hidden
-- count can be recovered by subtraction from what it shows; security_barrier
-- keeps a caller's own functions in WHERE from seeing the counts before the
-- suppression.
CREATE OR REPLACE VIEW v_uso_mensile WITH (security_barrier) AS
SELECT titolare,
       comune_istat,
       mese,
       CASE WHEN aperte BETWEEN 1 AND 2 THEN NULL ELSE aperte END AS aperte,
       CASE WHEN chiuse BETWEEN 1 AND 2 THEN NULL ELSE chiuse END AS chiuse
  FROM (SELECT e.codice AS titolare,
               u.comune_istat,
               u.mese,
               sum(u.aperte)::BIGINT AS aperte,
               sum(u.chiuse)::BIGINT AS chiuse
          FROM (SELECT titolare_id, comune_istat, to_char(aperta_il, 'YYYY-MM') AS mese, 1 AS aperte, 0 AS chiuse
                  FROM cartella
                UNION ALL
                SELECT titolare_id, comune_istat, to_char(chiusa_il, 'YYYY-MM'), 0, 1
                  FROM cartella
                 WHERE chiusa_il IS NOT NULL) u
          JOIN ente e ON e.id = u.titolare_id
         WHERE u.titolare_id IN (SELECT siso_titolari_visibili(ARRAY['tecnico', 'lettore']))
         GROUP BY e.codice, u.comune_istat, u.mese) c;
