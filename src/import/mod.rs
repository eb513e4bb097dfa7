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
pub mod reasons;
pub mod spec;
pub mod stage;
pub mod undo;
pub mod validate;
pub mod write;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use sqlx::Row as _;
use time::Date;

use self::validate::{Known, Reject, Valid, Warning};
use self::write::{CHUNK, Ids, push_db};
use crate::audit::{AuditWrite as _, Entry};
use crate::error::{DbContext as _, Error, Result};
use crate::importers::fields::Entity;
use crate::importers::mapping::Mapping;
use crate::importers::table::Options;
use crate::on_db;
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
    /// Rows read so far, in all files.
    fn rows(&self, _rows: u64) {}
    /// A new phase: "checking", "writing".
    fn phase(&self, _what: &str) {}
}

/// Reports nothing.
pub struct Silent;
impl Progress for Silent {}

pub struct Request {
    pub ente: String,
    pub files: Vec<PathBuf>,
    /// One mapping for every file; without it a `NAME.toml` beside `NAME.csv` is used.
    pub mapping: Option<PathBuf>,
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    /// Name of the legacy system: legacy ids are unique within it.
    pub source: String,
    pub dry_run: bool,
    pub threshold: Threshold,
    pub today: Date,
    /// Operator and command for the audit entry; the details are filled here.
    pub audit: Entry,
    pub progress: Box<dyn Progress>,
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

#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub ente: String,
    pub batch: Option<i64>,
    pub dry_run: bool,
    pub committed: bool,
    /// Why nothing was committed, when nothing was.
    pub not_committed_because: Option<String>,
    pub entities: Vec<EntitySummary>,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub rejects: Vec<Reject>,
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

struct CrosswalkRow {
    id: i64,
    hash: Option<String>,
}

async fn known(
    db: &Database,
    t: &Target,
    source: &str,
    today: Date,
) -> Result<(
    Known,
    HashMap<(Entity, String), CrosswalkRow>,
    HashMap<(String, Date), i64>,
)> {
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

    let (prestazioni, cw_rows, persons) = on_db!(db, pool => {
        let prestazioni: Vec<String> = sqlx::query_scalar("SELECT codice FROM prestazione WHERE attiva")
            .fetch_all(pool)
            .await
            .db("cannot read prestazione")?;
        let cw = sqlx::query(
            "SELECT entita, id_legacy, riga_id, contenuto_sha256 FROM crosswalk WHERE titolare_id = $1 AND sistema_origine = $2",
        )
        .bind(t.titolare_id)
        .bind(source)
        .fetch_all(pool)
        .await
        .db("cannot read the crosswalk")?;
        let mut cw_rows = HashMap::new();
        for r in &cw {
            let table: String = r.get(0);
            if let Some(sp) = spec::by_table(&table) {
                cw_rows.insert((sp.entity, r.get::<String, _>(1)), CrosswalkRow { id: r.get(2), hash: r.get(3) });
            }
        }
        let persons: Vec<(i64, String, Date)> = sqlx::query_as(
            "SELECT id, cf_chiave, data_nascita FROM persona WHERE titolare_id = $1 AND cf_chiave IS NOT NULL AND data_nascita IS NOT NULL",
        )
        .bind(t.titolare_id)
        .fetch_all(pool)
        .await
        .db("cannot read persona")?;
        (prestazioni, cw_rows, persons)
    });
    let known = Known {
        today,
        source: source.to_string(),
        crosswalk: cw_rows.iter().map(|(k, v)| (k.clone(), v.id)).collect(),
        comuni_istat,
        comuni_by_name,
        belfiori,
        prestazioni: prestazioni.into_iter().collect(),
    };
    let persons = persons.into_iter().map(|(id, k, d)| ((k, d), id)).collect();
    Ok((known, cw_rows, persons))
}

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

/// A folder stands for the SIUSS flows (`*.xml`) inside it, in name order.
fn expand_folders(files: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for f in files {
        if !f.is_dir() {
            out.push(f.clone());
            continue;
        }
        let entries = std::fs::read_dir(f)
            .map_err(|e| Error::io(format!("cannot read the folder {}", f.display()), e))?;
        let mut xml = Vec::new();
        for entry in entries {
            let p = entry
                .map_err(|e| Error::io(format!("cannot read the folder {}", f.display()), e))?
                .path();
            if p.is_file() && stage::is_siuss(&p) {
                xml.push(p);
            }
        }
        if xml.is_empty() {
            return Err(Error::Input(format!(
                "{}: a folder is read for its SIUSS flows (*.xml) and this one has none",
                f.display()
            )));
        }
        xml.sort();
        out.extend(xml);
    }
    Ok(out)
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

enum Action {
    Insert,
    Update(i64),
    Unchanged(i64),
    /// Same person as an existing row: link the legacy id only.
    Merge(i64),
    /// Same person as another record of this batch.
    MergeBatch(String),
}

/// Runs one import batch.
pub async fn run(db: &Database, req: Request) -> Result<Summary> {
    let t = target(db, &req.ente, req.today).await?;
    let (known, crosswalk, existing_persons) = known(db, &t, &req.source, req.today).await?;

    // Read every file before writing anything.
    let mut read = stage::Read::default();
    let mut seen = HashMap::new();
    let mut files = Vec::new();
    let mut mappings = Vec::new();
    let mut formats = Vec::new();
    let paths = expand_folders(&req.files)?;
    let (xml, tables): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.into_iter().partition(|p| stage::is_siuss(p));
    if !xml.is_empty() {
        stage::read_siuss(&xml, &mut read, &mut seen)?;
        formats.push("siuss-xml");
        for file in &xml {
            files.push((file.display().to_string(), file_digest(file)?));
        }
    }
    for file in &tables {
        let (mapping, mapping_text) = mapping_for(&req, file)?;
        let options = Options {
            encoding: req.encoding.clone(),
            sheet: req.sheet.clone(),
            mapping,
            ..Options::default()
        };
        req.progress.file(&file.display().to_string());
        let table = stage::open(file, &options)?;
        formats.push(table.layout.format);
        stage::read(&table, &mut read, &mut seen, req.progress.as_ref())?;
        files.push((file.display().to_string(), file_digest(file)?));
        if let Some(text) = mapping_text {
            mappings.push(format!("# {}\n{text}", file.display()));
        }
    }
    req.progress.phase("checking");
    let mut checked = validate::check(read.staged, &known, read.rejected_keys);
    let mut rejects = read.rejects;
    // Records refused while reading never reached validation: count them as read too.
    let refused_while_reading = rejects.len();
    rejects.append(&mut checked.rejects);

    // Decide what each valid record does.
    let mut per: BTreeMap<&'static str, EntitySummary> = BTreeMap::new();
    for sp in write::all_tables() {
        per.insert(
            sp.entity.name(),
            EntitySummary {
                entita: sp.entity.name(),
                ..Default::default()
            },
        );
    }
    for (name, n) in &checked.read {
        per.get_mut(name).expect("known entity").lette += n;
    }
    for (n, r) in rejects.iter().enumerate() {
        if let Some(e) = r.entity {
            let s = per.get_mut(e).expect("known entity");
            s.scartate += 1;
            if n < refused_while_reading {
                s.lette += 1;
            }
        }
    }
    let mut warnings = checked.warnings;
    let mut batch_persons: HashMap<(String, Date), String> = HashMap::new();
    let mut plan: Vec<(Valid, Action)> = Vec::with_capacity(checked.valid.len());
    for v in checked.valid {
        let s = per.get_mut(v.entity.name()).expect("known entity");
        let action = match crosswalk.get(&(v.entity, v.legacy.clone())) {
            Some(cw) if cw.hash.as_deref() == Some(v.hash.as_str()) => {
                s.invariate += 1;
                Action::Unchanged(cw.id)
            }
            Some(cw) => {
                s.aggiornate += 1;
                Action::Update(cw.id)
            }
            None => match &v.person_key {
                Some(key) if existing_persons.contains_key(key) => {
                    s.unificate += 1;
                    warnings.push(merged_warning(&v, "a person already in SISO"));
                    Action::Merge(existing_persons[key])
                }
                Some(key) if batch_persons.contains_key(key) => {
                    s.unificate += 1;
                    warnings.push(merged_warning(
                        &v,
                        &format!("legacy id {}", batch_persons[key]),
                    ));
                    Action::MergeBatch(batch_persons[key].clone())
                }
                other => {
                    if let Some(key) = other {
                        batch_persons.insert(key.clone(), v.legacy.clone());
                    }
                    s.inserite += 1;
                    Action::Insert
                }
            },
        };
        plan.push((v, action));
    }
    let mut rejected_by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for r in &rejects {
        *rejected_by_reason.entry(r.reason.to_string()).or_default() += 1;
    }
    let total = plan.len() as u64 + rejects.len() as u64;
    let refusal = match req.threshold {
        _ if rejects.is_empty() => None,
        Threshold::AllOrNothing => Some(format!(
            "{} record(s) rejected and no threshold given: nothing was imported (all or nothing). Fix the rejects, \
             or accept them with --max-errors N / --max-error-rate R",
            rejects.len()
        )),
        Threshold::MaxErrors(n) if rejects.len() as u64 > n => Some(format!(
            "{} record(s) rejected, more than --max-errors {n}: nothing was imported",
            rejects.len()
        )),
        Threshold::MaxRate(rate) if (rejects.len() as f64) > rate * total as f64 => Some(format!(
            "{} of {total} record(s) rejected ({:.2}%), more than --max-error-rate {rate}: nothing was imported",
            rejects.len(),
            100.0 * rejects.len() as f64 / total.max(1) as f64
        )),
        _ => None,
    };
    let entities: Vec<EntitySummary> = per
        .into_values()
        .filter(|s| s.lette > 0 || s.scartate > 0)
        .collect();
    let mut summary = Summary {
        ente: req.ente.clone(),
        batch: None,
        dry_run: req.dry_run,
        committed: false,
        not_committed_because: refusal.clone(),
        entities,
        rejected_by_reason,
        rejects,
        warnings,
    };
    if refusal.is_some() {
        return Ok(summary);
    }
    if plan.iter().all(|(_, a)| matches!(a, Action::Unchanged(_))) {
        // Nothing differs: no batch, no audit entry; the database is untouched.
        summary.not_committed_because =
            Some("Nothing to import: every record is already in SISO, unchanged.".into());
        return Ok(summary);
    }

    let counts = serde_json::to_value(&summary.entities).expect("plain data");
    let mut entry = req.audit.clone();
    entry.ente_codice = Some(req.ente.clone());
    entry.azione = "import".into();
    let formato = {
        let mut f = formats.clone();
        f.sort_unstable();
        f.dedup();
        f.join("+")
    };
    let mappatura = (!mappings.is_empty()).then(|| mappings.join("\n"));
    req.progress.phase("writing");
    let batch = on_db!(db, pool => {
        let postgres = matches!(db, Database::Postgres(_));
        let mut tx = pool.begin_write().await?;
        let now = crate::now_utc();
        let batch_id: i64 = sqlx::query_scalar(
            "INSERT INTO import_batch (ente_id, avviato_il, operatore, formato, mappatura, mappatura_sha256, stato) \
             VALUES ($1, $2, $3, $4, $5, $6, 'in_corso') RETURNING id",
        )
        .bind(t.ente_id)
        .bind(now)
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

        // Ids: those already known, then fresh ones reserved per table.
        let mut ids: Ids = HashMap::new();
        for (v, action) in &plan {
            match action {
                Action::Update(id) | Action::Unchanged(id) | Action::Merge(id) => {
                    ids.insert((v.entity, v.legacy.clone()), *id);
                }
                _ => {}
            }
        }
        for (key, cw) in &crosswalk {
            ids.entry(key.clone()).or_insert(cw.id);
        }
        for sp in write::all_tables() {
            let new: Vec<&Valid> = plan
                .iter()
                .filter(|(v, a)| v.entity == sp.entity && matches!(a, Action::Insert))
                .map(|(v, _)| v)
                .collect();
            if new.is_empty() {
                continue;
            }
            let fresh: Vec<i64> = if postgres {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT nextval(pg_get_serial_sequence('{}', 'id')) FROM generate_series(1, $1)",
                    sp.table
                )))
                .bind(new.len() as i64)
                .fetch_all(&mut *tx)
                .await
                .db("cannot reserve ids")?
            } else {
                // The write lock (BEGIN IMMEDIATE) is held: nobody else can take these.
                let max: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COALESCE(MAX(id), 0) FROM {}", sp.table)))
                    .fetch_one(&mut *tx)
                    .await
                    .db("cannot reserve ids")?;
                (1..=new.len() as i64).map(|i| max + i).collect()
            };
            for (v, id) in new.iter().zip(fresh) {
                ids.insert((v.entity, v.legacy.clone()), id);
            }
        }
        for (v, action) in &plan {
            if let Action::MergeBatch(other) = action {
                let id = ids[&(v.entity, other.clone())];
                ids.insert((v.entity, v.legacy.clone()), id);
            }
        }

        for sp in write::all_tables() {
            let inserts: Vec<&Valid> = plan
                .iter()
                .filter(|(v, a)| v.entity == sp.entity && matches!(a, Action::Insert))
                .map(|(v, _)| v)
                .collect();
            for chunk in inserts.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::new(write::table_sql(sp));
                q.push_values(chunk, |mut b, v| {
                    b.push_bind(ids[&(v.entity, v.legacy.clone())]).push_bind(t.titolare_id);
                    for ((_, kind), value) in sp.columns.iter().zip(&v.values) {
                        push_db!(b, value, kind, ids);
                    }
                });
                q.build().execute(&mut *tx).await.db(&format!("cannot insert into {}", sp.table))?;
                let mut m = sqlx::QueryBuilder::new(
                    "INSERT INTO import_modifica (titolare_id, batch_id, tabella, riga_id, azione) ",
                );
                m.push_values(chunk, |mut b, v| {
                    b.push_bind(t.titolare_id)
                        .push_bind(batch_id)
                        .push_bind(sp.table)
                        .push_bind(ids[&(v.entity, v.legacy.clone())])
                        .push_bind("inserita");
                });
                m.build().execute(&mut *tx).await.db("cannot record the inserted rows")?;
            }
            // Updates are rare (a source that changed): one statement each.
            for (v, action) in plan.iter().filter(|(v, _)| v.entity == sp.entity) {
                let Action::Update(id) = action else { continue };
                let before: String = sqlx::query_scalar(sqlx::AssertSqlSafe(write::row_as_json_sql(sp, postgres)))
                    .bind(*id)
                    .fetch_one(&mut *tx)
                    .await
                    .db(&format!("cannot read {} {id} before updating it", sp.table))?;
                let mut prima: serde_json::Value = serde_json::from_str(&before).unwrap_or_default();
                prima["_crosswalk"] = serde_json::json!({
                    "id_legacy": v.legacy,
                    "contenuto_sha256": crosswalk.get(&(v.entity, v.legacy.clone())).and_then(|c| c.hash.clone()),
                });
                let mut q = sqlx::QueryBuilder::new(format!("UPDATE {} SET ", sp.table));
                for (n, ((col, kind), value)) in sp.columns.iter().zip(&v.values).enumerate() {
                    q.push(if n == 0 { "" } else { ", " }).push(format!("{col} = "));
                    push_db!(q, value, kind, ids);
                }
                q.push(" WHERE id = ").push_bind(*id).push(" AND titolare_id = ").push_bind(t.titolare_id);
                q.build().execute(&mut *tx).await.db(&format!("cannot update {} {id}", sp.table))?;
                sqlx::query(
                    "INSERT INTO import_modifica (titolare_id, batch_id, tabella, riga_id, azione, prima) VALUES ($1, $2, $3, $4, 'aggiornata', $5)",
                )
                .bind(t.titolare_id)
                .bind(batch_id)
                .bind(sp.table)
                .bind(*id)
                .bind(prima.to_string())
                .execute(&mut *tx)
                .await
                .db("cannot record the updated row")?;
                sqlx::query(
                    "UPDATE crosswalk SET contenuto_sha256 = $1 WHERE titolare_id = $2 AND sistema_origine = $3 AND entita = $4 AND id_legacy = $5",
                )
                .bind(&v.hash)
                .bind(t.titolare_id)
                .bind(&req.source)
                .bind(sp.table)
                .bind(&v.legacy)
                .execute(&mut *tx)
                .await
                .db("cannot update the crosswalk")?;
            }
        }
        // The crosswalk: every new legacy id, merged ones included.
        let new_links: Vec<&Valid> = plan
            .iter()
            .filter(|(_, a)| matches!(a, Action::Insert | Action::Merge(_) | Action::MergeBatch(_)))
            .map(|(v, _)| v)
            .collect();
        for chunk in new_links.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO crosswalk (titolare_id, sistema_origine, entita, id_legacy, riga_id, batch_id, contenuto_sha256) ",
            );
            q.push_values(chunk, |mut b, v| {
                b.push_bind(t.titolare_id)
                    .push_bind(&req.source)
                    .push_bind(spec::table_of(v.entity))
                    .push_bind(&v.legacy)
                    .push_bind(ids[&(v.entity, v.legacy.clone())])
                    .push_bind(batch_id)
                    .push_bind(&v.hash);
            });
            q.build().execute(&mut *tx).await.db("cannot write the crosswalk")?;
        }
        sqlx::query("UPDATE import_batch SET stato = 'completato', concluso_il = $1, conteggi = $2 WHERE id = $3")
            .bind(crate::now_utc())
            .bind(counts.to_string())
            .bind(batch_id)
            .execute(&mut *tx)
            .await
            .db("cannot close the import batch")?;
        entry.dettaglio = serde_json::json!({
            "batch": batch_id,
            "sistema_origine": req.source,
            "file": files.len(),
            "conteggi": counts,
            "scartate": summary.rejects.len(),
        });
        tx.append_audit(&entry).await?;
        if req.dry_run {
            tx.rollback().await.db("cannot roll back the dry run")?;
        } else {
            tx.commit().await.db("cannot commit the import")?;
        }
        batch_id
    });
    summary.committed = !req.dry_run;
    summary.batch = (!req.dry_run).then_some(batch);
    Ok(summary)
}

fn merged_warning(v: &Valid, with: &str) -> Warning {
    Warning {
        file: v.origin.file.clone(),
        line: v.origin.line,
        legacy_id: v.legacy.clone(),
        entity: "persona",
        code: reasons::PERSONA_MERGED,
        message: format!(
            "same codice fiscale and birth date as {with}: linked to that person, not duplicated"
        ),
    }
}

/// Writes the rejects file: CSV, one line per rejected record, owner-only.
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<()> {
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
    for r in rejects {
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
