//! The importer's memory while a batch streams through: for every legacy id
//! of the source, the row it is (or will be) and a short hash of what the
//! source said, so that repeated records, changed records, references and
//! persons met twice are decided as each record arrives. Records themselves
//! are not kept: an accepted record goes to [`Pending`] and from there to
//! the database; a rejected one to the rejects list.
//!
//! Leaf entities (those no record refers to, see [`spec::is_leaf`]:
//! deliveries, state changes, diary notes, household members and SINA
//! assessments; about half the rows of a big export) keep no slot when
//! they are new: a Bloom filter says which legacy ids the crosswalk may
//! hold, and those it may hold (about 1% of new ones, and every one already
//! stored) wait in small groups until the crosswalk itself is asked
//! ([`Engine::settle`]). Only those get a slot (and those rejected or
//! waiting), so that a repeat is still caught; a stored row met unchanged
//! (every one, on a re-import) gets a bit in a set of row ids instead. So
//! the memory of an import grows with persons, cases and interventions,
//! not with deliveries.
//!
//! A record whose parent has not been read yet (a flat export listing an
//! intervention before its case, say) waits until every file has been
//! read, then is checked again, parents first.

use std::hash::BuildHasher as _;

use hashbrown::HashTable;
use time::Date;

use super::EntitySummary;
use super::reasons as r;
use super::rejects::Rejects;
use super::spec::{self, Db, ORDER};
use super::validate::{self, Known, Lookup, Parent, Reject, Staged, Warning};
use super::write::{Changed, Ids, Link, NewRow, Pending};
use crate::importers::fields::Entity;

/// A short content hash: the first 8 bytes of the SHA-256, never 0 or 1.
/// It is only compared with another version of the same record (same
/// legacy id), so two different contents pass for equal with a chance of
/// 2^-64 per comparison; the crosswalk keeps the whole hash.
type Short = u64;

/// "No hash" in [`Slot::hash`]: neither met nor stored.
const NONE: Short = 0;
/// A stored row without a hash (restored from a bundle): never "unchanged".
const NO_HASH: Short = 1;

fn short(h: &[u8; 32]) -> Short {
    let v = u64::from_le_bytes(h[..8].try_into().expect("8 of 32 bytes"));
    if v <= NO_HASH { v + 2 } else { v }
}

