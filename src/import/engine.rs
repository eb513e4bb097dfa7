//! The importer's memory while a batch streams through: for every legacy id
//! of the source, the row it is (or will be) and a short hash of what the
//! source said, so that repeated records, changed records, references and
//! persons met twice are decided as each record arrives. Records themselves
//! are not kept: an accepted record goes to [`Pending`] and from there to
//! the database; a rejected one to the rejects list.
//!
//! A record whose parent has not been read yet (a flat export listing an
//! intervention before its case, say) waits until every file has been
//! read, then is checked again, parents first.

use std::collections::HashMap;

use time::Date;

use super::EntitySummary;
use super::reasons as r;
use super::spec::{self, ORDER};
use super::validate::{self, Known, Lookup, Parent, Reject, Staged, Warning};
use super::write::{Changed, Ids, Link, NewRow, Pending};
use crate::importers::fields::Entity;

/// The first 16 bytes of a content hash: enough to tell records apart
/// (a collision needs 2^64 records), a third of the memory of the hex.
type Short = [u8; 16];

fn short(h: &[u8; 32]) -> Short {
    let mut s = [0u8; 16];
    s.copy_from_slice(&h[..16]);
    s
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Imported by an earlier batch, not met in this one (yet).
    Stored,
    Accepted,
    Rejected,
    /// Waiting for its parent (see the module docs).
    Deferred,
}

#[derive(Clone, Copy)]
struct Slot {
    /// Row id: stored, or given to the record accepted in this batch.
    id: i64,
    /// The crosswalk's hash of the stored row, when there is a stored row.
    stored: Option<Short>,
    /// What this batch said, once met.
    seen: Option<Short>,
    state: State,
}

/// Legacy id -> slot, one map per table in [`ORDER`].
pub struct Index {
    maps: Vec<Map<Box<str>, Slot>>,
}

/// Hash maps with a fast hasher: the importer looks legacy ids up several
/// times per record (SipHash was a tenth of the CPU time).
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

impl Default for Index {
    fn default() -> Index {
        Index {
            maps: ORDER.iter().map(|_| Map::default()).collect(),
        }
    }
}

impl Index {
    /// A legacy id imported before: its row and the crosswalk's hash (hex).
    pub fn stored(&mut self, entity: Entity, legacy: &str, id: i64, hash: Option<&str>) {
        let stored = hash
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() == 32)
            .map(|b| {
                let mut s = [0u8; 16];
                s.copy_from_slice(&b[..16]);
                s
            })
            // A stored row without a hash (restored from a bundle) is never "unchanged".
            .or(Some([0u8; 16]));
        self.maps[spec::rank(entity)].insert(
            legacy.into(),
            Slot {
                id,
                stored,
                seen: None,
                state: State::Stored,
            },
        );
    }

    fn get(&self, rank: usize, legacy: &str) -> Option<&Slot> {
        self.maps[rank].get(legacy)
    }

    fn set(&mut self, rank: usize, legacy: &str, f: impl FnOnce(&mut Slot)) {
        if let Some(slot) = self.maps[rank].get_mut(legacy) {
            f(slot);
            return;
        }
        let mut slot = Slot {
            id: 0,
            stored: None,
            seen: None,
            state: State::Rejected,
        };
        f(&mut slot);
        self.maps[rank].insert(legacy.into(), slot);
    }
}

impl Lookup for Index {
    fn parent(&self, entity: Entity, legacy: &str) -> Parent {
        match self.get(spec::rank(entity), legacy) {
            Some(s) if matches!(s.state, State::Stored | State::Accepted) => Parent::Id(s.id),
            Some(s) if s.state == State::Rejected => Parent::Rejected,
            _ => Parent::Unknown,
        }
    }
}

/// Decides each record as it arrives; see the module docs.
pub struct Engine<'k> {
    known: &'k Known,
    pub index: Index,
    /// Persons by normalised CF key and birth date: their row id and, when
    /// this batch inserted them, the legacy id they came with.
    persons: Map<(String, Date), (i64, Option<String>)>,
    pub pending: Pending,
    pub ids: Ids,
    per: Vec<EntitySummary>,
    pub rejects: Vec<Reject>,
    pub warnings: Vec<Warning>,
    deferred: Vec<(Staged, [u8; 32])>,
    scratch: Vec<u8>,
}

