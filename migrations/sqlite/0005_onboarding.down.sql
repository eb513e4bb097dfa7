-- siso:data-bearing
-- 0005 onboarding down: drops the act columns (the acts stay in adesione and
-- in the audit log).
ALTER TABLE adesione DROP COLUMN deciso_da_ente_id;
ALTER TABLE ente DROP COLUMN atto_data;
ALTER TABLE ente DROP COLUMN atto_numero;
