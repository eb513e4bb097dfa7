//! The schema as the hand-back sees it: one static list of the tables that
//! belong to an ente, their exact columns and each column's kind.
//!
//! The kind, not the database's metadata, decides how a value is written, so
//! SQLite (dates as text, booleans as 0/1) and PostgreSQL (DATE, BOOLEAN,
//! TIMESTAMPTZ, BYTEA) produce byte-identical bundles. A unit test checks this
//! list against the migrations.

/// How a column is decoded and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Decimal integer.
    Int,
    Text,
    /// `true` / `false`.
    Bool,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339 in UTC with `Z`.
    Timestamp,
    /// Written as a file `documenti/<sha256>`; the table holds the hash.
    Blob,
}

/// What `handback purge --choice delete` does with a table's rows of the ente.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// Personal data held for the titolare: deleted.
    Delete,
    /// Kept: records of the protocol itself (the Capofila's acts), the audit
    /// log and aggregate statistics, none of which holds the titolare's
    /// case data.
    Keep,
}

#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// Which rows belong to the bundle; `$1` is the ente's id.
    pub scope: &'static str,
    /// The ente that owns a row (an SQL expression yielding an ente id), for
    /// the purge's proofs; `None` for tables purge keeps.
    pub owner: Option<&'static str>,
    pub purge: Purge,
    /// What the file holds, for LEGGIMI.txt.
    pub descrizione: &'static str,
}

impl Table {
    pub fn select_sql(&self) -> String {
        let cols: Vec<&str> = self.columns.iter().map(|(c, _)| *c).collect();
        format!(
            "SELECT {} FROM {} WHERE {} ORDER BY id",
            cols.join(", "),
            self.name,
            self.scope
        )
    }

    /// Every row with its owner first (for the purge's per-ente digests).
    pub fn select_owned_sql(&self) -> Option<String> {
        let owner = self.owner?;
        let cols: Vec<&str> = self.columns.iter().map(|(c, _)| *c).collect();
        Some(format!(
            "SELECT {owner}, {} FROM {} ORDER BY id",
            cols.join(", "),
            self.name
        ))
    }

    pub fn csv_name(&self) -> String {
        format!("{}.csv", self.name)
    }

    pub fn jsonl_name(&self) -> String {
        format!("{}.jsonl", self.name)
    }
}

use Kind::*;

/// Persons referenced by the ente's case data, whoever their titolare.
const PERSONE_DELL_ENTE: &str = "titolare_id = $1 OR id IN (\
     SELECT persona_id FROM cartella WHERE titolare_id = $1 \
     UNION SELECT persona_id FROM nucleo_componente WHERE titolare_id = $1 \
     UNION SELECT componente_persona_id FROM nucleo_componente WHERE titolare_id = $1 AND componente_persona_id IS NOT NULL \
     UNION SELECT persona_id FROM valutazione_sina WHERE titolare_id = $1)";

/// Persons of other titolari that the ente's case data points to.
pub const PERSONE_CONDIVISE_SQL: &str = "SELECT p.id, e.codice FROM persona p JOIN ente e ON e.id = p.titolare_id \
     WHERE p.titolare_id <> $1 AND p.id IN (\
     SELECT persona_id FROM cartella WHERE titolare_id = $1 \
     UNION SELECT persona_id FROM nucleo_componente WHERE titolare_id = $1 \
     UNION SELECT componente_persona_id FROM nucleo_componente WHERE titolare_id = $1 AND componente_persona_id IS NOT NULL \
     UNION SELECT persona_id FROM valutazione_sina WHERE titolare_id = $1) ORDER BY p.id";

/// Persons some case row still points to (after the ente's own rows are gone,
/// only other titolari's rows are left): they must stay.
pub const PERSONE_REFERENZIATE: &str = "SELECT persona_id FROM cartella \
     UNION SELECT persona_id FROM nucleo_componente \
     UNION SELECT componente_persona_id FROM nucleo_componente WHERE componente_persona_id IS NOT NULL \
     UNION SELECT persona_id FROM valutazione_sina";

