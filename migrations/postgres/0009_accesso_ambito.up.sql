-- 0009 accesso_ambito: access boundaries per ambito on PostgreSQL (issue 7).
-- A technician connects with a login of their own; row-level security lets
-- that login see and write only rows whose titolare belongs to the ambito it
-- was granted (`siso access grant`). A titolare belongs to ambito A when it is
-- the ambito ente itself, or a comune ente whose ISTAT code is a member of A
-- today (appartenenza_ambito, valido_al inclusive).
--
-- Roles are cluster-wide, grants and policies are per database:
--   siso_tecnico  read/write of personal tables (every table with titolare_id),
--                 limited by the policies below; read of reference tables;
--                 read and append of the audit entries of its own entes.
--   siso_lettore  read of the aggregate report views only; never personal data.
-- Each login is made a member of one of them by `siso access grant`.
--
-- The owner (the admin who runs `siso migrate`, i.e. siso itself) is not
-- subject to RLS (no FORCE): siso's own commands stay unrestricted and must
-- run as the owner.

-- Group roles: created once per cluster. Many databases may run this
-- migration at the same time (tests, staging), so a concurrent creation is
-- caught instead of failing the migration. A pre-existing role that could
-- bypass RLS would silently defeat everything below: refuse it.
DO $$
DECLARE
    gruppo TEXT;
BEGIN
    FOREACH gruppo IN ARRAY ARRAY['siso_tecnico', 'siso_lettore'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = gruppo) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', gruppo);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by another database's migration
            END;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = gruppo
                   AND (rolsuper OR rolbypassrls OR rolcanlogin)) THEN
            RAISE EXCEPTION 'role % exists and can log in or bypass row-level security; fix or drop it before migrating', gruppo;
        END IF;
    END LOOP;
END
$$;

-- Who may see which ambito. login is a PostgreSQL role name (validated the
-- same way by `siso access grant`).
CREATE TABLE accesso_ambito (
    login       TEXT NOT NULL CHECK (login ~ '^[a-z_][a-z0-9_]{0,62}$'),
    ambito_id   BIGINT NOT NULL REFERENCES ente (id),
    ruolo       TEXT NOT NULL CHECK (ruolo IN ('tecnico', 'lettore')),
    concesso_il TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (login, ambito_id)
);
CREATE INDEX accesso_ambito_ambito_id_idx ON accesso_ambito (ambito_id);

-- The entes whose rows the connected login may see, for the given roles
-- (policies on personal data ask for 'tecnico' only; aggregate views accept
-- 'lettore' too). SECURITY DEFINER so that logins need no access to
-- accesso_ambito; for the same reason current_user here would be the owner,
-- so the login is session_user (what the technician connected as; only a
-- superuser can change it). The owner and superusers see every ente, like
-- RLS lets them do on the tables. The search_path is fixed below.
CREATE FUNCTION siso_titolari_visibili(ruoli TEXT[] DEFAULT ARRAY['tecnico'])
RETURNS SETOF BIGINT
LANGUAGE sql STABLE SECURITY DEFINER
AS $$
    SELECT e.id FROM ente e
     WHERE pg_has_role(session_user,
                       (SELECT c.relowner FROM pg_class c WHERE c.oid = 'accesso_ambito'::regclass),
                       'MEMBER')
    UNION
    SELECT a.ambito_id FROM accesso_ambito a
     WHERE a.login = session_user::text AND a.ruolo = ANY (ruoli)
    UNION
    SELECT e.id
      FROM accesso_ambito a
      JOIN appartenenza_ambito m ON m.ambito_id = a.ambito_id
      JOIN ente e ON e.tipo = 'comune' AND e.istat = m.comune_istat
     WHERE a.login = session_user::text AND a.ruolo = ANY (ruoli)
       AND m.valido_dal <= CURRENT_DATE
       AND (m.valido_al IS NULL OR m.valido_al >= CURRENT_DATE)
$$;

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION siso_titolari_visibili(TEXT[]) SET search_path = %I, pg_temp', current_schema());
END
$$;
REVOKE ALL ON FUNCTION siso_titolari_visibili(TEXT[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION siso_titolari_visibili(TEXT[]) TO siso_tecnico, siso_lettore;

-- Every table carrying titolare_id (0003 case data, 0004 crosswalk and
-- import_modifica, and any such table of a migration before this one): RLS
-- on, one policy for siso_tecnico checking both the rows it reads or
-- changes (USING) and the rows it writes (WITH CHECK). Other non-owner roles
-- have no policy, hence see nothing. A later migration adding such a table
-- must add the same policy (tests/access.rs checks that none is missing).
DO $$
DECLARE
    t REGCLASS;
BEGIN
    FOR t IN
        SELECT c.oid::regclass
          FROM pg_class c
          JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE c.relnamespace = current_schema()::regnamespace
           AND c.relkind = 'r'
           AND a.attname = 'titolare_id'
           AND NOT a.attisdropped
         ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY siso_titolare ON %s TO siso_tecnico '
                       'USING (titolare_id IN (SELECT siso_titolari_visibili())) '
                       'WITH CHECK (titolare_id IN (SELECT siso_titolari_visibili()))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO siso_tecnico', t);
    END LOOP;
END
$$;

-- Reference data a technician needs to read (no personal data). Not
-- referente, ruolo_privacy, adesione (names of officials), import_* or
-- statistica_uso.
GRANT SELECT ON comune, stato_estero, prestazione, area_utenza, ats, dataset_riferimento,
    edizione_protocollo, ente, appartenenza_ambito, siso_migrazioni TO siso_tecnico;
-- siso checks the schema version before any command.
GRANT SELECT ON siso_migrazioni TO siso_lettore;

-- Audit log: append-only for technicians, and only entries about their own
-- entes are visible or writable (no UPDATE or DELETE is granted at all).
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY siso_audit_lettura ON audit_log FOR SELECT TO siso_tecnico
    USING (ente_codice IN (SELECT codice FROM ente WHERE id IN (SELECT siso_titolari_visibili())));
CREATE POLICY siso_audit_scrittura ON audit_log FOR INSERT TO siso_tecnico
    WITH CHECK (ente_codice IN (SELECT codice FROM ente WHERE id IN (SELECT siso_titolari_visibili())));
GRANT SELECT, INSERT ON audit_log TO siso_tecnico;

-- Art. 5 usage report: cartelle opened and closed per titolare, comune and
-- month. The view runs with its owner's rights (it reads cartella past RLS),
-- so it filters by the caller's entes itself; security_barrier keeps a
-- caller's own functions in WHERE from seeing rows before that filter.
CREATE VIEW v_uso_mensile WITH (security_barrier) AS
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
GRANT SELECT ON v_uso_mensile TO siso_lettore;
