//! Label selectors and an index that answers "which of these selectors match these labels"
//! without trying every selector.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::compact::{ByName, Labels, Named, Names};

/// Labels a selector can be matched against: a workload's label map, or the Labels the World
/// keeps of a Service or claim.
pub trait LabelSet {
    fn label(&self, key: &str) -> Option<&str>;
    /// Every (key, value) pair.
    fn pairs(&self) -> impl Iterator<Item = (&str, &str)>;
}

impl LabelSet for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }

    fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl LabelSet for Labels {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key)
    }

    fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.iter()
    }
}

/// One requirement of a set-based selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Requirement {
    fn key(&self) -> &str {
        match self {
            Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::DoesNotExist(k) => k,
        }
    }

    fn matches<L: LabelSet + ?Sized>(&self, labels: &L) -> bool {
        let listed = |vs: &[String], v: &str| vs.iter().any(|x| x == v);
        match self {
            Requirement::In(k, vs) => labels.label(k).is_some_and(|v| listed(vs, v)),
            Requirement::NotIn(k, vs) => labels.label(k).is_none_or(|v| !listed(vs, v)),
            Requirement::Exists(k) => labels.label(k).is_some(),
            Requirement::DoesNotExist(k) => labels.label(k).is_none(),
        }
    }
}

/// A label selector. `Selector::everything()` matches all labels; `Selector::nothing()` none.
// Boxed slices rather than Vecs: one is kept per Service, NetworkPolicy and PDB.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    equals: Box<[(Box<str>, Box<str>)]>,
    requirements: Box<[Requirement]>,
    /// Matches nothing at all (a Service without selector, an invalid operator).
    none: bool,
}

fn pairs_of(map: &BTreeMap<String, String>) -> Box<[(Box<str>, Box<str>)]> {
    map.iter()
        .map(|(k, v)| (Box::from(k.as_str()), Box::from(v.as_str())))
        .collect()
}

impl Selector {
    pub fn everything() -> Selector {
        Selector::default()
    }

    pub fn nothing() -> Selector {
        Selector {
            none: true,
            ..Selector::default()
        }
    }

    /// Equality-based selector (a Service's `spec.selector`). An empty map selects nothing,
    /// as Kubernetes does for Services.
    pub fn from_map(map: Option<&BTreeMap<String, String>>) -> Selector {
        match map {
            Some(m) if !m.is_empty() => Selector {
                equals: pairs_of(m),
                ..Selector::default()
            },
            _ => Selector::nothing(),
        }
    }

    /// A `LabelSelector`; `empty_matches_all` tells how an empty selector reads for the kind
    /// (everything for NetworkPolicy and policy/v1 PDBs).
    pub fn from_label_selector(sel: Option<&LabelSelector>, empty_matches_all: bool) -> Selector {
        let Some(sel) = sel else {
            return if empty_matches_all {
                Selector::everything()
            } else {
                Selector::nothing()
            };
        };
        let mut out = Selector::default();
        let mut requirements = Vec::new();
        if let Some(m) = &sel.match_labels {
            out.equals = pairs_of(m);
        }
        for e in sel.match_expressions.iter().flatten() {
            let values = e.values.clone().unwrap_or_default();
            let req = match e.operator.as_str() {
                "In" => Requirement::In(e.key.clone(), values),
                "NotIn" => Requirement::NotIn(e.key.clone(), values),
                "Exists" => Requirement::Exists(e.key.clone()),
                "DoesNotExist" => Requirement::DoesNotExist(e.key.clone()),
                // An operator Kubernetes would reject; never match rather than match too much.
                _ => return Selector::nothing(),
            };
            requirements.push(req);
        }
        out.requirements = requirements.into_boxed_slice();
        if out.equals.is_empty() && out.requirements.is_empty() && !empty_matches_all {
            return Selector::nothing();
        }
        out
    }

    pub fn matches<L: LabelSet + ?Sized>(&self, labels: &L) -> bool {
        !self.none
            && self
                .equals
                .iter()
                .all(|(k, v)| labels.label(k).is_some_and(|l| l == &**v))
            && self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn is_everything(&self) -> bool {
        !self.none && self.equals.is_empty() && self.requirements.is_empty()
    }

    pub fn is_nothing(&self) -> bool {
        self.none
    }

    /// The selector with the requirements on these keys dropped: what a pod template must
    /// carry when its controller adds those labels to every pod it makes.
    pub fn without_keys(&self, keys: &[&str]) -> Selector {
        let keep = |k: &str| !keys.contains(&k);
        Selector {
            equals: self
                .equals
                .iter()
                .filter(|(k, _)| keep(k))
                .cloned()
                .collect(),
            requirements: self
                .requirements
                .iter()
                .filter(|r| keep(r.key()))
                .cloned()
                .collect(),
            none: self.none,
        }
    }

    /// The selector as `kubectl get -l` takes it: `app=web,tier in (a,b)`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .equals
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.extend(self.requirements.iter().map(|r| match r {
            Requirement::In(k, v) => format!("{k} in ({})", v.join(",")),
            Requirement::NotIn(k, v) => format!("{k} notin ({})", v.join(",")),
            Requirement::Exists(k) => k.clone(),
            Requirement::DoesNotExist(k) => format!("!{k}"),
        }));
        parts.join(",")
    }

    /// One equality every match must satisfy, used to file the selector in the index.
    fn anchor(&self) -> Option<u64> {
        self.equals.first().map(|(k, v)| anchor_hash(k, v))
    }
}

