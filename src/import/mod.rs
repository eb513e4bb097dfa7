//! `siso import`: legacy case data into SISO, without losing or mixing a row.
//!
//! file -> importer (typed rows) -> [`stage`] (records per entity) ->
//! [`validate`] (rules, reason codes) -> [`write`] (one transaction) -> summary.
//!
//! - All or nothing by default: one reject and nothing is committed. With a
//!   threshold (`--max-errors`, `--max-error-rate`) the valid rows commit only
//!   if the rejects stay within it. A dry run does everything, then rolls back.
//! - Idempotent: the crosswalk remembers each legacy id and a hash of what the
//!   source said, so a second run of the same files changes nothing, and a run
//!   after fixing rejects adds just the fixed rows.
//! - Every row written belongs to the ente's titolare; a batch records its
//!   files (SHA-256, size), mapping, counts, operator and time, and every row
//!   it inserted or updated, so `import undo` can take it back exactly.

pub mod bundle;
pub mod engine;
pub mod reasons;
pub mod rejects;
pub mod spec;
pub mod stage;
pub mod undo;
pub mod validate;
pub mod write;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use sqlx::Row as _;
use time::Date;

use self::engine::{Engine, Index, Numeri, Persons};
pub use self::rejects::Rejects;
use self::validate::{Known, Warning};
pub use self::write::CROSSWALK_LINES_POSTGRES;
use self::write::Store as _;
use crate::audit::{AuditWrite as _, Entry};
use crate::error::{DbContext as _, Error, Result};
use crate::importers::mapping::Mapping;
use crate::importers::table::{FileFormat, Options};
use crate::on_db;
use crate::report::statistica::StatisticaWrite as _;
use crate::store::{BeginWrite as _, Db as Database};

/// How many rejects a batch may have and still commit its valid rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// Any reject and nothing is committed.
    AllOrNothing,
    MaxErrors(u64),
    /// Rejects as a share of the records read (0.0 - 1.0).
    MaxRate(f64),
}

/// What a long import reports as it goes; the binary draws it (the library never prints).
pub trait Progress: Send + Sync {
    /// Reading a file begins.
    fn file(&self, _name: &str) {}
    /// How many source rows the batch has (known once every file is opened).
    fn total(&self, _rows: u64) {}
    /// Rows read so far, in all files.
    fn rows(&self, _rows: u64) {}
    /// A new phase: "checking", "writing".
    fn phase(&self, _what: &str) {}
}

/// Reports nothing.
pub struct Silent;
impl Progress for Silent {}

/// What the files of a batch are: detected, or named by the operator
/// (`siso import --format`). A hand-back bundle is not among them: it is
/// restored by [`bundle`], never read as case data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Input {
    /// SIUSS flows by their `.xml` name, workbooks by their zip signature or
    /// `.xlsx` name, the rest delimited text; a folder stands for its `*.xml`.
    #[default]
    Auto,
    /// Every file is delimited text, whatever its name.
    Csv,
    /// Every file is an .xlsx workbook, whatever its name.
    Xlsx,
    /// Every file is a SIUSS XML flow, whatever its name; a folder stands for
    /// every regular file in it that is not hidden.
    Siuss,
}

impl Input {
    /// The name the operator typed.
    pub fn name(self) -> &'static str {
        match self {
            Input::Auto => "auto",
            Input::Csv => "csv",
            Input::Xlsx => "xlsx",
            Input::Siuss => "siuss",
        }
    }

    /// Whether a file (not a folder) goes through the SIUSS XML reader.
    fn is_siuss(self, path: &Path) -> bool {
        match self {
            Input::Auto => stage::is_siuss(path),
            Input::Siuss => true,
            Input::Csv | Input::Xlsx => false,
        }
    }

    /// The table format forced on every file, if any.
    fn table_format(self) -> Option<FileFormat> {
        match self {
            Input::Csv => Some(FileFormat::Csv),
            Input::Xlsx => Some(FileFormat::Xlsx),
            Input::Auto | Input::Siuss => None,
        }
    }
}

/// Rows a PostgreSQL batch must insert before it refreshes the planner's
/// statistics of the case tables (`ANALYZE`, about 0.5 s at 1M rows).
const ANALYZE_AT: u64 = 50_000;

pub struct Request {
    pub ente: String,
    pub files: Vec<PathBuf>,
    /// What the files are; [`Input::Auto`] detects it file by file.
    pub input: Input,
    /// One mapping for every file; without it a `NAME.toml` beside `NAME.csv` is used.
    pub mapping: Option<PathBuf>,
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    /// Name of the legacy system: legacy ids are unique within it.
    pub source: String,
    /// siso entes (codes) that may send SIUSS flows for `ente`: a flow whose
    /// `Ente@Codice` names one of them is not refused (see [`check_senders`]).
    pub sent_by: Vec<String>,
    pub dry_run: bool,
    pub threshold: Threshold,
    pub today: Date,
    /// Operator and command for the audit entry; the details are filled here.
    pub audit: Entry,
    pub progress: Box<dyn Progress>,
    /// Where the rejects go, if there are any (see [`RejectsFile`]).
    pub rejects_file: Option<RejectsFile>,
}

