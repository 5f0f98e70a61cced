//! Label selectors and an index that answers "which of these selectors match these labels"
//! without trying every selector.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// One requirement of a set-based selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        }
    }
}

/// A label selector. `Selector::everything()` matches all labels; `Selector::nothing()` none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    equals: Vec<(String, String)>,
    requirements: Vec<Requirement>,
    /// Matches nothing at all (a Service without selector, an invalid operator).
    none: bool,
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
                equals: m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
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
        if let Some(m) = &sel.match_labels {
            out.equals = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
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
            out.requirements.push(req);
        }
        if out.equals.is_empty() && out.requirements.is_empty() && !empty_matches_all {
            return Selector::nothing();
        }
        out
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.none
            && self
                .equals
                .iter()
                .all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
            && self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn is_everything(&self) -> bool {
        !self.none && self.equals.is_empty() && self.requirements.is_empty()
    }

    pub fn is_nothing(&self) -> bool {
        self.none
    }

    /// One equality every match must satisfy, used to file the selector in the index.
    fn anchor(&self) -> Option<&(String, String)> {
        self.equals.first()
    }
}

/// Objects carrying selectors, found by the labels they select.
#[derive(Debug)]
pub struct SelectorIndex<T> {
    entries: BTreeMap<String, (Selector, T)>,
    /// key -> value -> names of entries anchored there. Usually one name: a Vec, as a set
    /// would allocate a whole tree node for it.
    anchored: HashMap<String, HashMap<String, Vec<String>>>,
    /// Entries with no equality to anchor on (select-all, expressions only).
    unanchored: BTreeSet<String>,
}

impl<T> Default for SelectorIndex<T> {
    fn default() -> Self {
        SelectorIndex {
            entries: BTreeMap::new(),
            anchored: HashMap::new(),
            unanchored: BTreeSet::new(),
        }
    }
}

impl<T> SelectorIndex<T> {
    pub fn insert(&mut self, name: String, selector: Selector, value: T) {
        self.remove(&name);
        if selector.is_nothing() {
            // Kept for lookups by name, never returned by label lookups.
        } else if let Some((k, v)) = selector.anchor() {
            self.anchored
                .entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default()
                .push(name.clone());
        } else {
            self.unanchored.insert(name.clone());
        }
        self.entries.insert(name, (selector, value));
    }

    pub fn remove(&mut self, name: &str) -> Option<T> {
        let (selector, value) = self.entries.remove(name)?;
        if let Some((k, v)) = selector.anchor() {
            if let Some(values) = self.anchored.get_mut(k) {
                if let Some(names) = values.get_mut(v) {
                    names.retain(|n| n != name);
                    if names.is_empty() {
                        values.remove(v);
                    }
                }
                if values.is_empty() {
                    self.anchored.remove(k);
                }
            }
        } else {
            self.unanchored.remove(name);
        }
        Some(value)
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.entries.get(name).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Selector, &T)> {
        self.entries.iter().map(|(n, (s, v))| (n.as_str(), s, v))
    }

    /// Entries whose selector matches `labels`, ordered by name.
    pub fn matching(&self, labels: &BTreeMap<String, String>) -> Vec<&T> {
        let mut names: Vec<&str> = Vec::new();
        for (k, v) in labels {
            if let Some(set) = self.anchored.get(k).and_then(|vals| vals.get(v)) {
                names.extend(set.iter().map(String::as_str));
            }
        }
        names.extend(self.unanchored.iter().map(String::as_str));
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .filter_map(|n| self.entries.get(n))
            .filter(|(sel, _)| sel.matches(labels))
            .map(|(_, v)| v)
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

    #[test]
    fn index_finds_anchored_and_unanchored_entries() {
        let mut idx = SelectorIndex::default();
        idx.insert(
            "api".into(),
            Selector::from_map(Some(&labels(&[("app", "api")]))),
            1,
        );
        idx.insert("all".into(), Selector::everything(), 2);
        idx.insert(
            "worker".into(),
            Selector::from_map(Some(&labels(&[("app", "worker")]))),
            3,
        );
        assert_eq!(idx.matching(&labels(&[("app", "api")])), vec![&2, &1]);
        idx.remove("all");
        assert_eq!(idx.matching(&labels(&[("app", "api")])), vec![&1]);
        idx.insert(
            "api".into(),
            Selector::from_map(Some(&labels(&[("app", "other")]))),
            4,
        );
        assert!(idx.matching(&labels(&[("app", "api")])).is_empty());
        assert_eq!(idx.len(), 2);
    }
}
