use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How bad a failing check is, on the PolicyReport scale. Declared from least to most severe so
/// that `Ord` compares by severity.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, most severe first (the order reports are printed in).
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The weight of a check of this severity in the score.
    pub fn weight(self) -> u32 {
        match self {
            Severity::Critical => 10,
            Severity::High => 5,
            Severity::Medium => 3,
            Severity::Low => 1,
            Severity::Info => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" => Ok(Severity::High),
            "medium" => Ok(Severity::Medium),
            "low" => Ok(Severity::Low),
            "info" => Ok(Severity::Info),
            other => Err(format!(
                "unknown severity {other:?}: expected critical, high, medium, low or info"
            )),
        }
    }
}

/// The outcome of one check on one workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckResult {
    Pass,
    /// A problem below the failing bar (for example a live failure still inside its grace period).
    Warn,
    Fail,
    /// Not judged: the objects it needs are absent, or the workload is exempt.
    Skip,
}

impl CheckResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Pass => "pass",
            CheckResult::Warn => "warn",
            CheckResult::Fail => "fail",
            CheckResult::Skip => "skip",
        }
    }
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The summary verdict, in the words the hand-written audits use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Verdict {
    #[default]
    Ready,
    NeedsAttention,
    NotReady,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "Ready",
            Verdict::NeedsAttention => "NeedsAttention",
            Verdict::NotReady => "NotReady",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The catalogue's categories.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Category {
    Probes,
    Security,
    Availability,
    Resources,
    Storage,
    Network,
    Images,
    Configuration,
    Exposure,
    Observability,
    Rollout,
    Helm,
    /// Objects that route to, select or refer to nothing, or that the apiserver refuses.
    Validity,
}

impl Category {
    pub const ALL: [Category; 13] = [
        Category::Probes,
        Category::Security,
        Category::Availability,
        Category::Resources,
        Category::Storage,
        Category::Network,
        Category::Images,
        Category::Configuration,
        Category::Exposure,
        Category::Observability,
        Category::Rollout,
        Category::Helm,
        Category::Validity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Probes => "Probes",
            Category::Security => "Security",
            Category::Availability => "Availability",
            Category::Resources => "Resources",
            Category::Storage => "Storage",
            Category::Network => "Network",
            Category::Images => "Images",
            Category::Configuration => "Configuration",
            Category::Exposure => "Exposure",
            Category::Observability => "Observability",
            Category::Rollout => "Rollout",
            Category::Helm => "Helm",
            Category::Validity => "Validity",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a check needs to be judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Needs {
    /// The workload alone.
    Object,
    /// Other objects too (NetworkPolicies, PDBs, Services...).
    Related,
    /// Observed state: the workload's status, its pods, claims, Helm release.
    Live,
}

impl Needs {
    pub fn as_str(self) -> &'static str {
        match self {
            Needs::Object => "object",
            Needs::Related => "related",
            Needs::Live => "live",
        }
    }
}

impl fmt::Display for Needs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
