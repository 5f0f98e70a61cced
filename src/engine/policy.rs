//! A ReadinessPolicy compiled for evaluation: per-check settings resolved by catalogue position,
//! so the hot loop does no lookups by name.

use std::collections::BTreeMap;

use crate::api::{
    ExemptionPolicy, Parameters, ReadinessPolicy, ReadinessPolicySpec, Severity, WebhookPolicy,
};
use crate::checks::{self, catalogue};
use crate::world::{Selector, World};

/// One check's settings under a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckSetting {
    pub enabled: bool,
    pub severity: Severity,
    /// The policy replaced the default severity.
    pub severity_fixed: bool,
    pub exemptible: bool,
}

/// A policy ready to evaluate with.
#[derive(Clone, Debug)]
pub struct CompiledPolicy {
    /// `None` for the built-in default.
    pub name: Option<String>,
    pub priority: i32,
    pub settings: Vec<CheckSetting>,
    pub params: Parameters,
    pub exemptions: ExemptionPolicy,
    pub webhook: WebhookPolicy,
    namespace_selector: Selector,
}

/// A policy that cannot be used as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy {policy}: unknown check id {id:?} in spec.checks (see `prodready checks`)")]
    UnknownCheck { policy: String, id: String },
}

impl CompiledPolicy {
    /// The built-in default: every check on, at its catalogue severity.
    pub fn builtin() -> CompiledPolicy {
        CompiledPolicy::compile(None, &ReadinessPolicySpec::default())
            .expect("the default policy names no checks")
    }

    pub fn from_resource(policy: &ReadinessPolicy) -> Result<CompiledPolicy, PolicyError> {
        let name = policy
            .metadata
            .name
            .clone()
            .unwrap_or_else(|| "(unnamed)".to_string());
        CompiledPolicy::compile(Some(name), &policy.spec)
    }

    pub fn compile(
        name: Option<String>,
        spec: &ReadinessPolicySpec,
    ) -> Result<CompiledPolicy, PolicyError> {
        let mut settings: Vec<CheckSetting> = catalogue()
            .iter()
            .map(|c| CheckSetting {
                enabled: !spec.disabled_categories.contains(&c.category),
                severity: c.severity,
                severity_fixed: false,
                exemptible: true,
            })
            .collect();
        for cp in &spec.checks {
            let Some(i) = checks::index_of(&cp.id) else {
                return Err(PolicyError::UnknownCheck {
                    policy: name.clone().unwrap_or_else(|| "(built-in)".into()),
                    id: cp.id.clone(),
                });
            };
            let s = &mut settings[i];
            if let Some(e) = cp.enabled {
                s.enabled = e;
            }
            if let Some(sev) = cp.severity {
                s.severity = sev;
                s.severity_fixed = true;
            }
            if let Some(x) = cp.exemptible {
                s.exemptible = x;
            }
        }
        Ok(CompiledPolicy {
            name,
            priority: spec.priority,
            settings,
            params: spec.parameters.clone(),
            exemptions: spec.exemptions.clone(),
            webhook: spec.webhook.clone(),
            namespace_selector: Selector::from_label_selector(
                spec.namespace_selector.as_ref(),
                true,
            ),
        })
    }

    /// Whether the policy selects a namespace with these labels.
    pub fn selects(&self, namespace_labels: &BTreeMap<String, String>) -> bool {
        self.namespace_selector.matches(namespace_labels)
    }
}

/// Every policy in force, most specific first, and the built-in default behind them.
#[derive(Clone, Debug)]
pub struct PolicySet {
    policies: Vec<CompiledPolicy>,
    builtin: CompiledPolicy,
}

impl Default for PolicySet {
    fn default() -> Self {
        PolicySet {
            policies: Vec::new(),
            builtin: CompiledPolicy::builtin(),
        }
    }
}

impl PolicySet {
    pub fn new(mut policies: Vec<CompiledPolicy>) -> PolicySet {
        policies.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.name.cmp(&b.name)));
        PolicySet {
            policies,
            builtin: CompiledPolicy::builtin(),
        }
    }

    pub fn policies(&self) -> &[CompiledPolicy] {
        &self.policies
    }

    /// The policy that governs a namespace. Namespace labels come from the World; when the
    /// Namespace object is unknown, the label Kubernetes sets on every namespace
    /// (`kubernetes.io/metadata.name`) still selects it.
    pub fn for_namespace(&self, namespace: &str, world: &World) -> &CompiledPolicy {
        if self.policies.is_empty() {
            return &self.builtin;
        }
        let fallback;
        let labels = match world.namespace_labels(namespace) {
            Some(l) => l,
            None => {
                fallback = BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_string(),
                    namespace.to_string(),
                )]);
                &fallback
            }
        };
        self.policies
            .iter()
            .find(|p| p.selects(labels))
            .unwrap_or(&self.builtin)
    }
}
