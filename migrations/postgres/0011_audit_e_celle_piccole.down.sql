-- Back to 0009: technicians insert audit entries directly, and v_uso_mensile
-- shows every count.
CREATE OR REPLACE VIEW v_uso_mensile WITH (security_barrier) AS
SELECT e.codice AS titolare,
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
 GROUP BY e.codice, u.comune_istat, u.mese;

CREATE POLICY siso_audit_scrittura ON audit_log FOR INSERT TO siso_tecnico
    WITH CHECK (ente_codice IN (SELECT codice FROM ente WHERE id IN (SELECT siso_titolari_visibili())));
GRANT INSERT ON audit_log TO siso_tecnico;
DROP FUNCTION siso_audit_append(TEXT, TEXT, TEXT, TEXT, TEXT);
