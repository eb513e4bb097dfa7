//! The rejected records of a batch, kept out of memory: a dirty export can
//! reject hundreds of thousands of lines, each with its original line and
//! a message, and the importer's memory must grow with persons, not with
//! dirt. The texts go, as they come, to an unnamed temporary file (the
//! operating system's, owner-only, gone when the process closes it); only
//! each record's reason and entity stay, for the counts. They are read back
//! one at a time, for the rejects file and the JSON summary.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read as _, Seek as _, Write as _};

use super::validate::Reject;
use crate::error::{Error, Result};

/// What stays in memory of a reject.
#[derive(Debug)]
struct Head {
    reason: &'static str,
    entity: Option<&'static str>,
}

#[derive(Default)]
pub struct Rejects {
    heads: Vec<Head>,
    /// Made at the first reject.
    spill: Option<BufWriter<File>>,
    /// The first failure to write the spill, reported by [`Rejects::finish`].
    failed: Option<std::io::Error>,
}

impl std::fmt::Debug for Rejects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rejects({})", self.heads.len())
    }
}

/// An absent text (`legacy_id`, `field`) in the spill.
const ABSENT: u32 = u32::MAX;

fn put(w: &mut impl std::io::Write, text: Option<&str>) -> std::io::Result<()> {
    match text {
        None => w.write_all(&ABSENT.to_le_bytes()),
        Some(t) => {
            let len = u32::try_from(t.len())
                .ok()
                .filter(|&n| n != ABSENT)
                .ok_or_else(|| std::io::Error::other("a rejected line of 4 GiB or more"))?;
            w.write_all(&len.to_le_bytes())?;
            w.write_all(t.as_bytes())
        }
    }
}

fn take(r: &mut impl std::io::Read) -> std::io::Result<Option<String>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len);
    if len == ABSENT {
        return Ok(None);
    }
    let mut text = vec![0u8; len as usize];
    r.read_exact(&mut text)?;
    String::from_utf8(text)
        .map(Some)
        .map_err(|_| std::io::Error::other("not UTF-8"))
}

impl Rejects {
    /// Keeps a reject. A failure to write it is kept too, and reported by
    /// [`Rejects::finish`]: the batch is then refused.
    pub fn push(&mut self, r: Reject) {
        self.heads.push(Head {
            reason: r.reason,
            entity: r.entity,
        });
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.write(&r) {
            self.failed = Some(e);
        }
    }

    fn write(&mut self, r: &Reject) -> std::io::Result<()> {
        if self.spill.is_none() {
            self.spill = Some(BufWriter::with_capacity(64 * 1024, tempfile::tempfile()?));
        }
        let w = self.spill.as_mut().expect("made above");
        w.write_all(&r.line.to_le_bytes())?;
        put(w, Some(&r.file))?;
        put(w, r.legacy_id.as_deref())?;
        put(w, r.field.as_deref())?;
        put(w, Some(&r.message))?;
        put(w, Some(&r.raw))
    }

    /// Every reject is in: writes what is buffered, or says why it could not.
    pub fn finish(&mut self) -> Result<()> {
        let spill = self.spill.as_mut().map(BufWriter::flush);
        match (self.failed.take(), spill) {
            (Some(e), _) | (None, Some(Err(e))) => Err(Error::io(
                "cannot keep the rejected records in a temporary file",
                e,
            )),
            _ => Ok(()),
        }
    }

    pub fn len(&self) -> usize {
        self.heads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    /// Rejects per reason code.
    pub fn by_reason(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for h in &self.heads {
            *out.entry(h.reason.to_string()).or_default() += 1;
        }
        out
    }

    /// Every reject, in the order they came, read back one at a time
    /// (after [`Rejects::finish`]).
    pub fn iter(&self) -> Result<impl Iterator<Item = Result<Reject>> + '_> {
        let unreadable = |e| Error::io("cannot read back the rejected records", e);
        let mut reader = match &self.spill {
            Some(w) => {
                let mut f = w.get_ref().try_clone().map_err(unreadable)?;
                f.rewind().map_err(unreadable)?;
                Some(BufReader::with_capacity(64 * 1024, f))
            }
            None => None,
        };
        Ok(self.heads.iter().map(move |h| {
            let r = reader.as_mut().expect("a reject was written");
            let mut line = [0u8; 8];
            r.read_exact(&mut line).map_err(unreadable)?;
            let text = |r: &mut BufReader<File>| take(r).map_err(unreadable);
            let missing = || unreadable(std::io::Error::other("a text is missing"));
            Ok(Reject {
                line: u64::from_le_bytes(line),
                file: text(r)?.ok_or_else(missing)?,
                legacy_id: text(r)?,
                field: text(r)?,
                message: text(r)?.ok_or_else(missing)?,
                raw: text(r)?.ok_or_else(missing)?,
                reason: h.reason,
                entity: h.entity,
            })
        }))
    }

    /// The first `n`, for a terminal.
    pub fn first(&self, n: usize) -> Result<Vec<Reject>> {
        self.iter()?.take(n).collect()
    }
}

/// As a JSON array of rejects, read back as it is written.
impl serde::Serialize for Rejects {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq as _};
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for r in self.iter().map_err(S::Error::custom)? {
            seq.serialize_element(&r.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reject(i: u64) -> Reject {
        Reject {
            file: format!("f{i}.csv"),
            line: i,
            legacy_id: i.is_multiple_of(2).then(|| format!("E{i}")),
            entity: Some("erogazione"),
            field: i.is_multiple_of(3).then(|| "data".to_string()),
            reason: if i.is_multiple_of(2) {
                "DATE_INVALID"
            } else {
                "PARENT_MISSING"
            },
            message: "è".repeat(i as usize % 7),
            raw: format!("E{i};I1;\"a\nb\";{}", "x".repeat(i as usize * 13)),
        }
    }

    #[test]
    fn rejects_come_back_whole_and_in_order() {
        let mut rejects = Rejects::default();
        assert!(rejects.iter().unwrap().next().is_none());
        for i in 0..5000 {
            rejects.push(reject(i));
        }
        rejects.finish().unwrap();
        assert_eq!(rejects.len(), 5000);
        let back: Vec<Reject> = rejects.iter().unwrap().map(|r| r.unwrap()).collect();
        for (i, r) in back.iter().enumerate() {
            let want = reject(i as u64);
            assert_eq!(
                (
                    &r.file,
                    r.line,
                    &r.legacy_id,
                    r.entity,
                    &r.field,
                    r.reason,
                    &r.message,
                    &r.raw
                ),
                (
                    &want.file,
                    want.line,
                    &want.legacy_id,
                    want.entity,
                    &want.field,
                    want.reason,
                    &want.message,
                    &want.raw
                )
            );
        }
        // Read twice: the second reading starts again from the first.
        assert_eq!(rejects.first(2).unwrap()[1].line, 1);
        assert_eq!(rejects.by_reason()["DATE_INVALID"], 2500);
        let json = serde_json::to_value(&rejects).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 5000);
        assert_eq!(json[4]["legacy_id"], "E4");
    }
}
