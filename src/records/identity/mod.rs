//! One customer across channels: identifiers, their normalisation, and the
//! resolver that merges every source id whose identifiers connect.

#[cfg(feature = "csv")]
mod csv;
mod normalize;

use std::fmt;
use std::hash::BuildHasher;

use rayon::prelude::*;
use serde::Serialize;

#[cfg(feature = "csv")]
pub use csv::IdentifierCsv;
pub use normalize::IdentifierKind;

use super::CustomerId;
use crate::util::FastMap;
use crate::{Error, Result};

/// One identifier carried by a record of some source system: the source's
/// customer id, the identifier's kind and its value as written.
///
/// # Example
///
/// ```
/// use churnwise::records::{Identifier, IdentifierKind};
///
/// let id = Identifier::new("shop-17", IdentifierKind::Phone, "+86 138 0013 8000");
/// assert_eq!(id.source.to_string(), "shop-17");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Identifier {
    /// The customer id in the source system (a web-shop account number, a
    /// store's card holder id, a call-centre caller id, …).
    pub source: CustomerId,
    /// What kind of identifier this is.
    pub kind: IdentifierKind,
    /// The value as the source wrote it; normalised before matching.
    pub value: String,
}

impl Identifier {
    /// An identifier of `source`.
    pub fn new(
        source: impl Into<CustomerId>,
        kind: IdentifierKind,
        value: impl Into<String>,
    ) -> Self {
        Identifier {
            source: source.into(),
            kind,
            value: value.into(),
        }
    }
}

/// Merges source customer ids that share an identifier, transitively, into
/// one customer each.
///
/// Two source ids are the same customer when they carry the same identifier
/// of the same kind after normalisation; chains connect (the web account
/// shares a phone with the store card, which shares an e-mail with the
/// WeChat account: all four are one customer). Values are normalised per
/// kind first: phone numbers to international form (see
/// [`default_country`](Self::default_country)), e-mail addresses trimmed and
/// lower-cased, card numbers without spaces and dashes, other kinds trimmed.
/// A value that is not valid for its kind (a phone number with letters) is
/// reported and not used.
///
/// An identifier carried by more than [`max_shared`](Self::max_shared)
/// source ids (a shop's front-desk phone, a placeholder e-mail) would merge
/// strangers, so it is reported and not used for merging.
///
/// The result does not depend on the order of the input: each customer's
/// canonical id is the smallest of its source ids, and every list in the
/// [`IdentityMap`] is sorted. The work is linear in the number of
/// identifiers apart from one sort (union–find with path compression).
///
/// # Example
///
/// ```
/// use churnwise::records::{Identifier, IdentifierKind, IdentityResolver};
///
/// let ids = [
///     Identifier::new("web-1", IdentifierKind::Email, "Ann@Example.com"),
///     Identifier::new("store-9", IdentifierKind::Email, " ann@example.com"),
///     Identifier::new("store-9", IdentifierKind::Phone, "138 0013 8000"),
///     Identifier::new("wechat-4", IdentifierKind::Phone, "+86 138-0013-8000"),
///     Identifier::new("web-2", IdentifierKind::Email, "bo@example.com"),
/// ];
/// let map = IdentityResolver::new().default_country("86").resolve(&ids)?;
/// assert_eq!(map.customers(), 2); // Ann (three sources) and Bo
/// assert_eq!(map.canonical(&"wechat-4".into()).unwrap().to_string(), "store-9");
/// let ann = map.merged().next().unwrap();
/// assert_eq!(ann.members().len(), 3);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentityResolver {
    default_country: Option<String>,
    max_shared: usize,
}

/// The default of [`IdentityResolver::max_shared`].
const DEFAULT_MAX_SHARED: usize = 10;
/// How many identifiers are normalised per parallel task.
const CHUNK: usize = 64 * 1024;

impl Default for IdentityResolver {
    fn default() -> Self {
        IdentityResolver {
            default_country: None,
            max_shared: DEFAULT_MAX_SHARED,
        }
    }
}

impl IdentityResolver {
    /// No default country, and identifiers shared by more than 10 source
    /// ids ignored.
    pub fn new() -> Self {
        Self::default()
    }

    /// The calling code (1 to 3 digits, such as `86` or `1`) put in front
    /// of national phone numbers, after dropping one trunk `0`. Without it
    /// a national number matches only the same national number.
    pub fn default_country(mut self, calling_code: impl Into<String>) -> Self {
        self.default_country = Some(
            calling_code
                .into()
                .trim()
                .trim_start_matches('+')
                .to_string(),
        );
        self
    }

