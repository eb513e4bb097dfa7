//! The bundle as one file: a tar archive compressed with gzip, optionally
//! encrypted with age for X25519 recipients (`age1...`).
//!
//! tar + gzip because every system a titolare may have opens it with
//! standard tools (GNU tar, the bsdtar shipped with Windows 10+ and macOS,
//! 7-Zip), because it is written as a stream (no seeking back, so it goes
//! straight through age and never exists unencrypted on disk as a whole),
//! and because zlib-rs compresses it faster than the export produces it.
//! zip would need seeking or data descriptors, and zstd is not yet read by
//! every `tar` a municipality runs.
//!
//! Inside, every file sits under one folder named like the archive, so that
//! `tar xzf` gives the same folder `handback export` writes without
//! `--archive`.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use flate2::Compression;

use super::io_err;
use crate::error::{Error, Result};

/// The first line of every age file.
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

/// What kind of hand-back archive a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// `.tar.gz`.
    TarGz,
    /// `.tar.gz` encrypted with age.
    Age,
}

/// What `path` is, from its first bytes; None when it is not an archive of
/// ours (or cannot be read).
pub fn sniff(path: &Path) -> Option<ArchiveKind> {
    let mut file = File::open(path).ok()?;
    let mut head = [0u8; AGE_MAGIC.len()];
    let n = read_up_to(&mut file, &mut head).ok()?;
    if head[..n] == *AGE_MAGIC {
        return Some(ArchiveKind::Age);
    }
    if n < 2 || head[..2] != [0x1f, 0x8b] {
        return None;
    }
    // A gzip stream: an archive when it opens with a ustar header.
    let file = File::open(path).ok()?;
    let mut block = [0u8; 512];
    let n = read_up_to(&mut flate2::read::GzDecoder::new(file), &mut block).ok()?;
    (n == 512 && &block[257..262] == b"ustar").then_some(ArchiveKind::TarGz)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Parses an age X25519 recipient given on the command line.
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    text.trim().parse().map_err(|e: &str| {
        Error::Usage(format!(
            "--encrypt-to {text:?} is not an age X25519 recipient ({e}): give the titolare's public key, \
             which starts with age1 (`age-keygen -y KEYFILE` prints it)"
        ))
    })
}

type Identities = Vec<Box<dyn age::Identity + Send + Sync>>;

/// The identities (`AGE-SECRET-KEY-1...`) in an age identity file.
pub fn read_identities(path: &Path) -> Result<Identities> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::Input(format!(
            "cannot read the age identity file {}: {e}; give the file written by `age-keygen` \
             (a line AGE-SECRET-KEY-1...)",
            path.display()
        ))
    };
    let file = age::IdentityFile::from_file(path.to_string_lossy().into_owned())
        .map_err(|e| unreadable(&e))?;
    let identities = file.into_identities().map_err(|e| unreadable(&e))?;
    if identities.is_empty() {
        return Err(unreadable(&"it holds no identity"));
    }
    Ok(identities)
}

/// The folder name inside the archive: the archive's name without its
/// extensions (`desio.tar.gz.age` -> `desio`).
pub fn root_name(archive: &Path) -> String {
    let mut name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for ext in [".age", ".gz", ".tgz", ".tar"] {
        if let Some(stem) = name.strip_suffix(ext) {
            name = stem.to_string();
        }
    }
    if name.is_empty() || name.starts_with('.') {
        "pacchetto".into()
    } else {
        name
    }
}

/// Below gzip: the file, or age encrypting into it.
enum Layer {
    Plain(BufWriter<File>),
    Age(age::stream::StreamWriter<BufWriter<File>>),
}

impl Write for Layer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Layer::Plain(w) => w.write(buf),
            Layer::Age(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Layer::Plain(w) => w.flush(),
            Layer::Age(w) => w.flush(),
        }
    }
}

/// Hands what tar writes, in large chunks, to a thread that compresses,
/// encrypts and writes it: on two cores, compression then overlaps reading
/// the database.
struct Pipe {
    buffer: Vec<u8>,
    sender: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    worker: Option<std::thread::JoinHandle<std::io::Result<BufWriter<File>>>>,
}

const PIPE_CHUNK: usize = 1 << 18;

