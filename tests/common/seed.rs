//! The hand-back data set, shared by tests/handback.rs and tests/bundle.rs.

use super::{Backend, TestDb};

/// Two entes, AMB-DESIO and AMB-MONZA, whose case data cross: MONZA's
/// cartella 3 is about DESIO's persona 2, and DESIO's household (nucleo)
/// points to MONZA's persona 4. Texts carry commas, quotes, new lines and
/// accents; one timestamp has a fraction of a second.
pub fn seed(db: &TestDb) {
    let (hello, abc) = match db.backend {
        Backend::Sqlite => ("X'48656c6c6f'", "X'616263'"),
        Backend::Postgres => ("'\\x48656c6c6f'::bytea", "'\\x616263'::bytea"),
    };
    db.execute(
        "INSERT INTO ente (id, codice, tipo, denominazione, stato, sottoscritto_il, creato_il, aggiornato_il) VALUES \
         (1, 'AMB-DESIO', 'ambito', 'Ambito di Desio', 'aderente', '2019-03-01', '2024-01-15T10:00:00Z', '2024-01-15T10:00:00.5Z'), \
         (2, 'AMB-MONZA', 'ambito', 'Ambito di Monza', 'aderente', '2019-03-01', '2024-01-15T10:00:00Z', '2024-01-15T10:00:00Z');
         INSERT INTO appartenenza_ambito (id, ambito_id, comune_istat, valido_dal, valido_al) VALUES \
         (1, 1, '108023', '2019-01-01', NULL), (2, 2, '108033', '2019-01-01', '2023-12-31');
         INSERT INTO referente (id, ente_id, ruolo, nominativo, email, telefono, nominato_il, comunicazione_rif, revocato_il) VALUES \
         (1, 1, 'tavolo_operativo', 'Maria Rossi', 'm.rossi@example.it', NULL, '2019-03-20', 'PEC prot. 123', NULL);
         INSERT INTO ruolo_privacy (id, ente_id, ruolo, titolare_ente_id, nominativo, contatto, comunicato_il, valido_dal, valido_al) VALUES \
         (1, 1, 'titolare', 1, 'Ufficio di Piano di Desio', NULL, '2019-04-01', NULL, NULL);
         INSERT INTO adesione (id, ente_id, edizione_id, ricevuta_il, protocollo_ricezione, rappresentante_legale, ambito_id, scadenza_decisione, esito, atto_numero, atto_data, motivo_rifiuto, deciso_il) VALUES \
         (1, 1, NULL, '2019-01-10', 'prot. 1', 'Il Sindaco', NULL, '2019-03-11', 'approvata', '12', '2019-02-01', NULL, '2019-02-01T09:00:00Z');
         INSERT INTO recesso (id, ente_id, ricevuto_il, protocollo, efficace_il, atto_numero, atto_data, accettato_il) VALUES \
         (1, 1, '2024-09-30', 'prot. 99', '2024-12-31', NULL, NULL, NULL);
         INSERT INTO operatore (id, titolare_id, codice_fiscale, cognome, nome, professione, attivo_dal, attivo_al) VALUES \
         (1, 1, NULL, 'Bianchi', 'Anna', 'assistente_sociale', '2020-01-01', NULL), \
         (2, 2, NULL, 'Verdi', 'Luca', 'educatore', NULL, NULL);
         INSERT INTO persona (id, titolare_id, codice_fiscale, cf_chiave, id_temporaneo, cognome, nome, sesso, data_nascita, luogo_nascita_belfiore, residenza_istat, indirizzo, telefono, email, data_decesso) VALUES \
         (1, 1, 'RSSMRA80A01F704Y', 'RSSMRA80A01F704Y', NULL, 'Rossi', 'Mario', 'M', '1980-01-01', 'F704', '108023', 'Via Garibaldi, 3 \"B\"', NULL, NULL, NULL), \
         (2, 1, NULL, NULL, 'T-2', 'Cà Bianca', 'Luisa', 'F', '1950-02-28', NULL, NULL, 'riga uno
riga due', NULL, NULL, NULL), \
         (3, 2, 'VRDGNN70C41F205Z', 'VRDGNN70C41F205Z', NULL, 'Verdi', 'Giovanna', 'F', '1970-03-01', 'F205', '108033', NULL, NULL, NULL, NULL), \
         (4, 2, NULL, NULL, 'T-4', 'Neri', 'Paolo', 'M', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
         INSERT INTO persona_cittadinanza (id, titolare_id, persona_id, stato_codice_istat) VALUES \
         (1, 1, 1, '100'), (2, 1, 2, '100'), (3, 2, 3, '100');
         INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, operatore_id, categoria_siso, aperta_il, chiusa_il, stato) VALUES \
         (1, 1, 1, 'D-2024-001', '108023', 1, '1', '2024-01-15', NULL, 'presa_in_carico'), \
         (2, 1, 2, 'D-2023-002', '108023', 1, '4', '2023-05-02', '2024-02-01', 'chiusa'), \
         (3, 2, 2, 'M-2024-001', '108033', 2, '4', '2024-02-01', NULL, 'aperta'), \
         (4, 2, 3, 'M-2024-002', '108033', NULL, NULL, '2024-03-01', NULL, 'aperta');
         INSERT INTO cartella_stato (id, titolare_id, cartella_id, stato, dal, nota) VALUES \
         (1, 1, 1, 'aperta', '2024-01-15', NULL), (2, 1, 1, 'presa_in_carico', '2024-01-20', 'colloquio iniziale'), \
         (3, 2, 3, 'aperta', '2024-02-01', NULL);
         INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, area_utenza_inps, inizio, fine, periodicita, importo_previsto_cent, protocollo_domanda, presa_in_carico) VALUES \
         (1, 1, 1, 'A2.07', '2', '2024-01-20', NULL, 'periodica', 120000, 'PROT-1', TRUE), \
         (2, 2, 3, 'A1.04', '3', '2024-02-10', '2024-02-10', 'una_tantum', 50000, NULL, NULL);
         INSERT INTO erogazione (id, titolare_id, intervento_id, data, periodo_dal, periodo_al, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent, quantita_milli, unita) VALUES \
         (1, 1, 1, '2024-02-29', '2024-02-01', '2024-02-29', 30000, 5000, 0, 25000, 12500, 'ore'), \
         (2, 1, 1, '2024-03-31', NULL, NULL, -1500, 0, 0, -1500, NULL, 'euro'), \
         (3, 2, 2, '2024-02-10', NULL, NULL, 50000, 0, 0, 50000, NULL, 'euro');
         INSERT INTO valutazione_sina (id, titolare_id, persona_id, intervento_id, data, dati) VALUES \
         (1, 1, 1, 1, '2024-01-25', '{\"punteggio\": 12, \"note\": \"è\"}');
         INSERT INTO diario (id, titolare_id, cartella_id, data, tipo, testo, riservato, operatore_id) VALUES \
         (1, 1, 1, '2024-01-20', 'colloquio', 'Primo colloquio, \"sereno\".
Seconda riga: è', FALSE, 1), \
         (2, 1, 1, '2024-01-22', 'nota', 'Nota riservata', TRUE, 1), \
         (3, 2, 3, '2024-02-02', 'nota', 'Nota di Monza', FALSE, 2);
         INSERT INTO nucleo_componente (id, titolare_id, persona_id, componente_persona_id, cognome, nome, data_nascita, relazione) VALUES \
         (1, 1, 1, 4, NULL, NULL, NULL, 'coniuge'), (2, 1, 1, NULL, 'Rossi', 'Luigi', '2010-06-01', 'figlio'), \
         (3, 2, 3, NULL, 'Neri', 'Ada', NULL, 'madre');
         INSERT INTO import_batch (id, ente_id, avviato_il, concluso_il, operatore, formato, mappatura, mappatura_sha256, stato, conteggi) VALUES \
         (1, 1, '2024-01-10T08:00:00Z', '2024-01-10T08:05:00Z', 'tecnico', 'csv-siso', NULL, NULL, 'completato', '{\"inserite\": 2}'), \
         (2, 2, '2024-01-11T08:00:00Z', NULL, 'tecnico', 'csv', NULL, NULL, 'in_corso', NULL);
         INSERT INTO import_file (id, batch_id, percorso, sha256, dimensione) VALUES \
         (1, 1, 'export.csv', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0), \
         (2, 2, 'monza.csv', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0);
         INSERT INTO crosswalk (id, titolare_id, sistema_origine, entita, id_legacy, riga_id, batch_id) VALUES \
         (1, 1, 'cartella-vecchia', 'persona', 'L-001', 1, 1), (2, 2, 'altro', 'persona', 'M-1', 3, 2);
         INSERT INTO import_modifica (id, titolare_id, batch_id, tabella, riga_id, azione, prima) VALUES \
         (1, 1, 1, 'persona', 1, 'inserita', NULL), (2, 2, 2, 'persona', 3, 'inserita', NULL);
         INSERT INTO statistica_uso (id, ente_codice, periodo, indicatore, valore) VALUES \
         (1, 'AMB-DESIO', '2024-01', 'cartelle_aperte', 2), (2, 'AMB-MONZA', '2024-01', 'cartelle_aperte', 1);",
    );
    db.execute(&format!(
        "INSERT INTO documento (id, titolare_id, cartella_id, nome_file, tipo_mime, dimensione, sha256, contenuto, caricato_il) VALUES \
         (1, 1, 1, 'relazione.pdf', 'application/pdf', 5, '185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969', {hello}, '2024-01-21T08:30:00Z'), \
         (2, 1, 2, 'altrove.txt', NULL, 0, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', NULL, '2024-01-21T08:30:00Z'), \
         (3, 2, 3, 'monza.txt', 'text/plain', 3, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', {abc}, '2024-01-21T08:30:00Z')"
    ));
}