/// The rejects file, made ready before the import reads anything: a
/// temporary file beside the destination proves the folder writable, and
/// the rejects land at the destination before the batch commits. So a
/// rejects file that cannot be written fails the run with nothing stored,
/// never after the commit with the rejected lines written nowhere.
pub struct RejectsFile {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
}

impl RejectsFile {
    /// Refuses a folder, then makes the temporary file ([`run`] refuses
    /// one of the batch's own input files, once it has listed them).
    pub fn prepare(path: PathBuf) -> Result<RejectsFile> {
        if path.is_dir() {
            return Err(Error::Usage(format!(
                "--rejects {} is a folder: give a file name, such as {}/scarti.csv",
                path.display(),
                path.display()
            )));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".siso-scarti-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| {
                Error::io(
                    format!(
                        "cannot write the rejects file {} (folder {}); nothing was imported: give \
                         --rejects a path in a folder you can write to",
                        path.display(),
                        dir.display()
                    ),
                    e,
                )
            })?;
        Ok(RejectsFile { path, temp })
    }

    /// Refuses a destination that is one of the batch's files: the rejects
    /// written over the export being imported would destroy it.
    fn check_not_input(&self, paths: &[PathBuf]) -> Result<()> {
        let Ok(target) = self.path.canonicalize() else {
            return Ok(());
        };
        if paths
            .iter()
            .any(|p| p.canonicalize().is_ok_and(|p| p == target))
        {
            return Err(Error::Usage(format!(
                "--rejects {} is one of the files to import: the rejects would overwrite it. Give \
                 another file name",
                self.path.display()
            )));
        }
        Ok(())
    }

    /// Writes the rejects and moves them to the destination.
    fn write(self, rejects: &Rejects) -> Result<PathBuf> {
        write_rejects(self.temp.path(), rejects)?;
        let RejectsFile { path, temp } = self;
        temp.persist(&path).map_err(|e| {
            Error::io(
                format!("cannot write the rejects file {}", path.display()),
                e.error,
            )
        })?;
        Ok(path)
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EntitySummary {
    pub entita: &'static str,
    pub lette: u64,
    pub inserite: u64,
    pub aggiornate: u64,
    pub invariate: u64,
    /// Persons found under a second legacy id: linked, not duplicated.
    pub unificate: u64,
    pub scartate: u64,
}

#[derive(Debug, serde::Serialize)]
pub struct Summary {
    pub ente: String,
    pub batch: Option<i64>,
    pub dry_run: bool,
    pub committed: bool,
    /// Why nothing was committed, when nothing was.
    pub not_committed_because: Option<String>,
    pub entities: Vec<EntitySummary>,
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Read back one at a time: see [`Rejects`].
    pub rejects: Rejects,
    /// Where they were written (see [`RejectsFile`]).
    #[serde(skip)]
    pub rejects_file: Option<PathBuf>,
    pub warnings: Vec<Warning>,
}

/// The titolare and the checks an import needs before reading anything.
struct Target {
    ente_id: i64,
    titolare_id: i64,
}

async fn target(db: &Database, ente: &str, today: Date) -> Result<Target> {
    let row: Option<(i64, String)> = on_db!(db, pool => sqlx::query_as("SELECT id, stato FROM ente WHERE codice = $1")
        .bind(ente)
        .fetch_optional(pool)
        .await
        .db("cannot read ente")?);
    let Some((ente_id, stato)) = row else {
        return Err(Error::Refused(format!(
            "there is no ente {ente}: see `siso ente list`"
        )));
    };
    if stato != "aderente" {
        return Err(Error::Refused(format!(
            "ente {ente} is {stato}, not approved: imports need an approved ente (`siso ente approve`)"
        )));
    }
    crate::recesso::ensure_not_withdrawn(db, ente, today).await?;
    let titolare: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT titolare_ente_id FROM ruolo_privacy WHERE ente_id = $1 AND ruolo = 'titolare' \
         AND titolare_ente_id IS NOT NULL AND (valido_al IS NULL OR valido_al >= $2) ORDER BY id DESC LIMIT 1",
    )
    .bind(ente_id)
    .bind(today)
    .fetch_optional(pool)
    .await
    .db("cannot read ruolo_privacy")?);
    let Some(titolare_id) = titolare else {
        return Err(Error::Refused(format!(
            "ente {ente} has no titolare (GDPR controller) recorded: personal data cannot be imported until \
             it is (`siso privacy set {ente} --role titolare ...`, Art. 10)"
        )));
    };
    Ok(Target {
        ente_id,
        titolare_id,
    })
}

