-- siso:data-bearing
-- 0004 importazioni_audit down: destroys import history, the legacy-id
-- crosswalk, the audit log and the usage statistics.
DROP TABLE statistica_uso;
DROP TABLE audit_log;
DROP TABLE import_modifica;
DROP TABLE crosswalk;
DROP TABLE import_file;
DROP TABLE import_batch;
