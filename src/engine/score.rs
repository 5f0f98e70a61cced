//! The score and the verdict, as the catalogue defines them.

use crate::api::{CheckResult, Finding, Severity, Verdict};

/// 0-100 from weights earned over weights possible; 100 when nothing applies.
pub fn score(earned: u32, possible: u32) -> u8 {
    if possible == 0 {
        return 100;
    }
    // Round down, so a single failing check never rounds back up to a perfect score.
    ((u64::from(earned) * 100) / u64::from(possible)) as u8
}

/// `NotReady` with any failing critical, `NeedsAttention` with any failing high or medium,
/// else `Ready`.
pub fn verdict(findings: &[Finding]) -> Verdict {
    let worst = findings
        .iter()
        .filter(|f| f.result == CheckResult::Fail)
        .map(|f| f.severity)
        .max();
    match worst {
        Some(Severity::Critical) => Verdict::NotReady,
        Some(Severity::High) | Some(Severity::Medium) => Verdict::NeedsAttention,
        _ => Verdict::Ready,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_rounds_down_and_is_full_when_nothing_applies() {
        assert_eq!(score(0, 0), 100);
        assert_eq!(score(199, 200), 99);
        assert_eq!(score(10, 20), 50);
    }
}