/// The operators some case or diary note names. Once the ente's own cases
/// and notes are deleted, those of the ente left are named by another
/// titolare's (the schema lets a case name any operator), and stay.
pub const OPERATORI_REFERENZIATI: &str = "SELECT operatore_id FROM cartella WHERE operatore_id IS NOT NULL \
     UNION SELECT operatore_id FROM diario WHERE operatore_id IS NOT NULL";

/// Every table of the bundle, parents before children (the order a future
/// importer loads them in).
pub static TABLES: &[Table] = &[
    Table {
        name: "ente",
        columns: &[
            ("id", Int),
            ("codice", Text),
            ("tipo", Text),
            ("denominazione", Text),
            ("istat", Text),
            ("belfiore", Text),
            ("codice_fiscale", Text),
            ("pec", Text),
            ("ats_codice", Text),
            ("capofila", Bool),
            ("stato", Text),
            ("sottoscritto_il", Date),
            ("creato_il", Timestamp),
            ("aggiornato_il", Timestamp),
            ("atto_numero", Text),
            ("atto_data", Date),
        ],
        scope: "id = $1",
        owner: None,
        purge: Purge::Keep,
        descrizione: "l'anagrafica dell'ente (configurazione)",
    },
    Table {
        name: "adesione",
        columns: &[
            ("id", Int),
            ("ente_id", Int),
            ("edizione_id", Int),
            ("ricevuta_il", Date),
            ("protocollo_ricezione", Text),
            ("rappresentante_legale", Text),
            ("ambito_id", Int),
            ("scadenza_decisione", Date),
            ("esito", Text),
            ("atto_numero", Text),
            ("atto_data", Date),
            ("motivo_rifiuto", Text),
            ("deciso_il", Timestamp),
            ("deciso_da_ente_id", Int),
        ],
        scope: "ente_id = $1",
        owner: None,
        purge: Purge::Keep,
        descrizione: "le richieste di adesione al Protocollo (art. 7) e le decisioni",
    },
    Table {
        name: "appartenenza_ambito",
        columns: &[
            ("id", Int),
            ("ambito_id", Int),
            ("comune_istat", Text),
            ("valido_dal", Date),
            ("valido_al", Date),
        ],
        scope: "ambito_id = $1 OR comune_istat = (SELECT istat FROM ente WHERE id = $1)",
        owner: None,
        purge: Purge::Keep,
        descrizione: "i comuni dell'ambito (o l'ambito del comune), con le date di validità",
    },
    Table {
        name: "referente",
        columns: &[
            ("id", Int),
            ("ente_id", Int),
            ("ruolo", Text),
            ("nominativo", Text),
            ("email", Text),
            ("telefono", Text),
            ("nominato_il", Date),
            ("comunicazione_rif", Text),
            ("revocato_il", Date),
        ],
        scope: "ente_id = $1",
        owner: None,
        purge: Purge::Keep,
        descrizione: "i referenti di Cabina di Regia e Tavolo operativo (art. 6)",
    },
    Table {
        name: "ruolo_privacy",
        columns: &[
            ("id", Int),
            ("ente_id", Int),
            ("ruolo", Text),
            ("titolare_ente_id", Int),
            ("nominativo", Text),
            ("contatto", Text),
            ("comunicato_il", Date),
            ("valido_dal", Date),
            ("valido_al", Date),
        ],
        scope: "ente_id = $1",
        owner: None,
        purge: Purge::Keep,
        descrizione: "titolare, DPO, responsabili e amministratori di sistema (art. 10)",
    },
    Table {
        name: "recesso",
        columns: &[
            ("id", Int),
            ("ente_id", Int),
            ("ricevuto_il", Date),
            ("protocollo", Text),
            ("efficace_il", Date),
            ("atto_numero", Text),
            ("atto_data", Date),
            ("accettato_il", Timestamp),
        ],
        scope: "ente_id = $1",
        owner: None,
        purge: Purge::Keep,
        descrizione: "le comunicazioni di recesso (art. 9)",
    },
    Table {
        name: "operatore",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("codice_fiscale", Text),
            ("cognome", Text),
            ("nome", Text),
            ("professione", Text),
            ("attivo_dal", Date),
            ("attivo_al", Date),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "gli operatori (assistenti sociali, educatori...) dell'ente",
    },
    Table {
        name: "persona",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("codice_fiscale", Text),
            ("cf_chiave", Text),
            ("id_temporaneo", Text),
            ("cognome", Text),
            ("nome", Text),
            ("sesso", Text),
            ("data_nascita", Date),
            ("luogo_nascita_belfiore", Text),
            ("residenza_istat", Text),
            ("indirizzo", Text),
            ("telefono", Text),
            ("email", Text),
            ("data_decesso", Date),
        ],
        scope: PERSONE_DELL_ENTE,
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "le persone (anagrafica): quelle di cui l'ente è titolare e quelle di altri titolari a cui puntano le sue cartelle, i nuclei o le valutazioni SINA (elencate in manifest.json, \"persone_condivise\")",
    },
    Table {
        name: "persona_cittadinanza",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("persona_id", Int),
            ("stato_codice_istat", Text),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "le cittadinanze delle persone (codice ISTAT a 3 cifre, 100 = Italia)",
    },
    Table {
        name: "cartella",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("persona_id", Int),
            ("numero", Text),
            ("comune_istat", Text),
            ("operatore_id", Int),
            ("categoria_siso", Text),
            ("aperta_il", Date),
            ("chiusa_il", Date),
            ("stato", Text),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "le cartelle sociali",
    },
    Table {
        name: "cartella_stato",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("cartella_id", Int),
            ("stato", Text),
            ("dal", Date),
            ("nota", Text),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "la storia degli stati di ogni cartella",
    },
    Table {
        name: "intervento",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("cartella_id", Int),
            ("prestazione_codice", Text),
            ("area_utenza_inps", Text),
            ("inizio", Date),
            ("fine", Date),
            ("periodicita", Text),
            ("importo_previsto_cent", Int),
            ("protocollo_domanda", Text),
            ("presa_in_carico", Bool),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "gli interventi (fogli amministrativi); importi in centesimi di euro",
    },
    Table {
        name: "erogazione",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("intervento_id", Int),
            ("data", Date),
            ("periodo_dal", Date),
            ("periodo_al", Date),
            ("importo_cent", Int),
            ("quota_utente_cent", Int),
            ("quota_ssn_cent", Int),
            ("quota_ente_cent", Int),
            ("quantita_milli", Int),
            ("unita", Text),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "le erogazioni; importi in centesimi di euro, quantità in millesimi",
    },
    Table {
        name: "valutazione_sina",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("persona_id", Int),
            ("intervento_id", Int),
            ("data", Date),
            ("dati", Text),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "le valutazioni SINA (non autosufficienza: dati sanitari); dati è il JSON dell'elemento SINA",
    },
    Table {
        name: "diario",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("cartella_id", Int),
            ("data", Date),
            ("tipo", Text),
            ("testo", Text),
            ("riservato", Bool),
            ("operatore_id", Int),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "il diario (note, colloqui, relazioni); riservato = true segna le voci riservate, incluse nel pacchetto",
    },
    Table {
        name: "nucleo_componente",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("persona_id", Int),
            ("componente_persona_id", Int),
            ("cognome", Text),
            ("nome", Text),
            ("data_nascita", Date),
            ("relazione", Text),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "i componenti del nucleo familiare",
    },
    Table {
        name: "documento",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("cartella_id", Int),
            ("nome_file", Text),
            ("tipo_mime", Text),
            ("dimensione", Int),
            ("sha256", Text),
            ("contenuto", Blob),
            ("caricato_il", Timestamp),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "i documenti allegati alle cartelle; contenuto è lo SHA-256 del file documenti/<sha256> (vuoto se il contenuto non è nel database)",
    },
    Table {
        name: "import_batch",
        columns: &[
            ("id", Int),
            ("ente_id", Int),
            ("avviato_il", Timestamp),
            ("concluso_il", Timestamp),
            ("operatore", Text),
            ("formato", Text),
            ("mappatura", Text),
            ("mappatura_sha256", Text),
            ("stato", Text),
            ("conteggi", Text),
        ],
        scope: "ente_id = $1",
        owner: Some("ente_id"),
        purge: Purge::Delete,
        descrizione: "i lotti di importazione dai sistemi precedenti",
    },
    Table {
        name: "import_file",
        columns: &[
            ("id", Int),
            ("batch_id", Int),
            ("percorso", Text),
            ("sha256", Text),
            ("dimensione", Int),
        ],
        scope: "batch_id IN (SELECT id FROM import_batch WHERE ente_id = $1)",
        owner: Some("(SELECT b.ente_id FROM import_batch b WHERE b.id = import_file.batch_id)"),
        purge: Purge::Delete,
        descrizione: "i file letti da ogni lotto di importazione",
    },
    Table {
        name: "crosswalk",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("sistema_origine", Text),
            ("entita", Text),
            ("id_legacy", Text),
            ("riga_id", Int),
            ("batch_id", Int),
            ("contenuto_sha256", Text),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "la corrispondenza tra identificativi dei sistemi precedenti e id di questo pacchetto",
    },
    Table {
        name: "import_modifica",
        columns: &[
            ("id", Int),
            ("titolare_id", Int),
            ("batch_id", Int),
            ("tabella", Text),
            ("riga_id", Int),
            ("azione", Text),
            ("prima", Text),
            ("ultimo_id", Int),
        ],
        scope: "titolare_id = $1",
        owner: Some("titolare_id"),
        purge: Purge::Delete,
        descrizione: "le righe inserite (gli id da riga_id a ultimo_id) o aggiornate da ogni lotto (prima = immagine JSON della riga prima dell'aggiornamento)",
    },
    Table {
        name: "audit_log",
        columns: &[
            ("id", Int),
            ("registrato_il", Timestamp),
            ("operatore", Text),
            ("comando", Text),
            ("ente_codice", Text),
            ("azione", Text),
            ("dettaglio", Text),
            ("hash_precedente", Text),
            ("hash", Text),
        ],
        scope: "ente_codice = (SELECT codice FROM ente WHERE id = $1)",
        owner: None,
        purge: Purge::Keep,
        descrizione: "le voci del registro delle operazioni (audit log) che riguardano l'ente; non contengono dati personali",
    },
    Table {
        name: "statistica_uso",
        columns: &[
            ("id", Int),
            ("ente_codice", Text),
            ("periodo", Text),
            ("indicatore", Text),
            ("valore", Int),
        ],
        scope: "ente_codice = (SELECT codice FROM ente WHERE id = $1)",
        owner: None,
        purge: Purge::Keep,
        descrizione: "le statistiche aggregate di utilizzo per mese (art. 5)",
    },
];

