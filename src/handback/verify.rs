//! `handback verify`: recomputes every file's SHA-256 and row count and
//! compares them with manifest.json and SHA256SUMS; reports every altered,
//! missing or extra file, not just the first.

use std::collections::BTreeSet;
use std::io::{BufReader, Read};
use std::path::{Component, Path};

use sha2::Digest as _;

use super::{DOCUMENTI, MANIFEST, Manifest, SHA256SUMS, io_err};
use crate::error::{Error, Result};

/// One difference between the bundle and its manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub problem: String,
}

#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// None when manifest.json is missing or unreadable.
    pub manifest: Option<Manifest>,
    pub files_checked: usize,
    pub rows: u64,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A reader that hashes what is read through it.
struct HashingReader<R> {
    inner: R,
    hasher: sha2::Sha256,
    newlines: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.newlines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }
}

/// SHA-256 and data rows of one file (rows only for .csv and .jsonl).
fn digest(path: &Path) -> std::io::Result<(String, Option<u64>, Option<String>)> {
    let file = std::fs::File::open(path)?;
    let mut reader = HashingReader {
        inner: BufReader::with_capacity(1 << 18, file),
        hasher: sha2::Sha256::new(),
        newlines: 0,
    };
    let name = path.to_string_lossy();
    let mut rows = None;
    let mut invalid = None;
    if name.ends_with(".csv") {
        // Counted by parsing: a quoted text may span lines.
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(&mut reader);
        let mut record = csv::ByteRecord::new();
        let mut n = 0u64;
        loop {
            match csv.read_byte_record(&mut record) {
                Ok(true) => n += 1,
                Ok(false) => break,
                Err(e) => {
                    invalid = Some(format!("not valid CSV: {e}"));
                    break;
                }
            }
        }
        drop(csv);
        std::io::copy(&mut reader, &mut std::io::sink())?;
        rows = Some(n);
    } else {
        std::io::copy(&mut reader, &mut std::io::sink())?;
        if name.ends_with(".jsonl") {
            rows = Some(reader.newlines);
        }
    }
    Ok((hex::encode(reader.hasher.finalize()), rows, invalid))
}

/// A name from the manifest that stays inside the bundle.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Every file under `dir`, as paths relative to it with `/`.
fn walk(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir, "read"))? {
        let entry = entry.map_err(io_err(dir, "read"))?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().map_err(io_err(dir, "read"))?.is_dir() {
            walk(&entry.path(), &format!("{name}/"), out)?;
        } else {
            out.insert(name);
        }
    }
    Ok(())
}

/// Checks the bundle in `dir`.
pub fn verify(dir: &Path) -> Result<VerifyReport> {
    if !dir.is_dir() {
        return Err(Error::Input(format!(
            "{} is not a folder: give the folder written by `siso handback export`",
            dir.display()
        )));
    }
    let mut problems = Vec::new();
    let mut problem = |file: &str, text: String| {
        problems.push(Problem {
            file: file.to_string(),
            problem: text,
        })
    };
    let manifest_path = dir.join(MANIFEST);
    let manifest: Option<Manifest> = match std::fs::read(&manifest_path) {
        Err(_) => {
            problem(MANIFEST, "missing".into());
            None
        }
        Ok(bytes) => match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(m) if m.formato != super::FORMATO => {
                problem(
                    MANIFEST,
                    format!("not a siso hand-back manifest (formato {:?})", m.formato),
                );
                None
            }
            Ok(m) if m.versione_formato > super::VERSIONE_FORMATO => {
                problem(
                    MANIFEST,
                    format!(
                        "format version {} is newer than this siso understands ({}): use a newer siso",
                        m.versione_formato,
                        super::VERSIONE_FORMATO
                    ),
                );
                None
            }
            Ok(m) => Some(m),
            Err(e) => {
                problem(MANIFEST, format!("not a valid manifest: {e}"));
                None
            }
        },
    };

    let mut present = BTreeSet::new();
    walk(dir, "", &mut present)?;
    let mut expected: BTreeSet<String> = [MANIFEST.to_string(), SHA256SUMS.to_string()].into();
    let mut files_checked = 0;
    let mut rows = 0;
    if let Some(m) = &manifest {
        for f in &m.file {
            expected.insert(f.nome.clone());
            if !safe_name(&f.nome) {
                problem(
                    &f.nome,
                    "the manifest names a file outside the bundle".into(),
                );
                continue;
            }
            if !present.contains(&f.nome) {
                problem(&f.nome, "missing".into());
                continue;
            }
            files_checked += 1;
            let (sha, counted, invalid) =
                digest(&dir.join(&f.nome)).map_err(io_err(&dir.join(&f.nome), "read"))?;
            if let Some(text) = invalid {
                problem(&f.nome, text);
            }
            if sha != f.sha256 {
                problem(
                    &f.nome,
                    format!("altered: SHA-256 is {sha}, the manifest says {}", f.sha256),
                );
            }
            if let Some(doc_hash) = f.nome.strip_prefix(&format!("{DOCUMENTI}/"))
                && doc_hash != sha
            {
                problem(
                    &f.nome,
                    "a document's name must be the SHA-256 of its content".into(),
                );
            }
            match (f.righe, counted) {
                (Some(want), Some(got)) if want != got => problem(
                    &f.nome,
                    format!("altered: {got} rows, the manifest says {want}"),
                ),
                (Some(want), _) => rows += want,
                _ => {}
            }
        }
    }
    for extra in present.difference(&expected) {
        problem(extra, "extra file, not in the manifest".into());
    }
    check_sums(dir, &present, &mut problem)?;
    Ok(VerifyReport {
        manifest,
        files_checked,
        rows: rows / 2,
        problems,
    })
}

/// SHA256SUMS must list every file with its current hash (it is what
/// `sha256sum -c` checks), manifest.json included.
fn check_sums(
    dir: &Path,
    present: &BTreeSet<String>,
    problem: &mut impl FnMut(&str, String),
) -> Result<()> {
    let path = dir.join(SHA256SUMS);
    let Ok(text) = std::fs::read_to_string(&path) else {
        if present.contains(SHA256SUMS) {
            problem(SHA256SUMS, "not readable as UTF-8 text".into());
        } else {
            problem(SHA256SUMS, "missing".into());
        }
        return Ok(());
    };
    let mut listed = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let Some((sha, name)) = line.split_once("  ") else {
            problem(SHA256SUMS, format!("line {} is not `SHA256  NAME`", n + 1));
            continue;
        };
        listed.insert(name.to_string());
        // Data files were already compared with the manifest; here the
        // manifest itself, which only SHA256SUMS protects.
        if name == MANIFEST && present.contains(MANIFEST) {
            let actual = super::export::hash_file(&dir.join(MANIFEST))?;
            if actual != sha {
                problem(
                    MANIFEST,
                    format!("altered: SHA-256 is {actual}, SHA256SUMS says {sha}"),
                );
            }
        }
    }
    for name in present {
        if name != SHA256SUMS && !listed.contains(name) {
            problem(SHA256SUMS, format!("does not list {name}"));
        }
    }
    Ok(())
}