    /// The most source ids one identifier may link (at least 2); an
    /// identifier carried by more is ignored and reported.
    pub fn max_shared(mut self, sources: usize) -> Self {
        self.max_shared = sources;
        self
    }

    /// The calling code set with [`default_country`](Self::default_country).
    pub fn default_country_value(&self) -> Option<&str> {
        self.default_country.as_deref()
    }

    /// The limit set with [`max_shared`](Self::max_shared).
    pub fn max_shared_value(&self) -> usize {
        self.max_shared
    }

    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// for a calling code that is not 1 to 3 digits, or a `max_shared`
    /// below 2.
    pub fn validate(&self) -> Result<()> {
        if let Some(code) = &self.default_country
            && (!(1..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Error::invalid_parameter(
                "default_country",
                format!("`{code}` is not a calling code of 1 to 3 digits"),
            ));
        }
        if self.max_shared < 2 {
            return Err(Error::invalid_parameter(
                "max_shared",
                format!(
                    "{} would let no identifier link two source ids",
                    self.max_shared
                ),
            ));
        }
        Ok(())
    }

    /// Merges the source ids of `identifiers` into customers.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate). Invalid identifier values are not
    /// errors: they are listed in [`IdentityMap::invalid`].
    pub fn resolve(&self, identifiers: &[Identifier]) -> Result<IdentityMap> {
        self.validate()?;
        if identifiers.len() > u32::MAX as usize {
            return Err(Error::invalid_parameter(
                "identifiers",
                format!(
                    "{} identifiers exceed the limit of {}",
                    identifiers.len(),
                    u32::MAX
                ),
            ));
        }
        let country = self.default_country.as_deref();
        let normalized: Vec<std::result::Result<String, normalize::Invalid>> = identifiers
            .par_chunks(CHUNK)
            .flat_map_iter(|chunk| chunk.iter().map(|id| normalize_value(id, country)))
            .collect();
        let (sources, source_of) = intern_sources(identifiers);

        // Identifiers sorted by (hash of kind and value, kind, value,
        // source): equal identifiers are neighbours, with no map of values.
        let hasher = foldhash::fast::FixedState::with_seed(KEY_SEED);
        let mut entries: Vec<(u64, u32)> = normalized
            .par_iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let v = v.as_ref().ok()?;
                Some((
                    hasher.hash_one((&identifiers[i].kind, v.as_str())),
                    i as u32,
                ))
            })
            .collect();
        let key = |i: u32| (&identifiers[i as usize].kind, value_of(&normalized, i));
        entries.par_sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| key(a.1).cmp(&key(b.1)))
                .then_with(|| source_of[a.1 as usize].cmp(&source_of[b.1 as usize]))
        });

        let mut sets = DisjointSets::new(sources.len());
        let mut ignored = Vec::new();
        let mut links: Vec<(u32, u32)> = Vec::new(); // (a source, an identifier linking it)
        for run in entries.chunk_by(|a, b| a.0 == b.0 && key(a.1) == key(b.1)) {
            let mut carriers: Vec<u32> = run.iter().map(|e| source_of[e.1 as usize]).collect();
            carriers.dedup();
            let first = run[0].1;
            if carriers.len() > self.max_shared {
                let (kind, value) = key(first);
                ignored.push(IgnoredIdentifier {
                    kind: kind.clone(),
                    value: truncate(value),
                    shared_by: carriers.len(),
                });
            } else if carriers.len() > 1 {
                for &other in &carriers[1..] {
                    sets.union(carriers[0], other);
                }
                links.push((carriers[0], first));
            }
        }
        let invalid = identifiers
            .iter()
            .zip(&normalized)
            .filter_map(|(id, v)| {
                let reason = *v.as_ref().err()?;
                Some(InvalidIdentifier {
                    source: id.source.clone(),
                    kind: id.kind.clone(),
                    value: truncate(&id.value),
                    reason,
                })
            })
            .collect();
        let links = links
            .into_iter()
            .map(|(source, i)| {
                let (kind, value) = key(i);
                (source, kind.clone(), value.to_string())
            })
            .collect();
        Ok(IdentityMap::assemble(
            &sources, &mut sets, links, ignored, invalid,
        ))
    }
}

/// The seed of the hash that brings equal identifiers together; any fixed
/// value works (the result never depends on hash order).
const KEY_SEED: u64 = 0x005E_ED1D;

