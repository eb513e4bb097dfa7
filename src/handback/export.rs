//! `handback export`: writes the bundle of everything whose titolare is an
//! ente, streaming every table (memory does not grow with the rows) and
//! hashing while writing.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt as _;

use super::archive::{self, ArchiveWriter};
use super::tables::{self, TABLES, Table};
use super::{
    DOCUMENTI, EnteRef, FileEntry, LEGGIMI, MANIFEST, Manifest, PersonaCondivisa, SHA256SUMS,
    TableWriter, io_err,
};
use crate::audit::Entry;
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;
use crate::store::{Backend, Db};

/// The ente a bundle is about.
#[derive(Debug, Clone)]
pub struct Ente {
    pub id: i64,
    pub codice: String,
    pub denominazione: String,
}

/// Finds an ente by its code, or says how to list them.
pub async fn find_ente(db: &Db, codice: &str) -> Result<Ente> {
    let codice = codice.trim().to_uppercase();
    let row: Option<(i64, String, String)> = on_db!(db, pool => {
        sqlx::query_as("SELECT id, codice, denominazione FROM ente WHERE codice = $1")
            .bind(&codice)
            .fetch_optional(pool)
            .await
            .db("cannot read ente")?
    });
    let (id, codice_db, denominazione) = row.ok_or_else(|| {
        Error::Input(format!(
            "there is no ente with code {codice}: check the code (ente.codice, e.g. AMB-MONZA or an ISTAT code)"
        ))
    })?;
    Ok(Ente {
        id,
        codice: codice_db,
        denominazione,
    })
}

/// Rows and hashes of one table as written (or as it would be written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDigest {
    pub table: &'static str,
    pub rows: u64,
    pub csv_sha256: String,
    pub jsonl_sha256: String,
}

/// Where the canonical files go: a folder, an archive, or nowhere (only
/// their hashes, to compare a bundle with the current data).
pub(crate) enum Sink {
    Dir {
        dir: PathBuf,
        documents: Vec<FileEntry>,
    },
    /// Each table is written to `scratch`, then moved into the archive as
    /// soon as it is complete: only one table is ever on disk unencrypted.
    Archive {
        scratch: PathBuf,
        writer: Box<ArchiveWriter>,
        documents: Vec<FileEntry>,
        seen: HashSet<String>,
    },
    HashOnly,
}

type Out = Box<dyn Write + Send>;

impl Sink {
    pub(crate) fn table_writer(&mut self, table: &Table) -> Result<TableWriter<Out>> {
        let (csv, jsonl): (Out, Out) = match self {
            Sink::Dir { dir, .. } | Sink::Archive { scratch: dir, .. } => (
                Box::new(BufWriter::with_capacity(
                    1 << 16,
                    create_private(&dir.join(table.csv_name()))?,
                )),
                Box::new(BufWriter::with_capacity(
                    1 << 16,
                    create_private(&dir.join(table.jsonl_name()))?,
                )),
            ),
            Sink::HashOnly => (Box::new(std::io::sink()), Box::new(std::io::sink())),
        };
        TableWriter::new(table.columns, csv, jsonl)
            .map_err(|e| Error::io(format!("cannot write {}", table.csv_name()), e))
    }

    /// After [`TableWriter::finish`]: an archive takes the table's files in.
    pub(crate) fn table_done(&mut self, table: &Table) -> Result<()> {
        if let Sink::Archive {
            scratch, writer, ..
        } = self
        {
            for name in [table.csv_name(), table.jsonl_name()] {
                let path = scratch.join(&name);
                writer.add_file(&name, &path)?;
                std::fs::remove_file(&path).map_err(io_err(&path, "remove"))?;
            }
        }
        Ok(())
    }

