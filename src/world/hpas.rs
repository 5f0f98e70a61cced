//! The HorizontalPodAutoscalers of a namespace, found by the workload they scale.

use std::collections::HashSet;

use super::compact::ByName;
use super::facts::HpaFacts;

/// Autoscalers by name, and the names of those not named after their target. Nearly every
/// autoscaler carries its workload's name (a chart names both after the release), so the one
/// for a workload is found by that name in one lookup, and only the few named otherwise are
/// looked at besides. Scanning the namespace instead cost every judged workload a pass over all
/// its autoscalers; a map from target to autoscalers would hold every target's name again for
/// the rare case.
#[derive(Debug, Default)]
pub struct Hpas {
    by_name: ByName<HpaFacts>,
    named_apart: HashSet<Box<str>>,
}

impl Hpas {
    /// Files `facts` under its name, replacing what was filed there.
    pub fn insert(&mut self, facts: HpaFacts) {
        if facts.name == facts.target_name {
            self.named_apart.remove(&facts.name);
        } else if !self.named_apart.contains(&facts.name) {
            self.named_apart.insert(facts.name.clone());
        }
        self.by_name.insert(facts);
    }

    pub fn remove(&mut self, name: &str) {
        self.named_apart.remove(name);
        self.by_name.remove(name);
    }

    /// Every autoscaler, by name.
    pub fn sorted(&self) -> Vec<&HpaFacts> {
        self.by_name.sorted()
    }

    /// The autoscaler that scales `kind/name`: the first by name when several do.
    pub fn scaling(&self, kind: &str, name: &str) -> Option<&HpaFacts> {
        let scales = |h: &&HpaFacts| &*h.target_kind == kind && &*h.target_name == name;
        let named_after = self.by_name.get(name).filter(scales);
        let named_apart = self
            .named_apart
            .iter()
            .filter_map(|n| self.by_name.get(n))
            .filter(scales);
        named_after
            .into_iter()
            .chain(named_apart)
            .min_by(|a, b| a.name.cmp(&b.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hpa(name: &str, kind: &str, target: &str) -> HpaFacts {
        HpaFacts {
            name: name.into(),
            target_kind: kind.into(),
            target_name: target.into(),
            min_replicas: 1,
            max_replicas: 3,
        }
    }

    fn found<'a>(hpas: &'a Hpas, kind: &str, name: &str) -> Option<&'a str> {
        hpas.scaling(kind, name).map(|h| &*h.name)
    }

    #[test]
    fn an_autoscaler_is_found_whether_named_after_its_target_or_not() {
        let mut hpas = Hpas::default();
        hpas.insert(hpa("web", "Deployment", "web"));
        hpas.insert(hpa("api-autoscaler", "Deployment", "api"));
        hpas.insert(hpa("db", "StatefulSet", "db"));
        assert_eq!(found(&hpas, "Deployment", "web"), Some("web"));
        assert_eq!(found(&hpas, "Deployment", "api"), Some("api-autoscaler"));
        assert_eq!(found(&hpas, "StatefulSet", "db"), Some("db"));
        // The name alone is not enough: the kind must match too.
        assert_eq!(found(&hpas, "StatefulSet", "web"), None);
        assert_eq!(found(&hpas, "Deployment", "db"), None);
    }

    #[test]
    fn the_first_by_name_wins_when_several_scale_one_workload() {
        let mut hpas = Hpas::default();
        hpas.insert(hpa("web", "Deployment", "web"));
        hpas.insert(hpa("a-web", "Deployment", "web"));
        assert_eq!(found(&hpas, "Deployment", "web"), Some("a-web"));
        hpas.remove("a-web");
        assert_eq!(found(&hpas, "Deployment", "web"), Some("web"));
        hpas.remove("web");
        assert_eq!(found(&hpas, "Deployment", "web"), None);
    }

    #[test]
    fn an_autoscaler_retargeted_is_found_by_its_new_target_only() {
        let mut hpas = Hpas::default();
        hpas.insert(hpa("web", "Deployment", "web"));
        hpas.insert(hpa("web", "Deployment", "web-v2"));
        assert_eq!(found(&hpas, "Deployment", "web"), None);
        assert_eq!(found(&hpas, "Deployment", "web-v2"), Some("web"));
        hpas.insert(hpa("web", "Deployment", "web"));
        assert_eq!(found(&hpas, "Deployment", "web"), Some("web"));
        assert_eq!(found(&hpas, "Deployment", "web-v2"), None);
        assert!(hpas.named_apart.is_empty());
    }
}