fn value_of(normalized: &[std::result::Result<String, normalize::Invalid>], i: u32) -> &str {
    normalized[i as usize].as_deref().unwrap_or_default()
}

fn normalize_value(
    id: &Identifier,
    country: Option<&str>,
) -> std::result::Result<String, normalize::Invalid> {
    match id.kind {
        IdentifierKind::Phone => normalize::phone(&id.value, country),
        IdentifierKind::Email => normalize::email(&id.value),
        IdentifierKind::LoyaltyCard => normalize::card(&id.value),
        _ => normalize::trimmed(&id.value),
    }
}

/// The distinct source ids in first-seen order, and each identifier's
/// index among them. A record's identifiers usually come together, so the
/// previous identifier's source is checked before the map.
fn intern_sources(identifiers: &[Identifier]) -> (Vec<&CustomerId>, Vec<u32>) {
    let mut index: FastMap<&CustomerId, u32> = FastMap::default();
    let mut sources = Vec::new();
    let mut source_of = Vec::with_capacity(identifiers.len());
    let mut last: Option<(&CustomerId, u32)> = None;
    for id in identifiers {
        let s = match last {
            Some((source, s)) if *source == id.source => s,
            _ => {
                let next = sources.len() as u32;
                let s = *index.entry(&id.source).or_insert_with(|| {
                    sources.push(&id.source);
                    next
                });
                last = Some((&id.source, s));
                s
            }
        };
        source_of.push(s);
    }
    (sources, source_of)
}

/// Union–find over `0..n` with path halving and union by size.
struct DisjointSets {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl DisjointSets {
    fn new(n: usize) -> Self {
        DisjointSets {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
    }
}

/// One resolved customer: its canonical id, the source ids merged into it,
/// and the identifiers that linked them. Borrowed from an [`IdentityMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityGroup<'a> {
    members: &'a [CustomerId],
    links: &'a [(IdentifierKind, String)],
}

impl<'a> IdentityGroup<'a> {
    /// The customer's id: the smallest of its source ids.
    pub fn canonical(&self) -> &'a CustomerId {
        &self.members[0]
    }

    /// The source ids merged into this customer, sorted (the canonical id
    /// first).
    pub fn members(&self) -> &'a [CustomerId] {
        self.members
    }

    /// The normalised identifiers that linked two or more of the members,
    /// sorted by kind and value.
    pub fn links(&self) -> &'a [(IdentifierKind, String)] {
        self.links
    }
}

impl Serialize for IdentityGroup<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("IdentityGroup", 3)?;
        s.serialize_field("canonical", self.canonical())?;
        s.serialize_field("members", self.members)?;
        s.serialize_field("links", self.links)?;
        s.end()
    }
}

/// An identifier carried by too many source ids to be used for merging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IgnoredIdentifier {
    /// Its kind.
    pub kind: IdentifierKind,
    /// Its normalised value (cut to 200 characters, like every quoted input).
    pub value: String,
    /// How many source ids carried it.
    pub shared_by: usize,
}

/// An identifier whose value is not valid for its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InvalidIdentifier {
    /// The source id that carried it.
    pub source: CustomerId,
    /// Its kind.
    pub kind: IdentifierKind,
    /// The value as given (cut to 200 characters, like every quoted input).
    pub value: String,
    /// Why it is not valid.
    pub reason: &'static str,
}

/// The result of [`IdentityResolver::resolve`]: which source ids became
/// which customer and through which identifiers, and which identifiers
/// were not used and why.
///
/// Stored flat (every source id once, grouped, plus offsets), so a map of
/// millions of customers costs a few allocations. Prints as a short
/// summary; serializes with serde (`customers`, the merged `groups`,
/// `ignored`, `invalid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityMap {
    /// Every source id, grouped by customer, groups ordered by canonical id
    /// and members sorted within a group.
    members: Vec<CustomerId>,
    /// Group `g` is `members[starts[g]..starts[g + 1]]`.
    starts: Vec<u32>,
    /// The identifiers that linked each group's members, grouped the same
    /// way.
    links: Vec<(IdentifierKind, String)>,
    link_starts: Vec<u32>,
    /// Every source id with its group, sorted by id (for lookups).
    by_id: Vec<(CustomerId, u32)>,
    ignored: Vec<IgnoredIdentifier>,
    invalid: Vec<InvalidIdentifier>,
}