    /// Stores a document's bytes as `documenti/<sha256>` (once per content)
    /// and returns the hash that stands for them in the table.
    pub(crate) fn blob(&mut self, bytes: &[u8]) -> Result<String> {
        let hash = crate::sha256_hex(bytes);
        let entry = || FileEntry {
            nome: format!("{DOCUMENTI}/{hash}"),
            righe: None,
            sha256: hash.clone(),
        };
        match self {
            Sink::Dir { dir, documents } => {
                let path = dir.join(DOCUMENTI).join(&hash);
                if !path.exists() {
                    let mut f = create_private(&path)?;
                    f.write_all(bytes).map_err(io_err(&path, "write"))?;
                    documents.push(entry());
                }
            }
            Sink::Archive {
                writer,
                documents,
                seen,
                ..
            } => {
                if seen.insert(hash.clone()) {
                    writer.add_bytes(&format!("{DOCUMENTI}/{hash}"), bytes)?;
                    documents.push(entry());
                }
            }
            Sink::HashOnly => {}
        }
        Ok(hash)
    }

    /// Writes one whole file of the bundle (LEGGIMI.txt, the manifest...).
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Dir { dir, .. } => {
                let path = dir.join(name);
                create_private(&path)?
                    .write_all(bytes)
                    .map_err(io_err(&path, "write"))
            }
            Sink::Archive { writer, .. } => writer.add_bytes(name, bytes),
            Sink::HashOnly => Ok(()),
        }
    }

    fn take_documents(&mut self) -> Vec<FileEntry> {
        match self {
            Sink::Dir { documents, .. } | Sink::Archive { documents, .. } => {
                std::mem::take(documents)
            }
            Sink::HashOnly => Vec::new(),
        }
    }
}

/// Creates a new file readable by its owner only.
pub(crate) fn create_private(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(io_err(path, "create"))
}

fn create_private_dir(path: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .map_err(io_err(path, "create the folder"))
}

/// Streams `tables` of the ente through `sink` (a `&mut Sink`) on connection
/// `$conn`, inside the caller's transaction. A macro because the body is
/// compiled once per backend, like `on_db!`. On SQLite most tables take the
/// fast path of [`super::sqlite_raw`]; the rest go through sqlx here.
macro_rules! dump_tables {
    ($conn:expr, $ente_id:expr, $sink:expr, $tables:expr) => {{
        let mut digests: Vec<$crate::handback::export::TableDigest> = Vec::new();
        for table in $tables {
            if let Some(digest) = $crate::handback::sqlite_raw::FastDump::fast_dump(
                &mut *$conn,
                $ente_id,
                table,
                &mut *$sink,
            )
            .await?
            {
                digests.push(digest);
                continue;
            }
            let mut writer = $sink.table_writer(table)?;
            let sql = table.select_sql();
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind($ente_id)
                .fetch(&mut *$conn);
            let write_error = |e| Error::io(format!("cannot write {}", table.csv_name()), e);
            while let Some(row) = rows.try_next().await.map_err(|source| Error::Database {
                context: format!("cannot read {}", table.name),
                source,
            })? {
                for (i, (name, kind)) in table.columns.iter().enumerate() {
                    let value =
                        $crate::handback::decode_value(&row, i, *kind).map_err(|source| {
                            Error::Database {
                                context: format!("cannot decode {}.{name}", table.name),
                                source,
                            }
                        })?;
                    match value {
                        $crate::handback::Value::Blob(bytes) => {
                            let hash = $sink.blob(bytes)?;
                            writer.value($crate::handback::Value::Text(&hash))
                        }
                        other => writer.value(other),
                    }
                    .map_err(write_error)?;
                }
                writer.end_row().map_err(write_error)?;
            }
            drop(rows);
            let (rows, csv_sha256, jsonl_sha256) = writer
                .finish()
                .map_err(|e| Error::io(format!("cannot write {}", table.csv_name()), e))?;
            $sink.table_done(table)?;
            digests.push($crate::handback::export::TableDigest {
                table: table.name,
                rows,
                csv_sha256,
                jsonl_sha256,
            });
        }
        digests
    }};
}
pub(crate) use dump_tables;

/// The form of the bundle.
#[derive(Debug, Clone)]
pub enum Form {
    /// A folder of files.
    Folder,
    /// One `.tar.gz` file, encrypted with age when there are recipients.
    Archive {
        recipients: Vec<age::x25519::Recipient>,
    },
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// The folder or the archive.
    pub path: PathBuf,
    pub manifest: Manifest,
    pub manifest_sha256: String,
}