impl<'k> Engine<'k> {
    pub fn new(
        known: &'k Known,
        index: Index,
        persons: HashMap<(String, Date), i64>,
    ) -> Engine<'k> {
        Engine {
            known,
            index,
            persons: persons.into_iter().map(|(k, id)| (k, (id, None))).collect(),
            pending: Pending::default(),
            ids: Ids::default(),
            per: ORDER
                .iter()
                .map(|sp| EntitySummary {
                    entita: sp.entity.name(),
                    ..Default::default()
                })
                .collect(),
            rejects: Vec::new(),
            warnings: Vec::new(),
            deferred: Vec::new(),
            scratch: Vec::with_capacity(1024),
        }
    }

    /// One output of the readers.
    pub fn offer(&mut self, out: super::stage::Out) {
        match out {
            super::stage::Out::Record(s) => self.record(s),
            super::stage::Out::Reject(rej, mark) => {
                if let Some(rank) = rej.entity.and_then(Entity::from_name).map(spec::rank) {
                    self.per[rank].lette += 1;
                    self.per[rank].scartate += 1;
                }
                if let Some((entity, legacy)) = mark {
                    self.index
                        .set(spec::rank(entity), &legacy, |s| s.state = State::Rejected);
                }
                self.rejects.push(rej);
            }
        }
    }

    fn record(&mut self, s: Staged) {
        let rank = spec::rank(s.entity);
        let hash = validate::content_hash(&s, &mut self.scratch);
        if let Some(seen) = self.index.get(rank, &s.legacy).and_then(|slot| slot.seen) {
            // Flat exports repeat the person on every row of their cases.
            if seen == short(&hash) {
                return;
            }
            self.per[rank].lette += 1;
            self.per[rank].scartate += 1;
            let message = format!(
                "{} {} appears earlier in the batch with different contents",
                s.entity.name(),
                s.legacy
            );
            self.rejects.push(Reject {
                file: s.file.to_string(),
                line: s.line,
                legacy_id: Some(s.legacy),
                entity: Some(s.entity.name()),
                field: Some("id_legacy".into()),
                reason: r::DUPLICATE_LEGACY_ID,
                message,
                raw: s.raw.to_string(),
            });
            return;
        }
        self.per[rank].lette += 1;
        self.check(s, hash, true);
    }

    fn check(&mut self, s: Staged, hash: [u8; 32], may_wait: bool) {
        let rank = spec::rank(s.entity);
        match validate::check_one(&s, self.known, &self.index, &mut self.warnings) {
            Ok(valid) => self.accept(s, hash, valid),
            Err(rej) if may_wait && rej.reason == r::PARENT_MISSING => {
                self.index.set(rank, &s.legacy, |slot| {
                    slot.seen = Some(short(&hash));
                    slot.state = State::Deferred;
                });
                self.deferred.push((s, hash));
            }
            Err(rej) => {
                self.index.set(rank, &s.legacy, |slot| {
                    slot.seen = Some(short(&hash));
                    slot.state = State::Rejected;
                });
                self.per[rank].scartate += 1;
                self.rejects.push(rej);
            }
        }
    }

    fn accept(&mut self, s: Staged, hash: [u8; 32], valid: validate::Valid) {
        let rank = spec::rank(s.entity);
        let table = ORDER[rank].table;
        let seen = short(&hash);
        let stored = self
            .index
            .get(rank, &s.legacy)
            .and_then(|slot| slot.stored.map(|h| (slot.id, h)));
        let id = match stored {
            Some((id, h)) if h == seen => {
                self.per[rank].invariate += 1;
                id
            }
            Some((id, _)) => {
                self.per[rank].aggiornate += 1;
                self.pending.update(
                    rank,
                    Changed {
                        id,
                        legacy: s.legacy.clone(),
                        values: valid.values,
                        hash: hex::encode(hash),
                    },
                );
                id
            }
            None => {
                let same = valid
                    .person_key
                    .as_ref()
                    .and_then(|k| self.persons.get(k).cloned());
                let id = match same {
                    Some((id, first)) => {
                        self.per[rank].unificate += 1;
                        let with = match first {
                            Some(legacy) => format!("legacy id {legacy}"),
                            None => "a person already in SISO".into(),
                        };
                        self.warnings.push(Warning {
                            file: s.file.to_string(),
                            line: s.line,
                            legacy_id: s.legacy.clone(),
                            entity: "persona",
                            code: r::PERSONA_MERGED,
                            message: format!(
                                "same codice fiscale and birth date as {with}: linked to that person, not duplicated"
                            ),
                        });
                        id
                    }
                    None => {
                        let id = self.ids.take(rank);
                        if let Some(key) = valid.person_key {
                            self.persons.insert(key, (id, Some(s.legacy.clone())));
                        }
                        self.per[rank].inserite += 1;
                        self.pending.insert(
                            rank,
                            NewRow {
                                id,
                                values: valid.values,
                            },
                        );
                        id
                    }
                };
                self.pending.link(Link {
                    table,
                    legacy: s.legacy.clone(),
                    id,
                    hash: hex::encode(hash),
                });
                id
            }
        };
        self.index.set(rank, &s.legacy, |slot| {
            slot.id = id;
            slot.seen = Some(seen);
            slot.state = State::Accepted;
        });
    }

    /// Records waiting for a parent, per table: ids to reserve before [`Engine::retry_waiting`].
    pub fn waiting(&self) -> Vec<i64> {
        let mut n = vec![0; ORDER.len()];
        for (s, _) in &self.deferred {
            n[spec::rank(s.entity)] += 1;
        }
        n
    }

    /// Every file is read: the records that waited for a parent are checked
    /// again, parents first; those still without one are rejected.
    pub fn retry_waiting(&mut self) {
        let mut waiting = std::mem::take(&mut self.deferred);
        waiting.sort_by_key(|(s, _)| spec::rank(s.entity));
        for (s, hash) in waiting {
            self.check(s, hash, false);
        }
    }

    /// Per entity, in name order, those the batch met.
    pub fn summary(&self) -> Vec<EntitySummary> {
        let mut out: Vec<EntitySummary> = self
            .per
            .iter()
            .filter(|s| s.lette > 0 || s.scartate > 0)
            .cloned()
            .collect();
        out.sort_by_key(|s| s.entita);
        out
    }

    /// Records that passed every rule.
    pub fn valid(&self) -> u64 {
        self.per
            .iter()
            .map(|s| s.inserite + s.aggiornate + s.invariate + s.unificate)
            .sum()
    }

    /// Whether the batch changes anything in the database.
    pub fn changes(&self) -> bool {
        self.per
            .iter()
            .any(|s| s.inserite + s.aggiornate + s.unificate > 0)
    }
}
