-- 0008 indici_report: indexes for the Art. 5 usage and monitoring reports
-- (`siso report`). Reports go by territory (cartella.comune_istat) and by
-- date, not by titolare, so the titolare-first indexes of 0003 do not serve
-- them. No table or data changes.

-- Cases of a comune opened by a date (stocks, openings, persons in charge).
CREATE INDEX cartella_comune_aperta_il_idx ON cartella (comune_istat, aperta_il);
-- Interventions started in a period; those of a case in its last year.
CREATE INDEX intervento_inizio_idx ON intervento (inizio);
CREATE INDEX intervento_cartella_inizio_idx ON intervento (cartella_id, inizio);
-- Deliveries in a period; those of an intervention in the last year.
CREATE INDEX erogazione_data_idx ON erogazione (data);
CREATE INDEX erogazione_intervento_data_idx ON erogazione (intervento_id, data);
-- Diary notes in a period (active operators).
CREATE INDEX diario_data_idx ON diario (data);