/// Writes the bundle of `ente` at `out`, then records the export in the
/// audit log. A folder must not exist or be empty; an archive must not
/// exist. Everything is first written under `out.tmp-<pid>` and renamed at
/// the end, so a failed export (a full disk) never leaves at `out` a bundle
/// that looks complete, and the partial files (personal data) are removed.
pub async fn export(
    db: &Db,
    ente: &Ente,
    out: &Path,
    form: Form,
    mut entry: Entry,
) -> Result<ExportReport> {
    let archive = matches!(form, Form::Archive { .. });
    if archive && (out.exists() || out.is_symlink()) {
        return Err(Error::Usage(format!(
            "{} exists: choose a new file name for the archive",
            out.display()
        )));
    }
    if !archive && out.exists() {
        let empty = std::fs::read_dir(out)
            .map_err(io_err(out, "read"))?
            .next()
            .is_none();
        if !empty {
            return Err(Error::Usage(format!(
                "{} exists and is not empty: choose a new folder for the bundle",
                out.display()
            )));
        }
    }
    let tmp = tmp_dir(out);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io_err(&tmp, "remove the leftover"))?;
    }
    create_private_dir(&tmp)?;
    let written = match form {
        Form::Folder => {
            let result = async {
                create_private_dir(&tmp.join(DOCUMENTI))?;
                let mut sink = Sink::Dir {
                    dir: tmp.clone(),
                    documents: Vec::new(),
                };
                write_bundle(db, ente, &mut sink).await
            }
            .await;
            result.and_then(|written| {
                if out.exists() {
                    std::fs::remove_dir(out).map_err(io_err(out, "replace the empty folder"))?;
                }
                std::fs::rename(&tmp, out).map_err(|e| {
                    Error::io(
                        format!("cannot rename {} to {}", tmp.display(), out.display()),
                        e,
                    )
                })?;
                Ok(written)
            })
        }
        Form::Archive { recipients } => {
            let part = tmp.join("archivio.part");
            let result = async {
                let writer = Box::new(ArchiveWriter::create(
                    &part,
                    &archive::root_name(out),
                    &recipients,
                )?);
                let mut sink = Sink::Archive {
                    scratch: tmp.clone(),
                    writer,
                    documents: Vec::new(),
                    seen: HashSet::new(),
                };
                let written = write_bundle(db, ente, &mut sink).await?;
                let Sink::Archive { writer, .. } = sink else {
                    unreachable!("an archive sink stays one")
                };
                writer.finish()?;
                Ok::<_, Error>(written)
            }
            .await;
            result.and_then(|written| {
                std::fs::rename(&part, out).map_err(|e| {
                    Error::io(
                        format!("cannot rename {} to {}", part.display(), out.display()),
                        e,
                    )
                })?;
                let _ = std::fs::remove_dir_all(&tmp);
                Ok(written)
            })
        }
    };
    let (manifest, manifest_sha256) = match written {
        Ok(w) => w,
        Err(e) => {
            // The half-written files hold personal data: never leave them.
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(match e {
                Error::Io { context, source } => Error::Io {
                    context: format!(
                        "cannot write the bundle {} ({context}); the partial files were removed \
                         and nothing is left at {}: free some space, or choose another place, and export again",
                        out.display(),
                        out.display()
                    ),
                    source,
                },
                other => other,
            });
        }
    };
    if let serde_json::Value::Object(map) = &mut entry.dettaglio {
        map.insert("manifest_sha256".into(), manifest_sha256.clone().into());
        map.insert("archivio".into(), archive.into());
        map.insert(
            "righe".into(),
            manifest
                .file
                .iter()
                .filter(|f| f.nome.ends_with(".csv"))
                .map(|f| {
                    (
                        f.nome.trim_end_matches(".csv").to_string(),
                        f.righe.unwrap_or(0).into(),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into(),
        );
        map.insert(
            "documenti".into(),
            manifest
                .file
                .iter()
                .filter(|f| f.nome.starts_with(DOCUMENTI))
                .count()
                .into(),
        );
    }
    crate::audit::record(db, &entry).await?;
    Ok(ExportReport {
        path: out.to_path_buf(),
        manifest,
        manifest_sha256,
    })
}

fn tmp_dir(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "bundle".into());
    name.push(format!(".tmp-{}", std::process::id()));
    out.with_file_name(name)
}

/// Reads the whole bundle in one snapshot of the database into `sink`;
/// returns the manifest and its SHA-256.
async fn write_bundle(db: &Db, ente: &Ente, sink: &mut Sink) -> Result<(Manifest, String)> {
    // First, so that it opens the archive's listing.
    let leggimi = leggimi(ente);
    sink.put(LEGGIMI, leggimi.as_bytes())?;
    let backend = db.backend();
    let (digests, condivise) = on_db!(db, pool => {
        let mut tx = pool.begin().await.db("cannot start a read transaction")?;
        if backend == Backend::Postgres {
            // Every table from the same snapshot.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await
                .db("cannot start a snapshot")?;
        }
        let condivise: Vec<(i64, String)> = sqlx::query_as(tables::PERSONE_CONDIVISE_SQL)
            .bind(ente.id)
            .fetch_all(&mut *tx)
            .await
            .db("cannot list the shared persons")?;
        let digests = dump_tables!(tx, ente.id, sink, TABLES.iter());
        tx.rollback().await.db("cannot end the read transaction")?;
        (digests, condivise)
    });
    let documents = sink.take_documents();
    let mut file = Vec::new();
    for d in &digests {
        let table = tables::table(d.table);
        file.push(FileEntry {
            nome: table.csv_name(),
            righe: Some(d.rows),
            sha256: d.csv_sha256.clone(),
        });
        file.push(FileEntry {
            nome: table.jsonl_name(),
            righe: Some(d.rows),
            sha256: d.jsonl_sha256.clone(),
        });
    }
    file.extend(documents);
    file.push(FileEntry {
        nome: LEGGIMI.into(),
        righe: None,
        sha256: crate::sha256_hex(leggimi.as_bytes()),
    });
    let manifest = Manifest {
        formato: super::FORMATO.into(),
        versione_formato: super::VERSIONE_FORMATO,
        versione_schema: crate::store::migrate::latest_version(backend),
        versione_siso: env!("CARGO_PKG_VERSION").into(),
        ente: EnteRef {
            codice: ente.codice.clone(),
            denominazione: ente.denominazione.clone(),
        },
        generato_il: crate::now_rfc3339(),
        persone_condivise: condivise
            .into_iter()
            .map(|(id, titolare)| PersonaCondivisa { id, titolare })
            .collect(),
        file,
    };
    let mut json = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
    json.push('\n');
    sink.put(MANIFEST, json.as_bytes())?;
    let manifest_sha256 = crate::sha256_hex(json.as_bytes());
    // `sha256sum -c SHA256SUMS` checks every file, manifest included.
    let mut sums = String::new();
    for f in &manifest.file {
        sums.push_str(&format!("{}  {}\n", f.sha256, f.nome));
    }
    sums.push_str(&format!("{manifest_sha256}  {MANIFEST}\n"));
    sink.put(SHA256SUMS, sums.as_bytes())?;
    Ok((manifest, manifest_sha256))
}

/// LEGGIMI.txt: what each file holds and how to check the bundle with
/// standard tools. Deterministic (no date), like the data files.
fn leggimi(ente: &Ente) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "PACCHETTO DI RESTITUZIONE DEI DATI - {} ({})\n\
         =================================================================\n\n\
         Questo pacchetto contiene tutti i dati di cui l'ente è titolare del trattamento\n\
         nella piattaforma SISO, restituiti al termine del servizio (art. 28, par. 3,\n\
         lett. g, del Regolamento UE 2016/679).\n\n\
         ATTENZIONE: contiene dati personali, anche di categorie particolari (salute,\n\
         disabilità, valutazioni SINA, diario riservato). Conservarlo cifrato, su supporti\n\
         ad accesso controllato; i file sono leggibili solo dal proprietario.\n\n",
        ente.denominazione, ente.codice
    ));
    t.push_str(
        "SE IL PACCHETTO È UN ARCHIVIO\n\
         ----------------------------\n\
         `siso handback export --archive` scrive un unico file tar compresso con gzip\n\
         (NOME.tar.gz) che contiene una cartella NOME con i file qui descritti. Si apre\n\
         con gli strumenti standard (tar di Linux e macOS, tar.exe di Windows 10 e\n\
         successivi, 7-Zip):\n\n\
         \x20   tar -xzf NOME.tar.gz\n\n\
         Con --encrypt-to l'archivio è anche cifrato con age (https://age-encryption.org)\n\
         per la chiave pubblica (age1...) del titolare (NOME.tar.gz.age): si decifra con\n\
         la chiave privata corrispondente (il file creato da age-keygen) e poi si apre:\n\n\
         \x20   age -d -i CHIAVE.txt -o NOME.tar.gz NOME.tar.gz.age\n\
         \x20   tar -xzf NOME.tar.gz\n\n\
         oppure in un solo passo: age -d -i CHIAVE.txt NOME.tar.gz.age | tar -xz\n\
         siso verifica e ripristina l'archivio anche senza aprirlo:\n\
         `siso handback verify NOME.tar.gz.age --identity CHIAVE.txt`.\n\n\
         COME VERIFICARE IL PACCHETTO\n\
         ----------------------------\n\
         Dalla cartella del pacchetto, con gli strumenti standard:\n\n\
         \x20   sha256sum -c SHA256SUMS\n\n\
         Ogni riga deve risultare \"OK\". SHA256SUMS contiene l'impronta SHA-256 di ogni\n\
         file, manifest.json compreso. manifest.json riporta inoltre, per ogni tabella,\n\
         il numero di righe: un file CSV ha una riga di intestazione in più (salvo testi\n\
         su più righe, racchiusi tra virgolette); un file .jsonl ha esattamente una riga\n\
         per record. Con siso: `siso handback verify CARTELLA` ricalcola righe e impronte\n\
         e segnala ogni file alterato, mancante o in più.\n\n\
         FORMATO DEI FILE\n\
         ----------------\n\
         Ogni tabella è fornita in due formati aperti con lo stesso contenuto:\n\
         - NOME.csv: CSV secondo RFC 4180 (UTF-8, separatore virgola, righe terminate da\n\
         \x20 CRLF, virgolette solo dove servono), con intestazione;\n\
         - NOME.jsonl: JSON Lines (un oggetto JSON per riga, UTF-8).\n\
         Valori: interi in cifre decimali; booleani true/false; date AAAA-MM-GG; istanti\n\
         RFC 3339 in UTC (es. 2024-01-15T10:00:00Z); importi in centesimi di euro.\n\
         Il valore assente (NULL) è un campo vuoto nel CSV e null nel JSON: nel CSV un\n\
         testo vuoto e un valore assente non si distinguono, nel JSON sì.\n\
         Le righe sono in ordine di id. Gli id sono quelli del database SISO: le tabelle\n\
         si collegano tra loro con essi (es. cartella.persona_id = persona.id) e\n\
         crosswalk.riga_id collega gli identificativi dei sistemi precedenti.\n\n\
         PERSONE CONDIVISE\n\
         -----------------\n\
         persona.csv contiene anche le persone di cui è titolare un altro ente, quando\n\
         una cartella, un nucleo familiare o una valutazione SINA di questo ente vi fa\n\
         riferimento: fanno parte delle cartelle restituite. Le colonne sono le stesse;\n\
         i loro id e il codice del loro titolare sono elencati in manifest.json alla\n\
         voce \"persone_condivise\" (la colonna titolare_id indica comunque il titolare).\n\n\
         DOCUMENTI\n\
         ---------\n\
         Il contenuto di ogni documento è il file documenti/<sha256>, il cui nome è\n\
         l'impronta SHA-256 del contenuto; la colonna contenuto di documento.csv riporta\n\
         quella impronta (vuota se il contenuto non era conservato nel database).\n\n\
         I FILE\n\
         ------\n\
         manifest.json   formato e versione del pacchetto, versione dello schema e di\n\
         \x20               siso, ente, data di generazione, righe e SHA-256 di ogni file\n\
         SHA256SUMS      impronte di tutti i file, per `sha256sum -c SHA256SUMS`\n\
         LEGGIMI.txt     questo file\n",
    );
    for table in TABLES {
        t.push_str(&format!(
            "{:<15} {}\n",
            format!("{}.*", table.name),
            table.descrizione
        ));
    }
    t.push_str("documenti/      il contenuto dei documenti allegati\n");
    t
}
