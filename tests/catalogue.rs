//! The catalogue in `docs/CHECKS.md` is the product's feature list: every check documented there
//! exists with the documented category, severity and needs, and nothing exists undocumented.

use std::collections::BTreeMap;

use prodready::api::{Category, Needs, Severity};
use prodready::checks::catalogue;

/// (category heading, severity, needs) for every check ID in the document.
fn documented() -> BTreeMap<String, (String, Severity, Needs)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/CHECKS.md"))
        .expect("docs/CHECKS.md");
    let mut section = String::new();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim().to_string();
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || cells[1] == "ID" || cells[1].starts_with("---") {
            continue;
        }
        let severity: Severity = cells[2].parse().expect("severity cell");
        let needs = match cells[3] {
            "object" => Needs::Object,
            "related" => Needs::Related,
            "live" => Needs::Live,
            other => panic!("unknown needs {other:?} for {}", cells[1]),
        };
        out.insert(cells[1].to_string(), (section.clone(), severity, needs));
    }
    out
}

/// The heading each category's checks are documented under.
fn heading(c: Category) -> &'static str {
    match c {
        Category::Probes => "Probes",
        Category::Security => "Security",
        Category::Availability => "Availability",
        Category::Resources => "Resources",
        Category::Storage => "Storage and data durability",
        Category::Network => "Network",
        Category::Images => "Images",
        Category::Configuration => "Configuration and secrets",
        Category::Exposure => "Exposure",
        Category::Observability => "Observability",
        Category::Rollout => "Rollout and lifecycle",
        Category::Helm => "Helm releases",
        Category::Validity => "Validity",
    }
}

#[test]
fn every_documented_check_exists_as_documented() {
    let docs = documented();
    assert_eq!(
        docs.len(),
        catalogue().len(),
        "docs/CHECKS.md documents every check of the catalogue"
    );
    for (id, (section, severity, needs)) in &docs {
        let check = prodready::checks::by_id(id)
            .unwrap_or_else(|| panic!("documented check {id} is not implemented"));
        assert_eq!(heading(check.category), section, "{id}: category");
        assert_eq!(check.severity, *severity, "{id}: severity");
        assert_eq!(check.needs, *needs, "{id}: needs");
    }
}

#[test]
fn no_check_is_undocumented() {
    let docs = documented();
    for check in catalogue() {
        assert!(
            docs.contains_key(check.id),
            "{} is implemented but not documented in docs/CHECKS.md",
            check.id
        );
    }
}

#[test]
fn catalogue_order_follows_the_document() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/CHECKS.md"))
        .expect("docs/CHECKS.md");
    let order: Vec<&str> = catalogue().iter().map(|c| c.id).collect();
    let mut positions: Vec<usize> = order
        .iter()
        .map(|id| text.find(&format!("| {id} |")).expect("documented"))
        .collect();
    let sorted = {
        let mut s = positions.clone();
        s.sort_unstable();
        s
    };
    assert_eq!(
        positions, sorted,
        "catalogue order differs from docs/CHECKS.md"
    );
    positions.dedup();
    assert_eq!(positions.len(), order.len());
}
