-- 0005 onboarding: the act that made an ente a signatory, on the ente itself.
-- The original signatories of the protocol never sent an Art. 7 request, so
-- they have no adesione row; their act (number and date) must still be kept.
-- For entes approved through `siso ente approve` the same act is copied here.
-- adesione.deciso_da_ente_id records that the decision is the Capofila's act.
ALTER TABLE ente ADD COLUMN atto_numero TEXT NULL CHECK (atto_numero IS NULL OR atto_numero <> '');
ALTER TABLE ente ADD COLUMN atto_data TEXT NULL CHECK (atto_data IS NULL OR date(atto_data, '+0 days') IS atto_data);
ALTER TABLE adesione ADD COLUMN deciso_da_ente_id BIGINT NULL REFERENCES ente (id);