/// Refuses SIUSS flows that another siso ente sent, before anything is written.
///
/// A flow names its sender in `IdentificazioneFlusso/Ente@Codice`: the code
/// the sender uses with INPS, often not a siso code, so a code siso does not
/// know says nothing and the flow imports. A code that is the codice or the
/// codice fiscale of a siso ente other than `--ente`, though, says the flow
/// is that ente's: importing it would store one titolare's cases under
/// another's. The whole batch is then refused, unless `--sent-by` names that
/// ente (it sent the flow on the titolare's behalf). Gives the siso codes of
/// the entes so accepted, for the audit entry.
async fn check_senders(
    db: &Database,
    t: &Target,
    req: &Request,
    paths: &[PathBuf],
    senders: &[crate::importers::siuss::EnteFlusso],
) -> Result<Vec<String>> {
    let entes: Vec<(i64, String, Option<String>)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, codice, codice_fiscale FROM ente ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .db("cannot read ente")?);
    let mut allowed = Vec::new();
    for name in &req.sent_by {
        let code = name.trim().to_uppercase();
        if !entes.iter().any(|(_, codice, _)| *codice == code) {
            return Err(Error::Refused(format!(
                "--sent-by {name}: there is no ente {code} (see `siso ente list`)"
            )));
        }
        allowed.push(code);
    }
    let mut accepted: Vec<String> = Vec::new();
    let mut foreign = Vec::new();
    let mut others: Vec<&str> = Vec::new();
    for (path, sender) in paths.iter().zip(senders) {
        let code = sender.codice.trim().to_uppercase();
        if code.is_empty() {
            continue;
        }
        let named: Vec<&(i64, String, Option<String>)> = entes
            .iter()
            .filter(|(_, codice, cf)| {
                *codice == code || cf.as_deref().map(str::trim) == Some(code.as_str())
            })
            .collect();
        if named.is_empty() || named.iter().any(|(id, _, _)| *id == t.ente_id) {
            continue;
        }
        if let Some((_, codice, _)) = named.iter().find(|(_, codice, _)| allowed.contains(codice)) {
            if !accepted.contains(codice) {
                accepted.push(codice.clone());
            }
            continue;
        }
        let which: Vec<String> = named
            .iter()
            .map(|(_, codice, _)| {
                let by = if *codice == code {
                    "codice"
                } else {
                    "codice fiscale"
                };
                format!("siso ente {codice} (its {by})")
            })
            .collect();
        foreign.push(format!(
            "{}: its sender, <IdentificazioneFlusso><Ente Codice=\"{}\">, is {}, not --ente {}",
            path.display(),
            sender.codice.trim(),
            which.join(" and "),
            req.ente
        ));
        for (_, codice, _) in named {
            if !others.contains(&codice.as_str()) {
                others.push(codice);
            }
        }
    }
    if foreign.is_empty() {
        return Ok(accepted);
    }
    let ente = &req.ente;
    let other = others.join(", ");
    let with = others
        .iter()
        .map(|o| format!("--sent-by {o}"))
        .collect::<Vec<_>>()
        .join(" ");
    Err(Error::Input(format!(
        "{}\nnothing was imported: a flow of another ente would store its cases under the titolare of {ente}. \
         Import each flow with --ente of the ente that sent it ({}); or, if {other} really sent the flow(s) \
         on behalf of {ente}, repeat with {with}",
        foreign.join("\n"),
        others
            .iter()
            .map(|o| format!("--ente {o}"))
            .collect::<Vec<_>>()
            .join(", "),
    )))
}

/// What the reference data knows, for validation.
fn known(source: &str, today: Date) -> Result<Known> {
    let comuni = crate::reference::comuni()
        .map_err(|e| Error::Input(format!("embedded reference data is broken: {e}")))?;
    let stati = crate::reference::stati_esteri()
        .map_err(|e| Error::Input(format!("embedded reference data is broken: {e}")))?;
    let mut comuni_istat = HashSet::new();
    let mut comuni_by_name: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut belfiori = HashSet::new();
    for c in &comuni.rows {
        belfiori.insert(c.belfiore.clone());
        if let Some(istat) = &c.istat {
            comuni_istat.insert(istat.clone());
            if c.valido_al.is_none() {
                comuni_by_name
                    .entry(c.nome.to_lowercase())
                    .or_default()
                    .push((istat.clone(), c.belfiore.clone()));
            }
        }
    }
    belfiori.extend(stati.rows.iter().map(|s| s.belfiore.clone()));
    Ok(Known {
        today,
        source: source.to_string(),
        comuni_istat,
        comuni_by_name,
        belfiori,
        prestazioni: HashSet::new(),
    })
}