impl Pipe {
    fn new(layer: Layer) -> Self {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let worker = std::thread::spawn(move || {
            // Level 1: a CSV compresses almost as well as at level 6,
            // several times faster.
            let mut gz = flate2::write::GzEncoder::new(layer, Compression::fast());
            for chunk in receiver {
                gz.write_all(&chunk)?;
            }
            match gz.finish()? {
                Layer::Plain(w) => Ok(w),
                Layer::Age(w) => w.finish(),
            }
        });
        Pipe {
            buffer: Vec::with_capacity(PIPE_CHUNK),
            sender: Some(sender),
            worker: Some(worker),
        }
    }

    /// The worker's error, once it has stopped.
    fn failed(&mut self) -> std::io::Error {
        self.sender = None;
        match self.worker.take().map(|w| w.join()) {
            Some(Ok(Err(e))) => e,
            _ => std::io::Error::other("the archive writer stopped"),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(PIPE_CHUNK));
        let sent = self.sender.as_ref().map(|s| s.send(chunk));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(self.failed()),
        }
    }

    /// Sends the rest, waits for the worker and returns the file.
    fn finish(mut self) -> std::io::Result<BufWriter<File>> {
        self.send()?;
        self.sender = None;
        match self.worker.take().map(|w| w.join()) {
            Some(Ok(result)) => result,
            _ => Err(std::io::Error::other("the archive writer stopped")),
        }
    }
}

impl Drop for Pipe {
    /// On failure too, the worker is done before the caller removes the
    /// temporary folder.
    fn drop(&mut self) {
        self.sender = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= PIPE_CHUNK {
            self.send()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the archive as a stream; nothing of it is complete until
/// [`ArchiveWriter::finish`].
pub(crate) struct ArchiveWriter {
    tar: tar::Builder<Pipe>,
    root: String,
    mtime: u64,
    path: PathBuf,
}

impl ArchiveWriter {
    /// Creates `path` (owner-only) holding files under the folder `root`,
    /// encrypted for `recipients` when there are any.
    pub(crate) fn create(
        path: &Path,
        root: &str,
        recipients: &[age::x25519::Recipient],
    ) -> Result<Self> {
        let file = BufWriter::with_capacity(1 << 16, super::export::create_private(path)?);
        let layer = if recipients.is_empty() {
            Layer::Plain(file)
        } else {
            let encryptor = age::Encryptor::with_recipients(
                recipients.iter().map(|r| r as &dyn age::Recipient),
            )
            .map_err(|e| Error::Usage(format!("cannot encrypt for these recipients: {e}")))?;
            Layer::Age(encryptor.wrap_output(file).map_err(io_err(path, "write"))?)
        };
        let mut tar = tar::Builder::new(Pipe::new(layer));
        tar.mode(tar::HeaderMode::Deterministic);
        let mtime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut writer = ArchiveWriter {
            tar,
            root: root.to_string(),
            mtime,
            path: path.to_path_buf(),
        };
        writer.add_dir("")?;
        writer.add_dir(super::DOCUMENTI)?;
        Ok(writer)
    }

    fn header(&self, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(self.mtime);
        header.set_uid(0);
        header.set_gid(0);
        header
    }

    fn entry_name(&self, name: &str) -> String {
        if name.is_empty() {
            format!("{}/", self.root)
        } else {
            format!("{}/{name}", self.root)
        }
    }

    fn add_dir(&mut self, name: &str) -> Result<()> {
        let mut header = self.header(tar::EntryType::Directory, 0o700, 0);
        let entry = self.entry_name(name);
        self.tar
            .append_data(&mut header, entry, std::io::empty())
            .map_err(io_err(&self.path, "write"))
    }

    /// Adds the file `name` (relative to the bundle) with these bytes.
    pub(crate) fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut header = self.header(tar::EntryType::Regular, 0o600, bytes.len() as u64);
        let entry = self.entry_name(name);
        self.tar
            .append_data(&mut header, entry, bytes)
            .map_err(io_err(&self.path, "write"))
    }

    /// Adds the file `name` with the content of `src`.
    pub(crate) fn add_file(&mut self, name: &str, src: &Path) -> Result<()> {
        let file = File::open(src).map_err(io_err(src, "read"))?;
        let size = file.metadata().map_err(io_err(src, "read"))?.len();
        let mut header = self.header(tar::EntryType::Regular, 0o600, size);
        let entry = self.entry_name(name);
        self.tar
            .append_data(&mut header, entry, BufReader::with_capacity(1 << 16, file))
            .map_err(io_err(&self.path, "write"))
    }

    /// Ends the archive, the gzip stream and the encryption, and syncs the
    /// file to disk.
    pub(crate) fn finish(self) -> Result<()> {
        let path = self.path;
        let pipe = self.tar.into_inner().map_err(io_err(&path, "write"))?;
        let buffered = pipe.finish().map_err(io_err(&path, "write"))?;
        let file = buffered
            .into_inner()
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e.into_error()))?;
        file.sync_all().map_err(io_err(&path, "write"))
    }
}

