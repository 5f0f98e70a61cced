//! The reason a check gives for not judging when the related kinds it needs are unknown.
//!
//! The same few lists of kinds come up for every workload judged, often a dozen times per
//! workload (no Pods in an offline audit, no monitoring CRDs in many clusters), so each reason
//! is written once and then shared rather than formatted again for every finding.

use std::borrow::Cow;
use std::sync::{PoisonError, RwLock};

use crate::world::RelatedKind;

/// Reasons written so far, by their list of kinds. The lists are those the checks name, so
/// this holds a few dozen entries at most and each reason lives as long as the process.
static REASONS: RwLock<Vec<(u64, &'static str)>> = RwLock::new(Vec::new());

/// Bits per kind in a key: every kind's number plus one (zero ends the list) fits.
const BITS: u32 = 5;
const _: () = assert!(RelatedKind::ALL.len() < (1 << BITS));

/// `not judged: no Pod objects are known...`, naming `kinds` in their order.
pub fn missing_reason(kinds: &[RelatedKind]) -> Cow<'static, str> {
    let Some(key) = key(kinds) else {
        return Cow::Owned(write(kinds));
    };
    let known =
        |reasons: &[(u64, &'static str)]| reasons.iter().find(|(k, _)| *k == key).map(|(_, r)| *r);
    if let Some(reason) = known(&REASONS.read().unwrap_or_else(PoisonError::into_inner)) {
        return Cow::Borrowed(reason);
    }
    let mut reasons = REASONS.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(reason) = known(&reasons) {
        return Cow::Borrowed(reason);
    }
    let reason: &'static str = Box::leak(write(kinds).into_boxed_str());
    reasons.push((key, reason));
    Cow::Borrowed(reason)
}

/// The list of kinds as one number, in order; `None` for a list too long to fit, which is
/// then written each time.
fn key(kinds: &[RelatedKind]) -> Option<u64> {
    if kinds.len() > (u64::BITS / BITS) as usize {
        return None;
    }
    Some(
        kinds
            .iter()
            .fold(0, |key, kind| (key << BITS) | (*kind as u64 + 1)),
    )
}

fn write(kinds: &[RelatedKind]) -> String {
    let list = match kinds {
        [] => String::new(),
        [one] => one.as_str().to_string(),
        [rest @ .., last] => {
            let rest: Vec<&str> = rest.iter().map(|k| k.as_str()).collect();
            format!("{} or {}", rest.join(", "), last.as_str())
        }
    };
    format!(
        "not judged: no {list} objects are known (none in the input, or not watched in the cluster)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_the_kinds_in_order() {
        assert_eq!(
            missing_reason(&[RelatedKind::Pod]),
            "not judged: no Pod objects are known (none in the input, or not watched in the cluster)"
        );
        assert_eq!(
            missing_reason(&[RelatedKind::ServiceMonitor, RelatedKind::PodMonitor]),
            "not judged: no ServiceMonitor or PodMonitor objects are known (none in the input, \
             or not watched in the cluster)"
        );
        assert_eq!(
            missing_reason(&[
                RelatedKind::Secret,
                RelatedKind::ConfigMap,
                RelatedKind::Pod
            ]),
            "not judged: no Secret, ConfigMap or Pod objects are known (none in the input, or \
             not watched in the cluster)"
        );
        // The same kinds in another order are another reason.
        assert_eq!(
            missing_reason(&[RelatedKind::PodMonitor, RelatedKind::ServiceMonitor]),
            "not judged: no PodMonitor or ServiceMonitor objects are known (none in the input, \
             or not watched in the cluster)"
        );
    }

    #[test]
    fn a_reason_is_written_once() {
        let kinds = [RelatedKind::VeleroSchedule, RelatedKind::Namespace];
        let (Cow::Borrowed(first), Cow::Borrowed(again)) =
            (missing_reason(&kinds), missing_reason(&kinds))
        else {
            panic!("a short list of kinds is shared");
        };
        assert!(std::ptr::eq(first, again));
    }

    #[test]
    fn a_list_too_long_for_a_key_is_still_written() {
        let all = RelatedKind::ALL;
        let reason = missing_reason(&all);
        assert!(matches!(reason, Cow::Owned(_)));
        assert!(reason.starts_with("not judged: no Service, Ingress, NetworkPolicy, "));
        assert!(reason.contains(", Endpoints or Namespace objects are known"));
        assert_eq!(missing_reason(&all), reason);
    }
}