/// What the database already holds that a batch is checked against.
struct Stored {
    /// Active prestazione codes.
    prestazioni: Vec<String>,
    /// The crosswalk of this source.
    index: Index,
    /// Persons by CF key.
    persons: Persons,
    /// Case numbers.
    numeri: Numeri,
}

/// What the titolare already has (read as streams): this source's
/// crosswalk, the persons with a codice fiscale key, the case numbers; and
/// the active prestazione codes.
trait StoredRead {
    fn read_stored(
        &mut self,
        t: &Target,
        source: &str,
    ) -> impl std::future::Future<Output = Result<Stored>>;
}

macro_rules! impl_stored_read {
    ($database:ty) => {
        impl StoredRead for sqlx::Transaction<'_, $database> {
            async fn read_stored(
                &mut self,
                t: &Target,
                source: &str,
            ) -> Result<Stored> {
                use futures_util::TryStreamExt as _;
                let prestazioni: Vec<String> = sqlx::query_scalar("SELECT codice FROM prestazione WHERE attiva")
                    .fetch_all(&mut **self)
                    .await
                    .db("cannot read prestazione")?;
                let mut index = Index::default();
                {
                    let mut rows = sqlx::query(
                        "SELECT entita, id_legacy, riga_id, contenuto_sha256 FROM crosswalk WHERE titolare_id = $1 AND sistema_origine = $2",
                    )
                    .bind(t.titolare_id)
                    .bind(source)
                    .fetch(&mut **self);
                    while let Some(r) = rows.try_next().await.db("cannot read the crosswalk")? {
                        let table: String = r.get(0);
                        if let Some(sp) = spec::by_table(&table) {
                            let legacy: String = r.get(1);
                            let hash: Option<String> = r.get(3);
                            index.stored(sp.entity, &legacy, r.get(2), hash.as_deref());
                        }
                    }
                }
                let mut persons = Persons::default();
                {
                    let mut rows = sqlx::query_as::<_, (i64, String, Date)>(
                        "SELECT id, cf_chiave, data_nascita FROM persona WHERE titolare_id = $1 AND cf_chiave IS NOT NULL AND data_nascita IS NOT NULL",
                    )
                    .bind(t.titolare_id)
                    .fetch(&mut **self);
                    while let Some((id, key, born)) = rows.try_next().await.db("cannot read persona")? {
                        persons.stored(&key, born, id);
                    }
                }
                let mut numeri = Numeri::default();
                {
                    let mut rows = sqlx::query_as::<_, (String, i64)>(
                        "SELECT numero, id FROM cartella WHERE titolare_id = $1",
                    )
                    .bind(t.titolare_id)
                    .fetch(&mut **self);
                    while let Some((numero, id)) = rows.try_next().await.db("cannot read cartella")? {
                        numeri.insert(&numero, id);
                    }
                }
                Ok(Stored { prestazioni, index, persons, numeri })
            }
        }
    };
}
impl_stored_read!(sqlx::Sqlite);
impl_stored_read!(sqlx::Postgres);

fn mapping_for(req: &Request, file: &Path) -> Result<(Option<Mapping>, Option<String>)> {
    let path = match &req.mapping {
        Some(p) => Some(p.clone()),
        None => Some(file.with_extension("toml")).filter(|p| p.exists()),
    };
    match path {
        None => Ok((None, None)),
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| Error::io(format!("cannot read the mapping {}", p.display()), e))?;
            let m =
                Mapping::parse(&text).map_err(|m| Error::Input(format!("{}: {m}", p.display())))?;
            Ok((Some(m), Some(text)))
        }
    }
}