/// Opens an archive for reading: decrypts it when it is encrypted, with the
/// identities in `identity`.
fn open(path: &Path, identity: Option<&Path>) -> Result<tar::Archive<Box<dyn Read>>> {
    let kind = sniff(path).ok_or_else(|| {
        Error::Input(format!(
            "{} is neither a bundle folder nor a hand-back archive (.tar.gz, or .tar.gz.age encrypted \
             with age): give what `siso handback export` wrote",
            path.display()
        ))
    })?;
    let file = BufReader::with_capacity(1 << 16, File::open(path).map_err(io_err(path, "read"))?);
    let compressed: Box<dyn Read> = match kind {
        ArchiveKind::TarGz => Box::new(file),
        ArchiveKind::Age => {
            let Some(identity) = identity else {
                return Err(Error::Usage(format!(
                    "{} is encrypted with age: give --identity FILE, the age identity file \
                     (AGE-SECRET-KEY-1...) of the recipient it was encrypted for, or decrypt it first \
                     with `age -d -i FILE -o BUNDLE.tar.gz {}`",
                    path.display(),
                    path.display()
                )));
            };
            let identities = read_identities(identity)?;
            let decryptor = age::Decryptor::new_buffered(file).map_err(|e| {
                Error::Input(format!(
                    "{} is not a readable age file: {e}",
                    path.display()
                ))
            })?;
            let reader = decryptor
                .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
                .map_err(|e| match e {
                    age::DecryptError::NoMatchingKeys => Error::Input(format!(
                        "cannot decrypt {}: it was not encrypted for the identity in {} (wrong key); \
                         give the identity file of the recipient named at export (--encrypt-to)",
                        path.display(),
                        identity.display()
                    )),
                    other => Error::Input(format!(
                        "cannot decrypt {} with the identity in {}: {other}",
                        path.display(),
                        identity.display()
                    )),
                })?;
            Box::new(reader)
        }
    };
    let gz: Box<dyn Read> = Box::new(flate2::read::GzDecoder::new(compressed));
    Ok(tar::Archive::new(gz))
}

/// One file of an archive, as [`for_each_file`] hands it over.
pub(crate) enum Item<'a> {
    /// A regular file at `name` (relative to the bundle, with `/`).
    File {
        name: String,
        reader: &'a mut dyn Read,
    },
    /// Something that is not part of a bundle: a link, a device, a name
    /// outside the bundle's folder, a second copy of a name.
    Bad { name: String, problem: String },
}

