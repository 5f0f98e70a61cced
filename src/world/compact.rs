//! Small containers for the facts the World keeps. The World holds a handful of names and labels
//! for each of tens of thousands of objects: a `BTreeMap` or `BTreeSet` allocates a node of
//! several hundred bytes even for one entry, and a map keyed by name holds every name twice.
//! Sorted boxed slices, searched by bisection, hold the same in a few dozen bytes; the sets are
//! built once and replaced whole when their object changes.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};

/// A sorted set of names (ConfigMap keys, the Services an Ingress routes to).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Names(Box<[Box<str>]>);

impl Names {
    pub fn contains(&self, name: &str) -> bool {
        self.0.binary_search_by(|n| (**n).cmp(name)).is_ok()
    }

    /// The names, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.0.iter().map(|n| &**n)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names that are not in `other`, in order.
    pub fn difference<'a>(&'a self, other: &'a Names) -> impl Iterator<Item = &'a str> + 'a {
        self.iter().filter(move |n| !other.contains(n))
    }

    /// A copy with `name` added.
    pub fn with(&self, name: &str) -> Names {
        self.iter().chain([name]).collect()
    }

    /// A copy without `name`.
    pub fn without(&self, name: &str) -> Names {
        self.iter().filter(|n| *n != name).collect()
    }
}

impl<S: Into<Box<str>>> FromIterator<S> for Names {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Names {
        let mut names: Vec<Box<str>> = iter.into_iter().map(Into::into).collect();
        names.sort_unstable();
        names.dedup();
        Names(names.into_boxed_slice())
    }
}

/// Labels or annotations: (key, value) pairs sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Labels(Box<[(Box<str>, Box<str>)]>);

impl Labels {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The pairs, in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries of a label map whose key passes `keep`.
    pub fn filtered(map: Option<&BTreeMap<String, String>>, keep: impl Fn(&str) -> bool) -> Labels {
        // A BTreeMap iterates in key order without duplicates: the slice is sorted as built.
        Labels(
            map.into_iter()
                .flatten()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (Box::from(k.as_str()), Box::from(v.as_str())))
                .collect(),
        )
    }
}

impl From<Option<&BTreeMap<String, String>>> for Labels {
    fn from(map: Option<&BTreeMap<String, String>>) -> Labels {
        Labels::filtered(map, |_| true)
    }
}

impl From<&BTreeMap<String, String>> for Labels {
    fn from(map: &BTreeMap<String, String>) -> Labels {
        Labels::from(Some(map))
    }
}

/// Facts that carry their own name, the key they are filed under.
pub trait Named {
    fn name(&self) -> &str;
}

/// A value filed by its own name, so that a set can be searched by name.
#[derive(Debug)]
struct Keyed<T>(T);

impl<T: Named> Borrow<str> for Keyed<T> {
    fn borrow(&self) -> &str {
        self.0.name()
    }
}

// Equality and hash are the name's, as `Borrow<str>` requires.
impl<T: Named> PartialEq for Keyed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.name() == other.0.name()
    }
}

impl<T: Named> Eq for Keyed<T> {}

impl<T: Named> Hash for Keyed<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name().hash(state)
    }
}

/// Facts by name, each name held once: in the facts themselves, not again as a map key.
/// Iteration order is unspecified; `sorted` gives name order.
#[derive(Debug)]
pub struct ByName<T>(HashSet<Keyed<T>>);

impl<T> Default for ByName<T> {
    fn default() -> Self {
        ByName(HashSet::new())
    }
}

impl<T: Named> ByName<T> {
    /// Files `value` under its name, returning what was filed there before.
    pub fn insert(&mut self, value: T) -> Option<T> {
        self.0.replace(Keyed(value)).map(|k| k.0)
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.get(name).map(|k| &k.0)
    }

    pub fn remove(&mut self, name: &str) -> Option<T> {
        self.0.take(name).map(|k| k.0)
    }

    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.0.iter().map(|k| &k.0)
    }

    /// The values in name order.
    pub fn sorted(&self) -> Vec<&T> {
        let mut out: Vec<&T> = self.values().collect();
        out.sort_unstable_by(|a, b| a.name().cmp(b.name()));
        out
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_sets() {
        let names: Names = ["b", "a", "b"].into_iter().collect();
        assert_eq!(names.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert!(names.contains("a") && !names.contains("c"));
        let empty: Names = ["b"].into_iter().collect();
        assert_eq!(names.difference(&empty).collect::<Vec<_>>(), ["a"]);
        assert_eq!(names.with("c").len(), 3);
        assert_eq!(names.without("a").iter().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn labels_look_up_by_key() {
        let map = BTreeMap::from([
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
        ]);
        let labels = Labels::from(&map);
        assert_eq!(labels.get("a"), Some("1"));
        assert_eq!(labels.get("c"), None);
        assert_eq!(labels.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
        assert_eq!(Labels::filtered(Some(&map), |k| k == "b").len(), 1);
    }

    #[derive(Debug, PartialEq)]
    struct Thing(&'static str, u32);

    impl Named for Thing {
        fn name(&self) -> &str {
            self.0
        }
    }

    #[test]
    fn by_name_replaces_and_removes() {
        let mut things = ByName::default();
        assert_eq!(things.insert(Thing("b", 1)), None);
        things.insert(Thing("a", 2));
        assert_eq!(things.insert(Thing("b", 3)), Some(Thing("b", 1)));
        assert_eq!(things.get("b"), Some(&Thing("b", 3)));
        assert_eq!(things.sorted(), [&Thing("a", 2), &Thing("b", 3)]);
        assert_eq!(things.remove("a"), Some(Thing("a", 2)));
        assert_eq!(things.len(), 1);
    }
}
