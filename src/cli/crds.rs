//! `prodready crds`: the CustomResourceDefinitions, generated from the Rust types so the
//! checked-in YAML under `crds/` can never say something the code does not.

use std::io::{self, Write};
use std::path::Path;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use super::{CrdsArgs, EXIT_INPUT, EXIT_OK, finish_stdout};
use crate::api::{ReadinessPolicy, ReadinessReport};

const HEADER: &str = "# Generated from the Rust types in src/api: do not edit.\n\
                      # Regenerate with `cargo run -- crds --output-dir crds`.\n";

/// The file a CRD is checked in as: `<plural>.<group>.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.{}.yaml", crd.spec.names.plural, crd.spec.group)
}

/// Every CRD as (file name, YAML document with its header), in a fixed order.
pub fn crd_documents() -> Vec<(String, String)> {
    [ReadinessReport::crd(), ReadinessPolicy::crd()]
        .iter()
        .map(|crd| {
            let yaml = serde_yaml_ng::to_string(crd).expect("a CRD serialises to YAML");
            (crd_file_name(crd), format!("{HEADER}{yaml}"))
        })
        .collect()
}

pub fn run(args: &CrdsArgs) -> u8 {
    let docs = crd_documents();
    match &args.output_dir {
        Some(dir) => write_files(dir, &docs),
        None => {
            let mut out = io::stdout().lock();
            let written = docs
                .iter()
                .try_for_each(|(_, yaml)| write!(out, "---\n{yaml}"));
            drop(out);
            finish_stdout(written)
        }
    }
}

fn write_files(dir: &Path, docs: &[(String, String)]) -> u8 {
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return EXIT_INPUT;
    }
    for (name, yaml) in docs {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, yaml) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_INPUT;
        }
        tracing::info!(path = %path.display(), "wrote CRD");
    }
    EXIT_OK
}
