-- 0011 audit_e_celle_piccole: nothing to do on SQLite.
-- On PostgreSQL this migration lets technicians (row-level security) append
-- audit entries through a function that chains them to the whole log, and
-- hides small counts in the lettore's view v_uso_mensile. SQLite has neither
-- logins nor that view: one user writes, and siso itself chains every entry.
-- This script exists so that both folders keep the same versions.
SELECT 1;
