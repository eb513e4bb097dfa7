-- siso:data-bearing
-- 0009 accesso_ambito down: removes the policies, the grants of this
-- database to the group roles, the view, the function and the list of
-- grants (accesso_ambito: who had access to which ambito; each grant and
-- revoke is also in the audit log).
-- The roles siso_tecnico, siso_lettore and the technicians' logins are NOT
-- dropped: roles belong to the whole cluster and other databases may use
-- them. In this database they keep no privilege. Drop them by hand
-- (DROP ROLE) once no database uses them.
DROP VIEW v_uso_mensile;

DROP POLICY siso_audit_scrittura ON audit_log;
DROP POLICY siso_audit_lettura ON audit_log;
ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY;

DO $$
DECLARE
    t REGCLASS;
BEGIN
    FOR t IN
        SELECT p.polrelid::regclass
          FROM pg_policy p
          JOIN pg_class c ON c.oid = p.polrelid
         WHERE p.polname = 'siso_titolare'
           AND c.relnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('DROP POLICY siso_titolare ON %s', t);
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM siso_tecnico, siso_lettore', current_schema());
END
$$;

DROP FUNCTION siso_titolari_visibili(TEXT[]);
DROP TABLE accesso_ambito;