/// A folder stands for the SIUSS flows inside it, in name order: its `*.xml`
/// files, or with [`Input::Siuss`] every regular file whatever its name.
/// Hidden files (`.DS_Store`, `._flusso.xml` that macOS leaves beside a
/// copied file) are not flows, and are passed over. A
/// table format names files, not folders.
fn expand_folders(files: &[PathBuf], input: Input) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for f in files {
        if !f.exists() {
            return Err(Error::Input(format!(
                "{}: no such file or folder (check the name and the current folder)",
                f.display()
            )));
        }
        if !f.is_dir() {
            out.push(f.clone());
            continue;
        }
        if input.table_format().is_some() {
            return Err(Error::Usage(format!(
                "{}: a folder is read for its SIUSS flows, and --format {} reads the files named: \
                 name the files in it, or use --format siuss for a folder of flows",
                f.display(),
                input.name()
            )));
        }
        let entries = std::fs::read_dir(f)
            .map_err(|e| Error::io(format!("cannot read the folder {}", f.display()), e))?;
        let mut flows = Vec::new();
        for entry in entries {
            let p = entry
                .map_err(|e| Error::io(format!("cannot read the folder {}", f.display()), e))?
                .path();
            let hidden = p
                .file_name()
                .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."));
            if p.is_file() && !hidden && input.is_siuss(&p) {
                flows.push(p);
            }
        }
        if flows.is_empty() {
            return Err(Error::Input(match input {
                Input::Siuss => format!(
                    "{}: with --format siuss a folder is read for every file in it, and this one has none",
                    f.display()
                ),
                _ => format!(
                    "{}: a folder is read for its SIUSS flows (*.xml) and this one has none",
                    f.display()
                ),
            }));
        }
        flows.sort();
        out.extend(flows);
    }
    // A file named twice (or also found in a folder named) would be read
    // twice: refused rather than left to the database's unique key.
    for (i, f) in out.iter().enumerate() {
        let same = |g: &PathBuf| match (f.canonicalize(), g.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => f == g,
        };
        if let Some(twin) = out[..i].iter().find(|g| same(g)) {
            return Err(Error::Usage(format!(
                "{} is given twice{}: name each file once",
                f.display(),
                if twin == f {
                    String::new()
                } else {
                    format!(" (also as {})", twin.display())
                }
            )));
        }
    }
    Ok(out)
}

