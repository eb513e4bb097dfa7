-- 0008 indici_report: indexes for the Art. 5 usage and monitoring reports
-- (`siso report`). Reports go by territory (cartella.comune_istat) and by
-- date, not by titolare, so the titolare-first indexes of 0003 do not serve
-- them. The period indexes carry the columns the reports read, so the
-- aggregates scan the index alone (SQLite covering index, PostgreSQL
-- index-only scan) instead of visiting a million rows one by one.
-- No table or data changes.

-- Cases of a comune by opening date: stocks, openings, persons in charge,
-- operators, data quality.
CREATE INDEX cartella_comune_aperta_il_idx ON cartella (comune_istat, aperta_il, chiusa_il, categoria_siso, operatore_id, persona_id);
-- Interventions started in a period; those of a case in its last year.
CREATE INDEX intervento_inizio_idx ON intervento (inizio, cartella_id, prestazione_codice);
CREATE INDEX intervento_cartella_inizio_idx ON intervento (cartella_id, inizio);
-- Deliveries in a period with their amounts; those of an intervention in the last year.
CREATE INDEX erogazione_data_idx ON erogazione (data, intervento_id, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent);
CREATE INDEX erogazione_intervento_data_idx ON erogazione (intervento_id, data);
-- Diary notes in a period (active operators).
CREATE INDEX diario_data_idx ON diario (data, cartella_id, operatore_id);