impl IdentityMap {
    fn assemble(
        sources: &[&CustomerId],
        sets: &mut DisjointSets,
        mut links: Vec<(u32, IdentifierKind, String)>,
        mut ignored: Vec<IgnoredIdentifier>,
        mut invalid: Vec<InvalidIdentifier>,
    ) -> IdentityMap {
        // Sources in id order; a group's number is the order of its first
        // (smallest) member, so groups come out ordered by canonical id
        // with their members sorted.
        let mut order: Vec<u32> = (0..sources.len() as u32).collect();
        order.par_sort_unstable_by(|&a, &b| sources[a as usize].cmp(sources[b as usize]));
        let roots: Vec<u32> = (0..sources.len() as u32).map(|s| sets.find(s)).collect();
        let mut group_of_root = vec![u32::MAX; sources.len()];
        let mut sizes: Vec<u32> = Vec::new();
        for &s in &order {
            let root = roots[s as usize] as usize;
            if group_of_root[root] == u32::MAX {
                group_of_root[root] = sizes.len() as u32;
                sizes.push(0);
            }
            sizes[group_of_root[root] as usize] += 1;
        }
        let starts = prefix_sums(&sizes);
        let mut fill: Vec<u32> = starts[..sizes.len()].to_vec();
        let mut slots: Vec<u32> = vec![0; sources.len()];
        let mut by_id = Vec::with_capacity(sources.len());
        for &s in &order {
            let g = group_of_root[roots[s as usize] as usize];
            slots[fill[g as usize] as usize] = s;
            fill[g as usize] += 1;
            by_id.push((sources[s as usize].clone(), g));
        }
        let members = slots.iter().map(|&s| sources[s as usize].clone()).collect();

        let group = |source: u32| group_of_root[roots[source as usize] as usize];
        links.sort_unstable_by(|a, b| (group(a.0), &a.1, &a.2).cmp(&(group(b.0), &b.1, &b.2)));
        let mut link_sizes = vec![0u32; sizes.len()];
        for l in &links {
            link_sizes[group(l.0) as usize] += 1;
        }
        let link_starts = prefix_sums(&link_sizes);
        let links = links
            .into_iter()
            .map(|(_, kind, value)| (kind, value))
            .collect();

        ignored.sort_unstable_by(|a, b| (&a.kind, &a.value).cmp(&(&b.kind, &b.value)));
        invalid.sort_unstable_by(|a, b| {
            (&a.source, &a.kind, &a.value).cmp(&(&b.source, &b.kind, &b.value))
        });
        invalid.dedup();
        IdentityMap {
            members,
            starts,
            links,
            link_starts,
            by_id,
            ignored,
            invalid,
        }
    }

    /// The customer a source id belongs to, or `None` for a source id that
    /// carried no identifier.
    pub fn canonical(&self, source: &CustomerId) -> Option<&CustomerId> {
        let i = self.by_id.binary_search_by(|(id, _)| id.cmp(source)).ok()?;
        Some(self.group(self.by_id[i].1 as usize).canonical())
    }

    /// How many customers the source ids resolve to.
    pub fn customers(&self) -> usize {
        self.starts.len() - 1
    }

    /// How many distinct source ids were given.
    pub fn sources(&self) -> usize {
        self.members.len()
    }

    /// Every customer, single-source ones included, ordered by canonical id.
    pub fn groups(&self) -> impl ExactSizeIterator<Item = IdentityGroup<'_>> {
        (0..self.customers()).map(|g| self.group(g))
    }

    /// The customers made of two or more source ids, ordered by canonical id.
    pub fn merged(&self) -> impl Iterator<Item = IdentityGroup<'_>> {
        self.groups().filter(|g| g.members.len() > 1)
    }

    fn group(&self, g: usize) -> IdentityGroup<'_> {
        let range = |starts: &[u32]| starts[g] as usize..starts[g + 1] as usize;
        IdentityGroup {
            members: &self.members[range(&self.starts)],
            links: &self.links[range(&self.link_starts)],
        }
    }

    /// Identifiers carried by more than `max_shared` source ids, not used
    /// for merging; sorted by kind and value.
    pub fn ignored(&self) -> &[IgnoredIdentifier] {
        &self.ignored
    }

    /// Identifiers whose value is not valid for their kind, not used;
    /// sorted by source, kind and value.
    pub fn invalid(&self) -> &[InvalidIdentifier] {
        &self.invalid
    }
}