/// Refuses options that cannot apply to the input named, before anything is read.
fn check_options(req: &Request) -> Result<()> {
    let given: Vec<&str> = match req.input {
        Input::Siuss => [
            (req.sheet.is_some(), "--sheet"),
            (req.mapping.is_some(), "--mapping"),
            (req.encoding.is_some(), "--encoding"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect(),
        Input::Csv if req.sheet.is_some() => vec!["--sheet"],
        Input::Auto | Input::Csv | Input::Xlsx => Vec::new(),
    };
    if given.is_empty() {
        return Ok(());
    }
    let why = match req.input {
        Input::Siuss => "SIUSS flows are read without a mapping, as UTF-8 XML",
        _ => "--sheet picks a sheet of an .xlsx workbook",
    };
    let (verb, them) = if given.len() == 1 {
        ("does", "it")
    } else {
        ("do", "them")
    };
    Err(Error::Usage(format!(
        "{} {verb} not apply with --format {}: {why}; leave {them} out",
        given.join(", "),
        req.input.name(),
    )))
}

fn file_digest(path: &Path) -> Result<(String, u64)> {
    use sha2::Digest as _;
    let mut f = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let got = std::io::Read::read(&mut f, &mut buf)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        if got == 0 {
            break;
        }
        h.update(&buf[..got]);
        n += got as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Source rows per message from the reader thread.
const ROWS_PER_MESSAGE: usize = 512;

/// From the reader thread to the importer.
enum Msg {
    /// Reading file number N of the tables begins.
    File(usize),
    Rows(Vec<std::result::Result<crate::importers::table::Row, crate::importers::Problem>>),
    Failed(Error),
}

/// Reads the tables in order on a thread of its own, so that parsing one
/// chunk overlaps with checking and writing the previous one.
fn spawn_reader(
    tables: Vec<crate::importers::table::Table>,
) -> Result<(
    tokio::sync::mpsc::Receiver<Msg>,
    std::thread::JoinHandle<()>,
)> {
    let (send, recv) = tokio::sync::mpsc::channel::<Msg>(4);
    let reader = std::thread::Builder::new()
        .name("siso-reader".into())
        .spawn(move || {
            for (i, table) in tables.iter().enumerate() {
                if send.blocking_send(Msg::File(i)).is_err() {
                    return;
                }
                let mut chunk = Vec::with_capacity(ROWS_PER_MESSAGE);
                let mut gone = false;
                let read = table.read(&mut |item| {
                    if gone {
                        return;
                    }
                    chunk.push(item);
                    if chunk.len() == ROWS_PER_MESSAGE {
                        let full =
                            std::mem::replace(&mut chunk, Vec::with_capacity(ROWS_PER_MESSAGE));
                        gone = send.blocking_send(Msg::Rows(full)).is_err();
                    }
                });
                if let Err(e) = read {
                    let _ = send.blocking_send(Msg::Failed(e));
                    return;
                }
                if gone || (!chunk.is_empty() && send.blocking_send(Msg::Rows(chunk)).is_err()) {
                    return;
                }
            }
        });
    let handle = reader.map_err(|e| Error::io("cannot start the file reader thread", e))?;
    Ok((recv, handle))
}

/// Runs one import batch: reads, checks and writes as it goes, in one
/// transaction that commits only at the end (see the module docs).
pub async fn run(db: &Database, mut req: Request) -> Result<Summary> {
    check_options(&req)?;
    let rejects_file = req.rejects_file.take();
    let t = target(db, &req.ente, req.today).await?;
    let mut known = known(&req.source, req.today)?;

    // Open every file before writing anything: a file that cannot be read
    // safely refuses the whole batch here.
    let mut files = Vec::new();
    let mut mappings = Vec::new();
    let mut formats = Vec::new();
    let paths = expand_folders(&req.files, req.input)?;
    if let Some(file) = &rejects_file {
        file.check_not_input(&paths)?;
    }
    let (xml, table_paths): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.into_iter().partition(|p| req.input.is_siuss(p));
    let mut siuss = Vec::new();
    // The --sent-by entes that did send a flow of this batch, for the audit entry.
    let mut sent_by = Vec::new();
    if xml.is_empty() && !req.sent_by.is_empty() {
        return Err(Error::Usage(
            "--sent-by names who sent SIUSS flows, and this batch has none: leave it out".into(),
        ));
    }
    if !xml.is_empty() {
        req.progress.file(&format!("{} SIUSS flow(s)", xml.len()));
        let (flows, senders) = stage::read_siuss(&xml).map_err(|e| match (req.input, e) {
            (Input::Siuss, Error::Input(m)) => Error::Input(format!(
                "{m}\n(--format siuss reads every file as a SIUSS XML flow: for other files leave --format \
                 out, or name their format)"
            )),
            (_, e) => e,
        })?;
        sent_by = check_senders(db, &t, &req, &xml, &senders).await?;
        siuss = flows;
        formats.push("siuss-xml");
        for file in &xml {
            files.push((file.display().to_string(), file_digest(file)?));
        }
    }
    let mut tables = Vec::new();
    for file in &table_paths {
        let (mapping, mapping_text) = mapping_for(&req, file)?;
        let options = Options {
            encoding: req.encoding.clone(),
            sheet: req.sheet.clone(),
            mapping,
            format: req.input.table_format(),
            ..Options::default()
        };
        req.progress.file(&file.display().to_string());
        let table = stage::open(file, &options)?;
        formats.push(table.layout.format);
        files.push((file.display().to_string(), file_digest(file)?));
        if let Some(text) = mapping_text {
            mappings.push(format!("# {}\n{text}", file.display()));
        }
        tables.push(table);
    }
    let size: u64 = siuss.len() as u64
        + tables
            .iter()
            .map(|t| t.counts.rows + t.counts.rejected)
            .sum::<u64>();
    req.progress.total(size);
    // Parents first: persons before their cases, whatever the order given.
    let mut ordered: Vec<(stage::Shape, crate::importers::table::Table)> = tables
        .into_iter()
        .map(|t| (stage::Shape::of(&t), t))
        .collect();
    ordered.sort_by_key(|(shape, _)| shape.rank());
    let (shapes, tables): (Vec<stage::Shape>, Vec<_>) = ordered.into_iter().unzip();
    let formato = {
        let mut f = formats.clone();
        f.sort_unstable();
        f.dedup();
        f.join("+")
    };
    let mappatura = (!mappings.is_empty()).then(|| mappings.join("\n"));

    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        if matches!(db, Database::Sqlite(_)) {
            // Index pages stay in memory instead of spilling from the
            // default 2 MiB cache into the WAL and back (bulk-loading notes).
            // Measured with 390,000 rows into a database of 1,000,000 (no
            // indexes set aside): 8 MiB 11.2-11.5 s, 32 MiB 9.8-10.9 s,
            // 128 MiB 10.4 s, and 110 MB less at the peak than 128 MiB. A big
            // load into a fresh database (indexes set aside) takes the same
            // time whatever the size. Grows only as used.
            sqlx::query("PRAGMA cache_size = -32768")
                .execute(&mut *tx)
                .await
                .db("cannot size the SQLite page cache")?;
        }
        let stored = tx.read_stored(&t, &req.source).await?;
        known.prestazioni = stored.prestazioni.into_iter().collect();
        let batch_id: i64 = sqlx::query_scalar(
            "INSERT INTO import_batch (ente_id, avviato_il, operatore, formato, mappatura, mappatura_sha256, stato) \
             VALUES ($1, $2, $3, $4, $5, $6, 'in_corso') RETURNING id",
        )
        .bind(t.ente_id)
        .bind(crate::now_utc())
        .bind(&req.audit.operator)
        .bind(&formato)
        .bind(&mappatura)
        .bind(mappatura.as_ref().map(|m| crate::sha256_hex(m.as_bytes())))
        .fetch_one(&mut *tx)
        .await
        .db("cannot record the import batch")?;
        for (path, (sha, size)) in &files {
            sqlx::query("INSERT INTO import_file (batch_id, percorso, sha256, dimensione) VALUES ($1, $2, $3, $4)")
                .bind(batch_id)
                .bind(path)
                .bind(sha)
                .bind(*size as i64)
                .execute(&mut *tx)
                .await
                .db("cannot record the imported files")?;
        }
        let info = write::BatchInfo {
            titolare_id: t.titolare_id,
            batch_id,
            source: &req.source,
        };
        let mut engine = Engine::new(&known, stored.index, stored.persons, stored.numeri);

        // SIUSS flows first (read whole: a beneficiary's cartella spans flows).
        let mut rows_read = siuss.len() as u64;
        for (rank, n) in per_rank(&siuss).into_iter().enumerate() {
            tx.reserve(&mut engine.ids, rank, n).await?;
        }
        for out in siuss {
            engine.offer(out);
            if engine.pending.full(flush_rows(&tx)) {
                tx.flush(&mut engine.pending, &info).await?;
            }
            if engine.unsure_full() {
                settle(&mut tx, &mut engine, &info).await?;
            }
        }

        // Then the tables, streamed. A file of one entity tells how many
        // legacy ids it brings: the index is sized for them at once.
        let mut rows_of = vec![0usize; spec::ORDER.len()];
        for (shape, table) in shapes.iter().zip(&tables) {
            if let [entity] = shape.entities[..] {
                rows_of[spec::rank(entity)] += table.counts.rows as usize;
            }
        }
        for (sp, n) in spec::ORDER.iter().zip(rows_of) {
            if n > 0 {
                engine.reserve(sp.entity, n);
            }
        }
        let (mut recv, reader) = spawn_reader(tables)?;
        let mut current = 0;
        while let Some(msg) = recv.recv().await {
            match msg {
                Msg::File(i) => {
                    current = i;
                    req.progress.file(&shapes[i].file);
                }
                Msg::Rows(items) => {
                    rows_read += items.len() as u64;
                    for entity in &shapes[current].entities {
                        tx.reserve(&mut engine.ids, spec::rank(*entity), items.len() as i64).await?;
                    }
                    for item in items {
                        shapes[current].stage(item, &mut |out| engine.offer(out));
                    }
                    if engine.pending.full(flush_rows(&tx)) {
                        tx.flush(&mut engine.pending, &info).await?;
                    }
                    if engine.unsure_full() {
                        settle(&mut tx, &mut engine, &info).await?;
                    }
                    req.progress.rows(rows_read);
                }
                Msg::Failed(e) => return Err(e),
            }
        }
        reader
            .join()
            .map_err(|_| Error::Input("the file reader stopped unexpectedly".into()))?;
        req.progress.phase("checking");
        settle(&mut tx, &mut engine, &info).await?;
        for (rank, n) in engine.waiting().into_iter().enumerate() {
            tx.reserve(&mut engine.ids, rank, n).await?;
        }
        engine.retry_waiting();
        engine.forget();
        req.progress.phase("writing");
        tx.flush(&mut engine.pending, &info).await?;
        tx.record_inserted(&mut engine.pending, &info).await?;

        engine.rejects.finish()?;
        let rejected = engine.rejects.len() as u64;
        let total = engine.valid() + rejected;
        let refusal = match req.threshold {
            _ if rejected == 0 => None,
            Threshold::AllOrNothing => Some(format!(
                "{rejected} record(s) rejected and no threshold given: nothing was imported (all or nothing). Fix the \
                 rejects, or accept them with --max-errors N / --max-error-rate R"
            )),
            Threshold::MaxErrors(n) if rejected > n => Some(format!(
                "{rejected} record(s) rejected, more than --max-errors {n}: nothing was imported"
            )),
            Threshold::MaxRate(rate) if (rejected as f64) > rate * total as f64 => Some(format!(
                "{rejected} of {total} record(s) rejected ({:.2}%), more than --max-error-rate {rate}: nothing was imported",
                100.0 * rejected as f64 / total.max(1) as f64
            )),
            _ => None,
        };
        let rejected_by_reason = engine.rejects.by_reason();
        let changes = engine.changes();
        let entities = engine.summary();
        let mut summary = Summary {
            ente: req.ente.clone(),
            batch: None,
            dry_run: req.dry_run,
            committed: false,
            not_committed_because: refusal.clone(),
            entities,
            rejected_by_reason,
            rejects: std::mem::take(&mut engine.rejects),
            rejects_file: None,
            warnings: std::mem::take(&mut engine.warnings),
        };
        // Before anything commits: a rejects file that cannot be written
        // rolls the batch back.
        if !summary.rejects.is_empty()
            && let Some(file) = rejects_file
        {
            summary.rejects_file = Some(file.write(&summary.rejects)?);
        }
        if refusal.is_none() && !changes {
            // Nothing differs: no batch, no audit entry; the database is untouched.
            let why = match (rejected, total - rejected) {
                (0, _) => "Nothing to import: every record is already in SISO, unchanged.",
                (_, 0) => "Nothing to import: every record was rejected (see the rejects).",
                _ => {
                    "Nothing to import: the records that passed the checks are already in SISO, \
                     unchanged; the others were rejected (see the rejects)."
                }
            };
            summary.not_committed_because = Some(why.into());
        }
        if summary.not_committed_because.is_some() {
            tx.rollback().await.db("cannot roll back the import")?;
            return Ok(summary);
        }
        // A big batch on PostgreSQL: the planner's statistics of the case
        // tables would describe them before the load until autovacuum
        // comes by, and the refresh below (and the first reports) would be
        // planned for tables a fraction of their size. ANALYZE samples
        // them inside this transaction, rows of the batch included.
        let inserted: u64 = summary.entities.iter().map(|e| e.inserite).sum();
        if matches!(db, Database::Postgres(_)) && inserted >= ANALYZE_AT {
            req.progress.phase("refreshing the planner's statistics");
            sqlx::query("ANALYZE persona, cartella, cartella_stato, intervento, erogazione, crosswalk")
                .execute(&mut *tx)
                .await
                .db("cannot refresh the planner's statistics")?;
        }
        // The usage statistics count what this batch wrote (issue 6).
        req.progress.phase("updating the usage statistics");
        tx.refresh_statistica(t.titolare_id).await?;
        let counts = serde_json::to_value(&summary.entities).expect("plain data");
        sqlx::query("UPDATE import_batch SET stato = 'completato', concluso_il = $1, conteggi = $2 WHERE id = $3")
            .bind(crate::now_utc())
            .bind(counts.to_string())
            .bind(batch_id)
            .execute(&mut *tx)
            .await
            .db("cannot close the import batch")?;
        let mut entry = req.audit.clone();
        entry.ente_codice = Some(req.ente.clone());
        entry.azione = "import".into();
        entry.dettaglio = serde_json::json!({
            "batch": batch_id,
            "sistema_origine": req.source,
            "file": files.len(),
            "conteggi": counts,
            "scartate": summary.rejects.len(),
        });
        if !sent_by.is_empty() {
            entry.dettaglio["inviato_da"] = serde_json::json!(sent_by);
        }
        tx.append_audit(&entry).await?;
        if req.dry_run {
            tx.rollback().await.db("cannot roll back the dry run")?;
        } else {
            tx.commit().await.db("cannot commit the import")?;
            summary.committed = true;
            summary.batch = Some(batch_id);
        }
        Ok(summary)
    })
}

/// Decides the leaf records waiting for the crosswalk (see engine.rs):
/// writes what is pending, so that the crosswalk holds every line of the
/// batch so far, then asks it about their legacy ids.
async fn settle<S: write::Store>(
    tx: &mut S,
    engine: &mut Engine<'_>,
    info: &write::BatchInfo<'_>,
) -> Result<()> {
    let (ids, waiting) = engine.unsure();
    if waiting.iter().all(|&n| n == 0) {
        return Ok(());
    }
    tx.flush(&mut engine.pending, info).await?;
    let mut found = Vec::with_capacity(ids.len());
    for (rank, legacy) in ids.iter().enumerate() {
        found.push(if legacy.is_empty() {
            Default::default()
        } else {
            tx.crosswalk_lines(rank, legacy, info).await?
        });
        tx.reserve(&mut engine.ids, rank, waiting[rank]).await?;
    }
    engine.settle(&found, info.batch_id);
    Ok(())
}

/// How many rows the transaction's backend gathers before writing.
fn flush_rows<S: write::Store>(_: &S) -> usize {
    S::FLUSH_ROWS
}

/// Records per table in [`spec::ORDER`], for reserving their ids.
fn per_rank(outs: &[stage::Out]) -> Vec<i64> {
    let mut n = vec![0; spec::ORDER.len()];
    for out in outs {
        if let stage::Out::Record(s) = out {
            n[spec::rank(s.entity)] += 1;
        }
    }
    n
}

/// Writes the rejects file: CSV, one line per rejected record, owner-only.
fn write_rejects(path: &Path, rejects: &Rejects) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(path)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    let mut w = csv::Writer::from_writer(file);
    let io = |e: csv::Error| Error::Input(format!("cannot write {}: {e}", path.display()));
    w.write_record([
        "file",
        "line",
        "legacy_id",
        "entity",
        "field",
        "reason",
        "message",
        "raw",
    ])
    .map_err(io)?;
    for r in rejects.iter()? {
        let r = r?;
        w.write_record([
            r.file.as_str(),
            &r.line.to_string(),
            r.legacy_id.as_deref().unwrap_or(""),
            r.entity.unwrap_or(""),
            r.field.as_deref().unwrap_or(""),
            r.reason,
            &r.message,
            &r.raw,
        ])
        .map_err(io)?;
    }
    w.flush()
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}