/// The hash of one label equality, under which the selectors requiring it are filed. Two
/// equalities may share a hash: the candidates found under it are matched in full anyway.
fn anchor_hash(key: &str, value: &str) -> u64 {
    // SipHash with fixed keys: the same on every run, unlike a HashMap's RandomState.
    let mut h = DefaultHasher::new();
    (key, value).hash(&mut h);
    h.finish()
}

/// A selector with what it selects for, filed by the value's name.
#[derive(Debug)]
struct Entry<T> {
    selector: Selector,
    value: T,
}

impl<T: Named> Named for Entry<T> {
    fn name(&self) -> &str {
        self.value.name()
    }
}

/// Objects carrying selectors, found by the labels they select. Each is filed by its own name
/// (`Named`), which the index does not copy except to file anchored selectors.
#[derive(Debug)]
pub struct SelectorIndex<T> {
    entries: ByName<Entry<T>>,
    /// Hash of one equality every match must satisfy -> names of the entries requiring it.
    anchored: HashMap<u64, Names>,
    /// Entries with no equality to anchor on (select-all, expressions only).
    unanchored: BTreeSet<Box<str>>,
}

impl<T> Default for SelectorIndex<T> {
    fn default() -> Self {
        SelectorIndex {
            entries: ByName::default(),
            anchored: HashMap::new(),
            unanchored: BTreeSet::new(),
        }
    }
}

impl<T: Named> SelectorIndex<T> {
    /// Files `value` under its name, replacing what was filed there.
    pub fn insert(&mut self, selector: Selector, value: T) {
        self.remove(value.name());
        let name = value.name();
        if selector.is_nothing() {
            // Kept for lookups by name, never returned by label lookups.
        } else if let Some(anchor) = selector.anchor() {
            let names = self.anchored.entry(anchor).or_default();
            *names = names.with(name);
        } else {
            self.unanchored.insert(name.into());
        }
        self.entries.insert(Entry { selector, value });
    }

    pub fn remove(&mut self, name: &str) -> Option<T> {
        let Entry { selector, value } = self.entries.remove(name)?;
        if let Some(anchor) = selector.anchor() {
            if let Some(names) = self.anchored.get_mut(&anchor) {
                *names = names.without(name);
                if names.is_empty() {
                    self.anchored.remove(&anchor);
                }
            }
        } else {
            self.unanchored.remove(name);
        }
        Some(value)
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.entries.get(name).map(|e| &e.value)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Selector, &T)> {
        self.entries
            .sorted()
            .into_iter()
            .map(|e| (e.name(), &e.selector, &e.value))
    }

    /// Entries whose selector matches `labels`, ordered by name.
    pub fn matching<L: LabelSet + ?Sized>(&self, labels: &L) -> Vec<&T> {
        let mut names: Vec<&str> = Vec::new();
        if !self.anchored.is_empty() {
            for (k, v) in labels.pairs() {
                if let Some(set) = self.anchored.get(&anchor_hash(k, v)) {
                    names.extend(set.iter());
                }
            }
        }
        names.extend(self.unanchored.iter().map(|n| &**n));
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .filter_map(|n| self.entries.get(n))
            .filter(|e| e.selector.matches(labels))
            .map(|e| &e.value)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn equality_and_expressions() {
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "api")])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["web".into(), "edge".into()]),
            }]),
        };
        let s = Selector::from_label_selector(Some(&sel), true);
        assert!(s.matches(&labels(&[("app", "api"), ("tier", "web")])));
        assert!(!s.matches(&labels(&[("app", "api"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "worker"), ("tier", "web")])));
    }

    #[test]
    fn empty_selectors_follow_the_kind() {
        let empty = LabelSelector::default();
        assert!(Selector::from_label_selector(Some(&empty), true).matches(&labels(&[])));
        assert!(!Selector::from_label_selector(Some(&empty), false).matches(&labels(&[])));
        assert!(!Selector::from_map(Some(&BTreeMap::new())).matches(&labels(&[("a", "b")])));
    }

    #[derive(Debug, PartialEq)]
    struct Filed(&'static str, u32);

    impl Named for Filed {
        fn name(&self) -> &str {
            self.0
        }
    }

    #[test]
    fn index_finds_anchored_and_unanchored_entries() {
        let mut idx = SelectorIndex::default();
        idx.insert(
            Selector::from_map(Some(&labels(&[("app", "api")]))),
            Filed("api", 1),
        );
        idx.insert(Selector::everything(), Filed("all", 2));
        idx.insert(
            Selector::from_map(Some(&labels(&[("app", "worker")]))),
            Filed("worker", 3),
        );
        let api = labels(&[("app", "api")]);
        assert_eq!(idx.matching(&api), vec![&Filed("all", 2), &Filed("api", 1)]);
        // The World's own label type matches the same way.
        assert_eq!(idx.matching(&Labels::from(&api)).len(), 2);
        idx.remove("all");
        assert_eq!(idx.matching(&api), vec![&Filed("api", 1)]);
        idx.insert(
            Selector::from_map(Some(&labels(&[("app", "other")]))),
            Filed("api", 4),
        );
        assert!(idx.matching(&api).is_empty());
        assert_eq!(idx.len(), 2);
        assert_eq!(
            idx.iter().map(|(n, _, _)| n).collect::<Vec<_>>(),
            ["api", "worker"]
        );
        idx.insert(Selector::nothing(), Filed("api", 5));
        assert!(idx.matching(&labels(&[("app", "other")])).is_empty());
        assert_eq!(idx.get("api"), Some(&Filed("api", 5)));
    }
}