/// `[0, a0, a0 + a1, …]`.
fn prefix_sums(sizes: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(sizes.len() + 1);
    let mut total = 0u32;
    out.push(0);
    for &n in sizes {
        total += n;
        out.push(total);
    }
    out
}

impl Serialize for IdentityMap {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("IdentityMap", 4)?;
        s.serialize_field("customers", &self.customers())?;
        s.serialize_field("groups", &self.merged().collect::<Vec<_>>())?;
        s.serialize_field("ignored", &self.ignored)?;
        s.serialize_field("invalid", &self.invalid)?;
        s.end()
    }
}

impl fmt::Display for IdentityMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let merged = self.merged().count();
        let sources_merged: usize = self.merged().map(|g| g.members().len()).sum();
        writeln!(
            f,
            "{} source ids resolve to {} customers; {} of them merged from {} source ids",
            self.sources(),
            self.customers(),
            merged,
            sources_merged
        )?;
        writeln!(
            f,
            "{} identifiers shared too widely, ignored; {} invalid identifiers, ignored",
            self.ignored.len(),
            self.invalid.len()
        )
    }
}

/// A value as reports quote it: cut like every quoted input.
fn truncate(value: &str) -> String {
    crate::util::quote_truncated(value).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(source: &str, kind: IdentifierKind, value: &str) -> Identifier {
        Identifier::new(source, kind, value)
    }

    #[test]
    fn chains_merge_transitively_and_the_smallest_id_is_canonical() {
        use IdentifierKind::*;
        let ids = [
            id("d", Phone, "+86 111 222 333"),
            id("c", Phone, "+86111222333"),
            id("c", Email, "x@y.com"),
            id("b", Email, "X@Y.com "),
            id("e", Messaging, "wx"),
        ];
        let map = IdentityResolver::new().resolve(&ids).unwrap();
        assert_eq!(map.customers(), 2);
        assert_eq!(map.sources(), 4);
        let merged: Vec<_> = map.merged().collect();
        assert_eq!(merged.len(), 1);
        let names: Vec<String> = merged[0]
            .members()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["b", "c", "d"]);
        assert_eq!(merged[0].canonical().to_string(), "b");
        assert_eq!(
            merged[0].links(),
            [
                (Phone, "+86111222333".to_string()),
                (Email, "x@y.com".to_string())
            ]
        );
        assert_eq!(map.canonical(&"d".into()).unwrap().to_string(), "b");
        assert_eq!(map.canonical(&"e".into()).unwrap().to_string(), "e");
        assert!(map.canonical(&"zz".into()).is_none());
    }

    #[test]
    fn widely_shared_identifiers_are_ignored_and_reported() {
        let mut ids: Vec<Identifier> = (0..4)
            .map(|i| id(&format!("s{i}"), IdentifierKind::Phone, "+1 555 0100"))
            .collect();
        ids.push(id("s0", IdentifierKind::Email, "a@b.co"));
        ids.push(id("s1", IdentifierKind::Email, "a@b.co"));
        let map = IdentityResolver::new().max_shared(3).resolve(&ids).unwrap();
        assert_eq!(map.customers(), 3); // s0+s1 by e-mail, s2, s3
        assert_eq!(map.ignored().len(), 1);
        assert_eq!(map.ignored()[0].value, "+15550100");
        assert_eq!(map.ignored()[0].shared_by, 4);
    }

    #[test]
    fn invalid_values_are_reported_and_their_sources_kept() {
        let ids = [
            id("a", IdentifierKind::Phone, "n/a"),
            id("b", IdentifierKind::Email, ""),
        ];
        let map = IdentityResolver::new().resolve(&ids).unwrap();
        assert_eq!(map.customers(), 2);
        assert_eq!(map.invalid().len(), 2);
        assert_eq!(map.invalid()[0].source.to_string(), "a");
    }

    #[test]
    fn settings_are_validated() {
        assert!(IdentityResolver::new().max_shared(1).validate().is_err());
        assert!(
            IdentityResolver::new()
                .default_country("8a")
                .validate()
                .is_err()
        );
        assert!(
            IdentityResolver::new()
                .default_country("+86")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn the_same_value_under_two_kinds_does_not_link() {
        let ids = [
            id("a", IdentifierKind::LoyaltyCard, "12345678"),
            id("b", IdentifierKind::Other("member_no".into()), "12345678"),
        ];
        assert_eq!(
            IdentityResolver::new().resolve(&ids).unwrap().customers(),
            2
        );
    }
}