/// Walks the archive's entries in order; folders are skipped. Returns Err
/// only when the archive cannot be opened (not an archive, cannot decrypt);
/// a damaged stream ends the walk with `Ok(Some(reason))`.
pub(crate) fn for_each_file(
    path: &Path,
    identity: Option<&Path>,
    mut f: impl FnMut(Item<'_>) -> Result<()>,
) -> Result<Option<String>> {
    let mut archive = open(path, identity)?;
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return Ok(Some(e.to_string())),
    };
    let mut root: Option<String> = None;
    let mut seen = BTreeSet::new();
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => return Ok(Some(e.to_string())),
        };
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let mut parts = Vec::new();
        let mut safe = !raw.starts_with('/');
        for c in Path::new(&raw).components() {
            match c {
                Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
                Component::CurDir => {}
                _ => safe = false,
            }
        }
        if parts.is_empty() || !safe {
            f(Item::Bad {
                name: raw,
                problem: "a name outside the bundle's folder".into(),
            })?;
            continue;
        }
        let top = parts.remove(0);
        match &root {
            None => root = Some(top),
            Some(r) if *r != top => {
                f(Item::Bad {
                    name: raw,
                    problem: format!("outside the bundle's folder {r}/"),
                })?;
                continue;
            }
            Some(_) => {}
        }
        if kind.is_dir() {
            continue;
        }
        if parts.is_empty() {
            f(Item::Bad {
                name: raw,
                problem: "not a folder, where the bundle's folder should be".into(),
            })?;
            continue;
        }
        let name = parts.join("/");
        if !kind.is_file() {
            f(Item::Bad {
                name,
                problem: "not a regular file (a link or a device)".into(),
            })?;
            continue;
        }
        if !seen.insert(name.clone()) {
            f(Item::Bad {
                name,
                problem: "appears twice in the archive".into(),
            })?;
            continue;
        }
        let mut failed = None;
        let mut guarded = Guarded {
            inner: &mut entry,
            failed: &mut failed,
        };
        let result = f(Item::File {
            name,
            reader: &mut guarded,
        });
        // A damaged stream, not the callback, is what failed.
        if let Some(e) = failed {
            return Ok(Some(e));
        }
        result?;
        // What the callback did not read still has to be consumed (and
        // authenticated) to reach the next entry.
        if let Err(e) = std::io::copy(&mut entry, &mut std::io::sink()) {
            return Ok(Some(e.to_string()));
        }
    }
    // To the end of the stream: gzip's checksum and age's last chunk are
    // checked only there.
    if let Err(e) = std::io::copy(&mut archive.into_inner(), &mut std::io::sink()) {
        return Ok(Some(e.to_string()));
    }
    Ok(None)
}

/// Remembers a read error of the archive stream, so that a damaged archive
/// is told apart from a failure of the callback.
struct Guarded<'a, R> {
    inner: R,
    failed: &'a mut Option<String>,
}

impl<R: Read> Read for Guarded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            self.failed.get_or_insert_with(|| e.to_string());
        })
    }
}

/// Extracts the archive into `dest` (a new, private folder) with owner-only
/// permissions; refuses anything that is not a plain file of the bundle.
pub(crate) fn extract(path: &Path, identity: Option<&Path>, dest: &Path) -> Result<()> {
    let damaged = for_each_file(path, identity, |item| match item {
        Item::Bad { name, problem } => Err(Error::Input(format!(
            "{}: {name}: {problem}; this is not an archive written by `siso handback export`",
            path.display()
        ))),
        Item::File { name, reader } => {
            let target = dest.join(&name);
            if let Some(parent) = target.parent()
                && !parent.exists()
            {
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::DirBuilderExt;
                    builder.mode(0o700);
                }
                builder
                    .create(parent)
                    .map_err(io_err(parent, "create the folder"))?;
            }
            let mut out = BufWriter::new(super::export::create_private(&target)?);
            std::io::copy(reader, &mut out).map_err(io_err(&target, "write"))?;
            out.flush().map_err(io_err(&target, "write"))
        }
    })?;
    match damaged {
        None => Ok(()),
        Some(reason) => Err(Error::Input(format!(
            "{} is damaged or truncated ({reason}): ask for a new export",
            path.display()
        ))),
    }
}

/// A private temporary folder, removed with everything in it when dropped.
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    /// Creates `<TMPDIR>/siso-<what>-<pid>-<n>` with mode 0700.
    pub(crate) fn new(what: &str) -> Result<Self> {
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = base.join(format!("siso-{what}-{}-{nanos}", std::process::id()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&path)
            .map_err(io_err(&path, "create the temporary folder"))?;
        Ok(ScratchDir(path))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_inside_is_named_like_the_archive() {
        assert_eq!(root_name(Path::new("/x/desio.tar.gz.age")), "desio");
        assert_eq!(root_name(Path::new("desio.tgz")), "desio");
        assert_eq!(root_name(Path::new("desio")), "desio");
        assert_eq!(root_name(Path::new(".tar.gz")), "pacchetto");
    }

    #[test]
    fn a_recipient_must_be_an_age_public_key() {
        let key = age::x25519::Identity::generate();
        let public = key.to_public().to_string();
        assert!(parse_recipient(&public).is_ok());
        let err = parse_recipient("AGE-SECRET-KEY-1XYZ").unwrap_err();
        assert!(err.to_string().contains("age1"), "{err}");
    }
}
