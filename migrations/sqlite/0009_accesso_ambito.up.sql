-- 0009 accesso_ambito: nothing to do on SQLite.
-- Access boundaries per ambito are PostgreSQL roles and row-level security
-- (see migrations/postgres/0009). SQLite is a single-user embedded file with
-- no roles: it is protected by its file permissions (created 0600, siso warns
-- when group or others can read it). This script exists so that both folders
-- keep the same versions.
SELECT 1;