/// The short form of the crosswalk's hash (hex); [`NO_HASH`] without one.
fn short_of_hex(hash: Option<&str>) -> Short {
    let mut h = [0u8; 32];
    match hash.map(|x| hex::decode_to_slice(x, &mut h)) {
        Some(Ok(())) => short(&h),
        _ => NO_HASH,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Imported by an earlier batch, not met in this one (yet).
    Stored = 0,
    Accepted = 1,
    Rejected = 2,
    /// Waiting for its parent (see the module docs).
    Deferred = 3,
}

/// One legacy id: 24 bytes, its text kept once in the table's arena.
#[derive(Clone, Copy)]
struct Slot {
    /// Where the legacy id's text starts in the arena (low 56 bits), the
    /// [`State`] (next 4 bits), whether this batch met the record ([`MET`])
    /// and whether an earlier batch stored it (top bit).
    at: u64,
    /// Row id: stored, or given to the record accepted in this batch.
    id: i64,
    /// What this batch said, once met; before that, the crosswalk's hash
    /// of a stored row ([`NONE`] for a legacy id neither met nor stored).
    /// A stored row needs its hash only until it is met: then it is
    /// decided, or (waiting for a parent) carries it in the deferred list.
    hash: Short,
}

const AT_BITS: u32 = 56;
const AT_MASK: u64 = (1 << AT_BITS) - 1;
const STATE_MASK: u64 = 0xf << AT_BITS;
const MET: u64 = 1 << 62;
const HAS_STORED: u64 = 1 << 63;

impl Slot {
    fn offset(&self) -> u64 {
        self.at & AT_MASK
    }
    fn state(&self) -> State {
        match (self.at & STATE_MASK) >> AT_BITS {
            0 => State::Stored,
            1 => State::Accepted,
            2 => State::Rejected,
            _ => State::Deferred,
        }
    }
    fn set_state(&mut self, state: State) {
        self.at = (self.at & !STATE_MASK) | ((state as u64) << AT_BITS);
    }
    fn has_stored(&self) -> bool {
        self.at & HAS_STORED != 0
    }
    /// This batch met the record, and it said this.
    fn meet(&mut self, seen: Short) {
        self.hash = seen;
        self.at |= MET;
    }
    /// What this batch said of the record, if it met it.
    fn seen(&self) -> Option<Short> {
        (self.at & MET != 0).then_some(self.hash)
    }
    /// The crosswalk's hash of a stored row not yet met.
    fn stored_hash(&self) -> Option<Short> {
        (self.has_stored() && self.at & MET == 0).then_some(self.hash)
    }
}

/// The legacy ids of one table: their texts one after another in chunks
/// (a varint length, then the bytes), their slots in a vector, and a hash
/// table of slot numbers (4 bytes each, so that its spare room, up to half
/// of it, costs little). About 40 bytes per id, against about 150 for a
/// map of boxed strings.
#[derive(Default)]
struct Table {
    text: Arena,
    slots: Vec<Slot>,
    index: HashTable<u32>,
}

/// Texts in chunks of [`CHUNK`] bytes, so that growing never copies what
/// is there nor holds twice its size. A text is never split; a longer one
/// has a chunk of its own. A text's place: chunk number << 32 | offset.
#[derive(Default)]
struct Arena(Vec<Vec<u8>>);

const CHUNK: usize = 1 << 20;

impl Arena {
    fn get(&self, at: u64) -> &[u8] {
        let chunk = &self.0[(at >> 32) as usize];
        let mut i = (at & 0xffff_ffff) as usize;
        let mut len = 0usize;
        let mut shift = 0;
        loop {
            let b = chunk[i];
            i += 1;
            len |= usize::from(b & 0x7f) << shift;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        &chunk[i..i + len]
    }

    fn push(&mut self, s: &[u8]) -> u64 {
        let need = s.len() + 5;
        if self.0.last().is_none_or(|c| c.capacity() - c.len() < need) {
            self.0.push(Vec::with_capacity(need.max(CHUNK)));
        }
        let n = self.0.len() - 1;
        let chunk = &mut self.0[n];
        let at = ((n as u64) << 32) | chunk.len() as u64;
        assert!(
            at <= AT_MASK && s.len() < 1 << 32,
            "legacy ids beyond 2^56 bytes"
        );
        let mut len = s.len();
        while len >= 0x80 {
            chunk.push((len as u8) | 0x80);
            len >>= 7;
        }
        chunk.push(len as u8);
        chunk.extend_from_slice(s);
        at
    }
}

/// Legacy ids that have a crosswalk line (stored before the batch, or
/// inserted by it without asking the crosswalk), as Bloom filters of about
/// 10 bits per id: "no" is certain; "maybe" is wrong for about 1% of the
/// ids not there, and is settled by asking the crosswalk. A full filter is
/// followed by a bigger one.
#[derive(Default)]
struct Filters(Vec<Filter>);

struct Filter {
    bloom: fastbloom::BloomFilter,
    size: usize,
    room: usize,
}

/// Ids a filter is made for, at least.
const FILTER_MIN: usize = 1 << 16;
/// The rate of wrong "maybe"s of a filter holding what it was made for.
const FALSE_POS: f64 = 0.01;
/// Fixed, so that which records wait for the crosswalk (and so the order
/// of the rejects) is the same in every run on the same files.
const FILTER_SEED: u128 = 0x5153_4f5f_6c65_6761_6379_5f69_6473_0001;

impl Filter {
    fn new(size: usize) -> Filter {
        let size = size.max(FILTER_MIN);
        Filter {
            bloom: fastbloom::BloomFilter::with_false_pos(FALSE_POS)
                .seed(&FILTER_SEED)
                .expected_items(size),
            size,
            room: size,
        }
    }
}

impl Filters {
    /// Room for `n` more ids without a rate of wrong answers above [`FALSE_POS`].
    fn reserve(&mut self, n: usize) {
        if self.0.last().is_none_or(|f| f.room < n) {
            self.0.push(Filter::new(n));
        }
    }
    fn insert(&mut self, legacy: &str) {
        match self.0.last() {
            Some(f) if f.room > 0 => {}
            last => {
                let size = last.map_or(FILTER_MIN, |f| f.size * 2);
                self.0.push(Filter::new(size));
            }
        }
        let f = self.0.last_mut().expect("a filter with room");
        f.bloom.insert(legacy);
        f.room -= 1;
    }
    /// Whether the crosswalk may hold this legacy id.
    fn may_hold(&self, legacy: &str) -> bool {
        self.0.iter().any(|f| f.bloom.contains(legacy))
    }
}

/// Legacy id -> slot, one table per entity in [`ORDER`]; for leaf
/// entities, filters instead (see the module docs).
pub struct Index {
    tables: Vec<Table>,
    filters: Vec<Filters>,
    /// Leaf rows stored by an earlier batch that this batch met unchanged,
    /// by row id (a re-import meets millions: a bit each, not a slot). A
    /// repeat asks the crosswalk again, and finds its row here.
    unchanged: Vec<roaring::RoaringTreemap>,
    hasher: foldhash::fast::RandomState,
}

/// Hash maps with a fast hasher: the importer looks legacy ids up several
/// times per record (SipHash was a tenth of the CPU time).
type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

impl Default for Index {
    fn default() -> Index {
        Index {
            tables: ORDER.iter().map(|_| Table::default()).collect(),
            filters: ORDER.iter().map(|_| Filters::default()).collect(),
            unchanged: ORDER.iter().map(|_| Default::default()).collect(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

impl Index {
    /// A legacy id imported before: its row and the crosswalk's hash (hex).
    pub fn stored(&mut self, entity: Entity, legacy: &str, id: i64, hash: Option<&str>) {
        let rank = spec::rank(entity);
        if spec::is_leaf(entity) {
            self.filters[rank].insert(legacy);
            return;
        }
        self.set(rank, legacy, |slot| {
            slot.id = id;
            slot.hash = short_of_hex(hash);
            slot.set_state(State::Stored);
            slot.at |= HAS_STORED;
        });
    }

    /// Room for the `n` legacy ids of the entity that the files bring
    /// (known from them), so that the table is sized once instead of
    /// doubling as it fills. Those stored before are taken to be among
    /// them: a re-import of the same files needs no room at all.
    pub fn reserve(&mut self, entity: Entity, n: usize) {
        if spec::is_leaf(entity) {
            self.filters[spec::rank(entity)].reserve(n);
            return;
        }
        let hasher = &self.hasher;
        let Table { text, slots, index } = &mut self.tables[spec::rank(entity)];
        let n = n.saturating_sub(slots.len());
        slots.reserve_exact(n);
        index.reserve(n, |&i| {
            hasher.hash_one(text.get(slots[i as usize].offset()))
        });
    }

    fn get(&self, rank: usize, legacy: &str) -> Option<&Slot> {
        let t = &self.tables[rank];
        let hash = self.hasher.hash_one(legacy.as_bytes());
        t.index
            .find(hash, |&i| {
                t.text.get(t.slots[i as usize].offset()) == legacy.as_bytes()
            })
            .map(|&i| &t.slots[i as usize])
    }

    /// What this batch said of the legacy id, if it met it.
    fn seen(&self, rank: usize, legacy: &str) -> Option<Short> {
        self.get(rank, legacy).and_then(Slot::seen)
    }

    /// The text of a legacy id of the table.
    fn legacy(&self, rank: usize, at: u64) -> &str {
        std::str::from_utf8(self.tables[rank].text.get(at)).expect("stored from a str")
    }

    /// Changes the legacy id's slot, made (rejected, no row) if new; returns
    /// the slot's number.
    fn set(&mut self, rank: usize, legacy: &str, f: impl FnOnce(&mut Slot)) -> u32 {
        let hasher = &self.hasher;
        let Table { text, slots, index } = &mut self.tables[rank];
        let hash = hasher.hash_one(legacy.as_bytes());
        if let Some(&i) = index.find(hash, |&i| {
            text.get(slots[i as usize].offset()) == legacy.as_bytes()
        }) {
            f(&mut slots[i as usize]);
            return i;
        }
        let at = text.push(legacy.as_bytes());
        let mut slot = Slot {
            at,
            id: 0,
            hash: NONE,
        };
        slot.set_state(State::Rejected);
        f(&mut slot);
        let i = u32::try_from(slots.len())
            .ok()
            .filter(|&i| i < BEFORE)
            .expect("fewer than 2^31 legacy ids per table");
        slots.push(slot);
        index.insert_unique(hash, i, |&i| {
            hasher.hash_one(text.get(slots[i as usize].offset()))
        });
        i
    }
}

impl Lookup for Index {
    fn parent(&self, entity: Entity, legacy: &str) -> Parent {
        debug_assert!(!spec::is_leaf(entity), "a leaf entity is nobody's parent");
        match self.get(spec::rank(entity), legacy) {
            Some(s) if matches!(s.state(), State::Stored | State::Accepted) => Parent::Id(s.id),
            Some(s) if s.state() == State::Rejected => Parent::Rejected,
            _ => Parent::Unknown,
        }
    }
}

/// A codice fiscale key in 16 bytes (a CF key is 16 characters, a
/// temporary one 11; a longer one, which validation never lets through, by
/// its SHA-256).
type CfKey = [u8; 16];

fn cf_key(cf: &str) -> CfKey {
    let mut k = [0u8; 16];
    if cf.len() <= 16 {
        k[..cf.len()].copy_from_slice(cf.as_bytes());
    } else {
        use sha2::Digest as _;
        k.copy_from_slice(&sha2::Sha256::digest(cf.as_bytes())[..16]);
    }
    k
}

/// Who a person is: the number of its slot in the persona table (met in
/// this batch: the slot has its row id and legacy id) or, with this bit,
/// its place in [`Persons::before`].
type Who = u32;
const BEFORE: Who = 1 << 31;

/// Persons with a codice fiscale key and a birth date, in 24 bytes each.
/// The same key and birth date is the same person; the same key with
/// another birth date is someone else, who shares the code (not merged,
/// and reported).
#[derive(Default)]
pub struct Persons {
    /// The first person with each key.
    first: Map<CfKey, (Date, Who)>,
    /// Others with a key already taken, born on another day (rare).
    others: Map<(CfKey, Date), Who>,
    /// Row ids of the persons stored before this batch.
    before: Vec<i64>,
}

impl Persons {
    /// A person stored before this batch.
    pub fn stored(&mut self, cf: &str, born: Date, id: i64) {
        let who = u32::try_from(self.before.len())
            .ok()
            .filter(|&n| n < BEFORE)
            .expect("fewer than 2^31 persons");
        self.before.push(id);
        self.insert(cf_key(cf), born, BEFORE | who);
    }

    fn insert(&mut self, key: CfKey, born: Date, who: Who) {
        match self.first.entry(key) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert((born, who));
            }
            std::collections::hash_map::Entry::Occupied(e) if e.get().0 != born => {
                self.others.entry((key, born)).or_insert(who);
            }
            std::collections::hash_map::Entry::Occupied(_) => {}
        }
    }

    /// The person with this key and birth date.
    fn same(&self, key: &CfKey, born: Date) -> Option<Who> {
        match self.first.get(key) {
            Some(&(b, who)) if b == born => Some(who),
            Some(_) => self.others.get(&(*key, born)).copied(),
            None => None,
        }
    }

    /// Someone else with this key, born on another day.
    fn other(&self, key: &CfKey, born: Date) -> Option<Who> {
        self.first
            .get(key)
            .filter(|(b, _)| *b != born)
            .map(|&(_, who)| who)
    }
}

/// Case numbers of the titolare (unique, `cartella_titolare_numero_key`):
/// numero -> the cartella's row id, those stored and those this batch gives.
#[derive(Default)]
pub struct Numeri {
    text: Arena,
    slots: HashTable<(u64, i64)>,
    hasher: foldhash::fast::RandomState,
}

impl Numeri {
    /// The cartella that has this number.
    fn get(&self, numero: &str) -> Option<i64> {
        let hash = self.hasher.hash_one(numero.as_bytes());
        self.slots
            .find(hash, |(at, _)| self.text.get(*at) == numero.as_bytes())
            .map(|(_, id)| *id)
    }

    /// Cartella `id` has this number (kept if the number is already known).
    pub fn insert(&mut self, numero: &str, id: i64) {
        let hash = self.hasher.hash_one(numero.as_bytes());
        let Numeri {
            text,
            slots,
            hasher,
        } = self;
        if slots
            .find(hash, |(at, _)| text.get(*at) == numero.as_bytes())
            .is_none()
        {
            let at = text.push(numero.as_bytes());
            slots.insert_unique(hash, (at, id), |(at, _)| hasher.hash_one(text.get(*at)));
        }
    }
}

/// Where `numero` is among cartella's columns.
fn numero_column() -> usize {
    spec::of(Entity::Cartella)
        .columns
        .iter()
        .position(|(c, _)| *c == "numero")
        .expect("cartella has a numero column")
}

/// What the crosswalk holds for a leaf record's legacy id.
#[derive(Clone, Copy)]
enum Crosswalk {
    /// Nothing: the filter is sure of it, or the crosswalk was asked.
    Absent { asked: bool },
    /// A row stored by an earlier batch, with the crosswalk's hash.
    Stored(i64, Short),
}

/// A crosswalk line, as [`Engine::settle`] is told of it.
pub struct Crosswalked {
    pub id: i64,
    pub hash: Option<String>,
    pub batch: Option<i64>,
}

/// Leaf records that wait for the crosswalk at most: then they are settled.
const UNSURE_MAX: usize = 1000;

/// Decides each record as it arrives; see the module docs.
pub struct Engine<'k> {
    known: &'k Known,
    index: Index,
    persons: Persons,
    numeri: Numeri,
    pub pending: Pending,
    pub ids: Ids,
    per: Vec<EntitySummary>,
    pub rejects: Rejects,
    pub warnings: Vec<Warning>,
    deferred: Vec<(Staged, [u8; 32], Option<Crosswalk>)>,
    /// Leaf records whose legacy id the crosswalk may hold: waiting for
    /// [`Engine::settle`], in the order they came.
    unsure: Vec<(Staged, [u8; 32])>,
    scratch: Vec<u8>,
}

impl<'k> Engine<'k> {
    pub fn new(known: &'k Known, index: Index, persons: Persons, numeri: Numeri) -> Engine<'k> {
        Engine {
            known,
            index,
            persons,
            numeri,
            pending: Pending::default(),
            ids: Ids::default(),
            per: ORDER
                .iter()
                .map(|sp| EntitySummary {
                    entita: sp.entity.name(),
                    ..Default::default()
                })
                .collect(),
            rejects: Rejects::default(),
            warnings: Vec::new(),
            deferred: Vec::new(),
            unsure: Vec::new(),
            scratch: Vec::with_capacity(1024),
        }
    }

    /// Room for the `n` legacy ids of the entity the files bring (see
    /// [`Index::reserve`]).
    pub fn reserve(&mut self, entity: Entity, n: usize) {
        self.index.reserve(entity, n);
        if entity == Entity::Persona {
            let more = n.saturating_sub(self.persons.first.len());
            self.persons.first.reserve(more);
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
                if let Some((entity, legacy)) = mark.filter(|(e, _)| !spec::is_leaf(*e)) {
                    self.index.set(spec::rank(entity), &legacy, |s| {
                        s.set_state(State::Rejected)
                    });
                }
                self.rejects.push(rej);
            }
        }
    }

    fn record(&mut self, s: Staged) {
        let rank = spec::rank(s.entity);
        let hash = validate::content_hash(&s, &mut self.scratch);
        let leaf = spec::is_leaf(s.entity);
        if let Some(seen) = self.index.seen(rank, &s.legacy) {
            return self.repeat(s, seen == short(&hash));
        }
        if leaf && self.index.filters[rank].may_hold(&s.legacy) {
            self.unsure.push((s, hash));
            return;
        }
        self.per[rank].lette += 1;
        let crosswalk = leaf.then_some(Crosswalk::Absent { asked: false });
        self.check(s, hash, true, crosswalk);
    }

    /// A legacy id met before in this batch: the same record again (flat
    /// exports repeat the person on every row of their cases) is passed
    /// over; different contents are a conflict. The id then counts as
    /// rejected: which of its versions a later child (or the child on the
    /// same flat row) belongs to is unknown, and attaching it to the first
    /// could put one person's case under another's. Children met before the
    /// conflict stay with the version they came with.
    fn repeat(&mut self, s: Staged, same: bool) {
        if same {
            return;
        }
        let rank = spec::rank(s.entity);
        if !spec::is_leaf(s.entity) {
            self.index
                .set(rank, &s.legacy, |slot| slot.set_state(State::Rejected));
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
    }

    /// Leaf records waiting for the crosswalk: enough to ask it.
    pub fn unsure_full(&self) -> bool {
        self.unsure.len() >= UNSURE_MAX
    }

    /// The legacy ids to ask the crosswalk about, per table in [`ORDER`]
    /// (each once), and how many records wait per table.
    pub fn unsure(&self) -> (Vec<Vec<String>>, Vec<i64>) {
        let mut ids: Vec<Vec<String>> = ORDER.iter().map(|_| Vec::new()).collect();
        let mut n = vec![0; ORDER.len()];
        for (s, _) in &self.unsure {
            let rank = spec::rank(s.entity);
            ids[rank].push(s.legacy.clone());
            n[rank] += 1;
        }
        for v in &mut ids {
            v.sort_unstable();
            v.dedup();
        }
        (ids, n)
    }

    /// Decides the leaf records that waited, with what the crosswalk holds
    /// for their legacy ids (per table in [`ORDER`]; written up to now, so
    /// everything this batch accepted must have been written first).
    pub fn settle(&mut self, found: &[std::collections::HashMap<String, Crosswalked>], batch: i64) {
        for (s, hash) in std::mem::take(&mut self.unsure) {
            let rank = spec::rank(s.entity);
            if let Some(seen) = self.index.seen(rank, &s.legacy) {
                self.repeat(s, seen == short(&hash));
                continue;
            }
            let crosswalk = match found[rank].get(&s.legacy) {
                // Inserted by this batch, from an earlier line.
                Some(c) if c.batch == Some(batch) => {
                    let same = c.hash.as_deref() == Some(hex::encode(hash).as_str());
                    self.repeat(s, same);
                    continue;
                }
                Some(c) => {
                    let stored = short_of_hex(c.hash.as_deref());
                    if self.index.unchanged[rank].contains(c.id as u64) {
                        // Met unchanged earlier in this batch.
                        self.repeat(s, short(&hash) == stored);
                        continue;
                    }
                    Crosswalk::Stored(c.id, stored)
                }
                None => Crosswalk::Absent { asked: true },
            };
            self.per[rank].lette += 1;
            self.check(s, hash, true, Some(crosswalk));
        }
    }

    /// `crosswalk`: what the crosswalk holds, for a leaf record (others
    /// find it in the index).
    fn check(&mut self, s: Staged, hash: [u8; 32], may_wait: bool, crosswalk: Option<Crosswalk>) {
        let rank = spec::rank(s.entity);
        let mut checked = validate::check_one(&s, self.known, &self.index, &mut self.warnings);
        if let Some(rej) = checked.as_ref().ok().and_then(|valid| {
            self.numero_taken(&s, valid)
                .or_else(|| self.persona_duplicata(&s, valid))
        }) {
            checked = Err(rej);
        }
        match checked {
            Ok(valid) => self.accept(s, hash, valid, crosswalk),
            Err(rej) if may_wait && rej.reason == r::PARENT_MISSING => {
                // Meeting the record takes the place of the stored row's
                // hash in the slot: the record carries it while it waits.
                let mut stored = None;
                self.index.set(rank, &s.legacy, |slot| {
                    stored = slot.stored_hash().map(|h| Crosswalk::Stored(slot.id, h));
                    slot.meet(short(&hash));
                    slot.set_state(State::Deferred);
                });
                self.deferred.push((s, hash, crosswalk.or(stored)));
            }
            Err(rej) => {
                self.index.set(rank, &s.legacy, |slot| {
                    slot.meet(short(&hash));
                    slot.set_state(State::Rejected);
                });
                self.per[rank].scartate += 1;
                self.rejects.push(rej);
            }
        }
    }

    /// A cartella whose number another cartella of the titolare has: the
    /// database would refuse the whole batch, so the record is refused here.
    fn numero_taken(&self, s: &Staged, valid: &validate::Valid) -> Option<Reject> {
        if s.entity != Entity::Cartella {
            return None;
        }
        let Db::Text(numero) = &valid.values[numero_column()] else {
            return None;
        };
        let other = self.numeri.get(numero)?;
        let own = self
            .index
            .get(spec::rank(Entity::Cartella), &s.legacy)
            .filter(|slot| {
                matches!(slot.state(), State::Stored | State::Accepted) || slot.has_stored()
            })
            .map(|slot| slot.id);
        if own == Some(other) {
            return None;
        }
        let hint = if *numero == s.legacy {
            "; this source gives no case number, so the legacy id is used as one: map a column to \
             the field numero with numbers that are unique (see `siso inspect FILE --suggest-mapping`)"
        } else {
            ": give each case its own number"
        };
        Some(validate::reject(
            s,
            Some("numero"),
            r::CARTELLA_NUMERO_TAKEN,
            format!(
                "another cartella of this titolare already has the number {numero} (row {other}){hint}"
            ),
        ))
    }

    /// A stored person whose update gives it the codice fiscale key and
    /// birth date of another person (stored, or new in this batch): two
    /// rows would be the same person. A new person is merged instead
    /// (`PERSONA_MERGED`), but two stored persons, each with its own cases,
    /// are not merged by an import.
    fn persona_duplicata(&self, s: &Staged, valid: &validate::Valid) -> Option<Reject> {
        if s.entity != Entity::Persona {
            return None;
        }
        let (cf, born) = valid.person_key.as_ref()?;
        let own = self
            .index
            .get(spec::rank(Entity::Persona), &s.legacy)
            .filter(|slot| slot.has_stored())?
            .id;
        let who = self.persons.same(&cf_key(cf), *born)?;
        if self.who(who).0 == own {
            return None;
        }
        Some(validate::reject(
            s,
            Some("codice_fiscale"),
            r::PERSONA_DUPLICATA,
            format!(
                "this update gives persona {own} the codice fiscale and birth date of {}: the same person \
                 would be in SISO twice. If they are one person, undo the batches that stored them \
                 (`siso import undo`) and import the corrected exports again, so that the two ids become \
                 one person; otherwise correct the codice fiscale or the birth date",
                self.person(who)
            ),
        ))
    }

    fn accept(
        &mut self,
        s: Staged,
        hash: [u8; 32],
        valid: validate::Valid,
        crosswalk: Option<Crosswalk>,
    ) {
        let rank = spec::rank(s.entity);
        let table = ORDER[rank].table;
        let seen = short(&hash);
        let mut new_person = None;
        let numero = match (s.entity, valid.values.get(numero_column())) {
            (Entity::Cartella, Some(Db::Text(n))) => Some(n.clone()),
            _ => None,
        };
        let stored = match crosswalk {
            Some(Crosswalk::Stored(id, h)) => Some((id, h)),
            Some(Crosswalk::Absent { .. }) => None,
            None => self
                .index
                .get(rank, &s.legacy)
                .and_then(|slot| Some((slot.id, slot.stored_hash()?))),
        };
        let unchanged = matches!(stored, Some((_, h)) if h == seen);
        let id = match stored {
            Some((id, h)) if h == seen => {
                self.per[rank].invariate += 1;
                id
            }
            Some((id, _)) => {
                self.per[rank].aggiornate += 1;
                // A person updated to a new codice fiscale or birth date is
                // known by them from now on in this batch: a later record
                // with the same ones is merged into it, or, if stored too,
                // refused (see persona_duplicata).
                new_person = valid
                    .person_key
                    .as_ref()
                    .map(|(cf, born)| (cf_key(cf), *born));
                let keep = ORDER[rank]
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, (column, _))| {
                        !s.fields.contains_key(spec::source_field(s.entity, column))
                    })
                    .fold(0u64, |keep, (n, _)| keep | 1 << n);
                self.pending.update(
                    rank,
                    Changed {
                        id,
                        legacy: s.legacy.clone(),
                        values: valid.values,
                        hash: hex::encode(hash),
                        keep,
                    },
                );
                id
            }
            None => {
                let key = valid
                    .person_key
                    .as_ref()
                    .map(|(cf, born)| (cf_key(cf), *born));
                let same = key.and_then(|(k, born)| self.persons.same(&k, born));
                let id = match same {
                    Some(who) => {
                        self.per[rank].unificate += 1;
                        let id = self.who(who).0;
                        let with = self.person(who);
                        self.warn_person(
                            &s,
                            r::PERSONA_MERGED,
                            format!(
                                "same codice fiscale and birth date as {with}: linked to that person, not duplicated"
                            ),
                        );
                        id
                    }
                    None => {
                        let id = self.ids.take(rank);
                        if let Some((k, born)) = key {
                            if let Some(other) = self.persons.other(&k, born) {
                                let who = self.person(other);
                                self.warn_person(
                                    &s,
                                    r::CF_SHARED,
                                    format!(
                                        "{who} has the same codice fiscale and another birth date: stored as a \
                                         different person, not merged; check which code or birth date is right"
                                    ),
                                );
                            }
                            new_person = Some((k, born));
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
        if let Some(Crosswalk::Absent { asked: false }) = crosswalk {
            // A new leaf the filter did not know: the filter learns it,
            // and a repeat will ask the crosswalk.
            self.index.filters[rank].insert(&s.legacy);
            return;
        }
        if spec::is_leaf(s.entity) && unchanged {
            // A stored leaf met unchanged (a parent, even one that waited
            // and carries its stored hash, keeps its slot: its children
            // look for it there).
            self.index.unchanged[rank].insert(id as u64);
            return;
        }
        let slot = self.index.set(rank, &s.legacy, |slot| {
            slot.id = id;
            slot.meet(seen);
            slot.set_state(State::Accepted);
        });
        if let Some((k, born)) = new_person {
            self.persons.insert(k, born, slot);
        }
        if let Some(numero) = numero {
            self.numeri.insert(&numero, id);
        }
    }

    /// A person's row id, and the legacy id it came with in this batch.
    fn who(&self, who: Who) -> (i64, Option<&str>) {
        if who & BEFORE != 0 {
            return (self.persons.before[(who & !BEFORE) as usize], None);
        }
        let rank = spec::rank(Entity::Persona);
        let slot = &self.index.tables[rank].slots[who as usize];
        (slot.id, Some(self.index.legacy(rank, slot.offset())))
    }

    /// Another person, for a message: the legacy id it came with in this
    /// batch, or its row when it was in SISO before.
    fn person(&self, who: Who) -> String {
        match self.who(who) {
            (id, None) => format!("a person already in SISO (persona {id})"),
            (_, Some(legacy)) => format!("legacy id {legacy}"),
        }
    }

    fn warn_person(&mut self, s: &Staged, code: &'static str, message: String) {
        self.warnings.push(Warning {
            file: s.file.to_string(),
            line: s.line,
            legacy_id: s.legacy.clone(),
            entity: "persona",
            code,
            message,
        });
    }

    /// Every record is decided: what was kept to decide them goes, before
    /// the indexes are built again and the statistics refreshed (each of
    /// which needs memory of its own).
    pub fn forget(&mut self) {
        self.index = Index::default();
        self.persons = Persons::default();
        self.numeri = Numeri::default();
    }

    /// Records waiting for a parent, per table: ids to reserve before [`Engine::retry_waiting`].
    pub fn waiting(&self) -> Vec<i64> {
        let mut n = vec![0; ORDER.len()];
        for (s, ..) in &self.deferred {
            n[spec::rank(s.entity)] += 1;
        }
        n
    }

    /// Every file is read: the records that waited for a parent are checked
    /// again, parents first; those still without one are rejected.
    pub fn retry_waiting(&mut self) {
        let mut waiting = std::mem::take(&mut self.deferred);
        waiting.sort_by_key(|(s, ..)| spec::rank(s.entity));
        for (s, hash, crosswalk) in waiting {
            self.check(s, hash, false, crosswalk);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arena_gives_back_every_text_short_long_and_across_chunks() {
        let mut arena = Arena::default();
        let texts: Vec<String> = (0..3000)
            .map(|i| match i % 3 {
                0 => format!("E{i}"),
                1 => "x".repeat(200 + i), // a two-byte length
                _ => "é".repeat(if i == 2 { CHUNK } else { 5 }), // one bigger than a chunk
            })
            .collect();
        let at: Vec<u64> = texts.iter().map(|t| arena.push(t.as_bytes())).collect();
        assert!(arena.0.len() > 2, "the texts span several chunks");
        for (t, at) in texts.iter().zip(at) {
            assert_eq!(arena.get(at), t.as_bytes());
        }
    }

    #[test]
    fn slots_keep_their_state_row_and_hashes_as_the_index_grows() {
        let mut index = Index::default();
        index.stored(Entity::Cartella, "C-stored", 7, Some(&"ab".repeat(32)));
        index.stored(Entity::Cartella, "C-bundle", 8, None);
        let rank = spec::rank(Entity::Cartella);
        for i in 0..50_000i64 {
            index.set(rank, &format!("C{i}"), |s| {
                s.id = i + 100;
                s.meet(short(&[i as u8; 32]));
                s.set_state(if i % 2 == 0 {
                    State::Accepted
                } else {
                    State::Deferred
                });
            });
        }
        for i in (0..50_000i64).step_by(997) {
            let slot = *index.get(rank, &format!("C{i}")).unwrap();
            assert_eq!(slot.id, i + 100);
            assert_eq!(slot.seen(), Some(short(&[i as u8; 32])));
            assert_eq!(slot.stored_hash(), None);
            let want = if i % 2 == 0 {
                State::Accepted
            } else {
                State::Deferred
            };
            assert!(slot.state() == want);
            assert!(!slot.has_stored());
            assert_eq!(index.legacy(rank, slot.offset()), format!("C{i}"));
        }
        let stored = *index.get(rank, "C-stored").unwrap();
        assert!(stored.state() == State::Stored && stored.has_stored());
        assert_eq!(stored.stored_hash(), Some(short(&[0xab; 32])));
        assert_eq!(stored.seen(), None);
        // A line refused before it is read (no record, so not met) keeps
        // what the crosswalk said, for a later line with the same id.
        index.set(rank, "C-stored", |s| s.set_state(State::Rejected));
        let stored = *index.get(rank, "C-stored").unwrap();
        assert!(stored.state() == State::Rejected && stored.has_stored());
        assert_eq!(stored.stored_hash(), Some(short(&[0xab; 32])));
        assert_eq!(stored.seen(), None);
        // Met: what the batch said takes its place.
        index.set(rank, "C-stored", |s| {
            s.meet(short(&[0xcd; 32]));
            s.set_state(State::Accepted)
        });
        let stored = *index.get(rank, "C-stored").unwrap();
        assert!(stored.state() == State::Accepted && stored.has_stored());
        assert_eq!(stored.stored_hash(), None);
        assert_eq!(stored.seen(), Some(short(&[0xcd; 32])));
        assert_eq!(stored.id, 7);
        let bundle = *index.get(rank, "C-bundle").unwrap();
        assert_eq!(bundle.stored_hash(), Some(NO_HASH));
        assert!(index.get(rank, "C50000").is_none());
        assert!(
            index.get(spec::rank(Entity::Persona), "C1").is_none(),
            "tables apart"
        );
        assert!(matches!(
            index.parent(Entity::Cartella, "C2"),
            Parent::Id(102)
        ));
        assert!(matches!(
            index.parent(Entity::Cartella, "C3"),
            Parent::Unknown
        ));
    }

    #[test]
    fn filters_never_forget_an_id_and_rarely_claim_one_as_they_grow() {
        let mut f = Filters::default();
        f.reserve(1000);
        // Far more than reserved: later filters take the rest.
        for i in 0..200_000 {
            f.insert(&format!("E{i}"));
        }
        assert!(f.0.len() > 1, "grown past the first filter");
        assert!((0..200_000).all(|i| f.may_hold(&format!("E{i}"))));
        let wrong = (0..100_000)
            .filter(|i| f.may_hold(&format!("X{i}")))
            .count();
        // Each filter says a wrong "maybe" about 1% of the time.
        assert!(
            wrong < 100_000 * f.0.len() * 2 / 100,
            "{wrong} wrong of 100,000"
        );
        // The leaf tables keep filters, not slots.
        let mut index = Index::default();
        index.stored(Entity::Erogazione, "E-stored", 9, None);
        let rank = spec::rank(Entity::Erogazione);
        assert!(index.filters[rank].may_hold("E-stored"));
        assert!(index.get(rank, "E-stored").is_none());
    }

    #[test]
    fn short_hashes_never_take_the_reserved_values() {
        assert_eq!(short(&[0; 32]), 2);
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(short(&one), 3);
        assert_ne!(short(&[0xff; 32]), NONE);
    }

    #[test]
    fn case_numbers_are_found_exactly() {
        let mut n = Numeri::default();
        n.insert("2024/7", 1);
        n.insert("2024/7", 2); // kept as first given
        n.insert("2024/70", 3);
        assert_eq!(n.get("2024/7"), Some(1));
        assert_eq!(n.get("2024/70"), Some(3));
        assert_eq!(n.get("2024/"), None);
    }
}
