//! `handback verify`: recomputes every file's SHA-256 and row count and
//! compares them with manifest.json and SHA256SUMS; reports every altered,
//! missing or extra file, not just the first. Works on the folder and on the
//! archive (read as a stream, never extracted).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Read};
use std::path::{Component, Path};

use sha2::Digest as _;

use super::archive;
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
    /// SHA-256 of manifest.json, when present.
    pub manifest_sha256: Option<String>,
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
        self.newlines += memchr_count(&buf[..n]);
        Ok(n)
    }
}

fn memchr_count(buf: &[u8]) -> u64 {
    buf.iter().filter(|b| **b == b'\n').count() as u64
}

/// What one file of the bundle holds.
#[derive(Debug, Clone)]
struct Digest {
    sha256: String,
    /// Data rows, for .csv and .jsonl.
    rows: Option<u64>,
    /// Why a .csv is not valid CSV.
    invalid: Option<String>,
}

/// SHA-256 and data rows of one file named `name` (rows only for .csv and
/// .jsonl).
fn digest(name: &str, input: impl Read) -> std::io::Result<Digest> {
    let mut reader = HashingReader {
        inner: BufReader::with_capacity(1 << 18, input),
        hasher: sha2::Sha256::new(),
        newlines: 0,
    };
    let mut rows = None;
    let mut invalid = None;
    if name.ends_with(".csv") {
        // Counted by parsing: a quoted text may span lines.
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .buffer_capacity(1 << 16)
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
    Ok(Digest {
        sha256: hex::encode(reader.hasher.finalize()),
        rows,
        invalid,
    })
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

/// Checks the bundle at `path`: a folder, or an archive (`identity` is the
/// age identity file that decrypts an encrypted one).
pub fn verify(path: &Path, identity: Option<&Path>) -> Result<VerifyReport> {
    if path.is_dir() {
        verify_dir(path)
    } else if path.is_file() {
        verify_archive(path, identity)
    } else {
        Err(Error::Input(format!(
            "{} does not exist: give the folder or the archive written by `siso handback export`",
            path.display()
        )))
    }
}

fn verify_dir(dir: &Path) -> Result<VerifyReport> {
    let mut present = BTreeSet::new();
    walk(dir, "", &mut present)?;
    let manifest = std::fs::read(dir.join(MANIFEST)).ok();
    let sums = present
        .contains(SHA256SUMS)
        .then(|| std::fs::read(dir.join(SHA256SUMS)).unwrap_or_default());
    compare(&present, manifest, sums, Vec::new(), |name| {
        let path = dir.join(name);
        let file = std::fs::File::open(&path).map_err(io_err(&path, "read"))?;
        digest(name, file).map_err(io_err(&path, "read"))
    })
}

/// The largest manifest.json or SHA256SUMS an archive may hold (they are
/// kept in memory).
const SMALL_FILE_LIMIT: u64 = 64 << 20;

fn verify_archive(path: &Path, identity: Option<&Path>) -> Result<VerifyReport> {
    let mut digests: BTreeMap<String, Digest> = BTreeMap::new();
    let mut manifest = None;
    let mut sums = None;
    let mut problems = Vec::new();
    let damaged = archive::for_each_file(path, identity, |item| {
        match item {
            archive::Item::Bad { name, problem } => problems.push(Problem {
                file: name,
                problem: problem.to_string(),
            }),
            archive::Item::File { name, reader } => {
                let d = if name == MANIFEST || name == SHA256SUMS {
                    let mut bytes = Vec::new();
                    reader
                        .take(SMALL_FILE_LIMIT)
                        .read_to_end(&mut bytes)
                        .map_err(io_err(path, "read"))?;
                    let d = digest(&name, bytes.as_slice()).map_err(io_err(path, "read"))?;
                    if name == MANIFEST {
                        manifest = Some(bytes);
                    } else {
                        sums = Some(bytes);
                    }
                    d
                } else {
                    digest(&name, reader).map_err(io_err(path, "read"))?
                };
                digests.insert(name, d);
            }
        }
        Ok(())
    })?;
    if let Some(reason) = damaged {
        problems.push(Problem {
            file: path
                .file_name()
                .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into()),
            problem: format!(
                "the archive is damaged or truncated ({reason}): what follows that point could not be checked"
            ),
        });
    }
    let present: BTreeSet<String> = digests.keys().cloned().collect();
    compare(&present, manifest, sums, problems, |name| {
        Ok(digests
            .get(name)
            .cloned()
            .expect("only present files are digested"))
    })
}

/// Compares the files `present` (digested on demand) with the manifest and
/// SHA256SUMS; `problems` already found are kept first.
fn compare(
    present: &BTreeSet<String>,
    manifest_bytes: Option<Vec<u8>>,
    sums_bytes: Option<Vec<u8>>,
    mut problems: Vec<Problem>,
    mut digest_of: impl FnMut(&str) -> Result<Digest>,
) -> Result<VerifyReport> {
    let mut problem = |file: &str, text: String| {
        problems.push(Problem {
            file: file.to_string(),
            problem: text,
        })
    };
    let manifest_sha256 = manifest_bytes.as_deref().map(crate::sha256_hex);
    let manifest: Option<Manifest> = match &manifest_bytes {
        None => {
            problem(MANIFEST, "missing".into());
            None
        }
        Some(bytes) => match serde_json::from_slice::<Manifest>(bytes) {
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
            let Digest {
                sha256: sha,
                rows: counted,
                invalid,
            } = digest_of(&f.nome)?;
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
    check_sums(
        present,
        sums_bytes,
        manifest_sha256.as_deref(),
        &mut problem,
    );
    Ok(VerifyReport {
        manifest,
        manifest_sha256,
        files_checked,
        rows: rows / 2,
        problems,
    })
}

/// SHA256SUMS must list every file with its current hash (it is what
/// `sha256sum -c` checks), manifest.json included.
fn check_sums(
    present: &BTreeSet<String>,
    sums_bytes: Option<Vec<u8>>,
    manifest_sha256: Option<&str>,
    problem: &mut impl FnMut(&str, String),
) {
    let Some(bytes) = sums_bytes else {
        problem(SHA256SUMS, "missing".into());
        return;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        problem(SHA256SUMS, "not readable as UTF-8 text".into());
        return;
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
        if name == MANIFEST
            && let Some(actual) = manifest_sha256
            && actual != sha
        {
            problem(
                MANIFEST,
                format!("altered: SHA-256 is {actual}, SHA256SUMS says {sha}"),
            );
        }
    }
    for name in present {
        if name != SHA256SUMS && !listed.contains(name) {
            problem(SHA256SUMS, format!("does not list {name}"));
        }
    }
}