/// The order purge deletes in: children before the rows they reference.
pub const DELETE_ORDER: &[&str] = &[
    "crosswalk",
    "import_modifica",
    "import_file",
    "import_batch",
    "erogazione",
    "valutazione_sina",
    "intervento",
    "cartella_stato",
    "diario",
    "documento",
    "nucleo_componente",
    "cartella",
    "persona_cittadinanza",
    "persona",
    "operatore",
];

pub fn table(name: &str) -> &'static Table {
    TABLES
        .iter()
        .find(|t| t.name == name)
        .expect("a table of the static list")
}

/// The DELETE of the ente's rows of `table` (`$1` is the ente's id). Persons
/// still referenced by another titolare's rows, and their citizenships, stay;
/// so do operators another titolare's cases or notes name.
pub fn delete_sql(table: &Table) -> String {
    let owner = table.owner.expect("purged tables have an owner");
    match table.name {
        "persona" => format!(
            "DELETE FROM persona WHERE titolare_id = $1 AND id NOT IN ({PERSONE_REFERENZIATE})"
        ),
        "persona_cittadinanza" => format!(
            "DELETE FROM persona_cittadinanza WHERE titolare_id = $1 AND persona_id NOT IN ({PERSONE_REFERENZIATE})"
        ),
        "operatore" => format!(
            "DELETE FROM operatore WHERE titolare_id = $1 AND id NOT IN ({OPERATORI_REFERENZIATI})"
        ),
        "import_file" => {
            "DELETE FROM import_file WHERE batch_id IN (SELECT id FROM import_batch WHERE ente_id = $1)"
                .to_string()
        }
        name => format!("DELETE FROM {name} WHERE {owner} = $1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purged_table_is_deleted_once_and_has_an_owner() {
        for t in TABLES.iter().filter(|t| t.purge == Purge::Delete) {
            assert!(t.owner.is_some(), "{}", t.name);
            assert_eq!(
                DELETE_ORDER.iter().filter(|n| **n == t.name).count(),
                1,
                "{}",
                t.name
            );
        }
        assert_eq!(
            DELETE_ORDER.len(),
            TABLES.iter().filter(|t| t.purge == Purge::Delete).count()
        );
    }

    #[test]
    fn every_table_is_ordered_by_an_id_column_first() {
        for t in TABLES {
            assert_eq!(t.columns[0], ("id", Kind::Int), "{}", t.name);
        }
    }

    /// The declared columns are exactly the columns the migrations create.
    #[test]
    fn declared_columns_match_the_migrations() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (db, _) = crate::store::Db::connect("sqlite::memory:").await.unwrap();
            crate::store::migrate::run(&db, false).await.unwrap();
            let crate::store::Db::Sqlite(pool) = &db else {
                unreachable!()
            };
            for t in TABLES {
                let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT name, type FROM pragma_table_info('{}') ORDER BY cid",
                    t.name
                )))
                .fetch_all(pool)
                .await
                .unwrap();
                let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
                let declared: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
                assert_eq!(names, declared, "columns of {}", t.name);
                for ((name, ty), (_, kind)) in rows.iter().zip(t.columns) {
                    let ok = match kind {
                        Kind::Int | Kind::Bool => ty == "INTEGER" || ty == "BIGINT",
                        Kind::Blob => ty == "BLOB",
                        Kind::Text | Kind::Date | Kind::Timestamp => ty == "TEXT",
                    };
                    assert!(ok, "{}.{name} is {ty} but declared {kind:?}", t.name);
                }
            }
        });
    }

    /// Booleans, dates and timestamps as PostgreSQL declares them.
    #[test]
    fn kinds_match_the_postgres_migrations() {
        let sql: String = crate::store::migrate::embedded(crate::store::Backend::Postgres)
            .iter()
            .map(|m| m.up.to_string())
            .collect();
        for t in TABLES {
            let start = sql
                .find(&format!("CREATE TABLE {} (", t.name))
                .unwrap_or_else(|| panic!("{} not in the PostgreSQL migrations", t.name));
            let body = &sql[start..start + sql[start..].find("\n);").unwrap()];
            for (col, kind) in t.columns {
                // Declared in the CREATE TABLE, or added later by ALTER TABLE.
                let added = format!("ALTER TABLE {} ADD COLUMN ", t.name);
                let line = body
                    .lines()
                    .find(|l| l.trim_start().starts_with(&format!("{col} ")))
                    .or_else(|| {
                        sql.lines()
                            .filter_map(|l| l.trim_start().strip_prefix(added.as_str()))
                            .find(|rest| rest.starts_with(&format!("{col} ")))
                    })
                    .unwrap_or_else(|| panic!("{}.{col} not declared", t.name));
                let expected = match kind {
                    Kind::Bool => "BOOLEAN",
                    Kind::Date => "DATE",
                    Kind::Timestamp => "TIMESTAMPTZ",
                    Kind::Blob => "BYTEA",
                    Kind::Int => "BIGINT",
                    Kind::Text => "TEXT",
                };
                assert!(
                    line.split_whitespace().nth(1) == Some(expected),
                    "{}.{col}: {line}",
                    t.name
                );
            }
        }
    }
}
