//! The differential property: the same browser request played on a second target of the same
//! policy; under each profile, whether it is sent, whether it is readable, and which of the
//! headers both responses carry script can see must agree. The policy's intent says which
//! target is wrong.

use corsproof_oracle::{Origin, Profile, RequestInit};
use corsproof_policy::Policy;
use corsproof_report::CheckKind;

use super::draft::Draft;
use super::exchange::{seen_pairs, Exchanger};
use super::play::{play, Played};
use super::target::Target;

/// The `differential` draft of a case already played on `first` (`played`), if the second
/// target (the exchanger's) disagrees under some profile.
pub(crate) async fn draft(
    policy: &Policy,
    profiles: &[Profile],
    first: &Target,
    init: &RequestInit,
    played: &[Played],
    ex: &mut Exchanger<'_>,
) -> Option<Draft> {
    // A request from the first target's own origin is same-origin there only.
    if Origin::of_url(&init.url).same_origin(&init.origin) {
        return None;
    }
    let mut init = init.clone();
    init.url = ex.target().rebase(&init.url);
    for a in played {
        let Some(profile) = profiles.iter().find(|p| p.id == a.profile) else {
            continue;
        };
        let Some(b) = play(policy, &init, profile, ex).await else {
            continue;
        };
        let (va, vb) = (shared(a, &b), shared(&b, a));
        if a.sent == b.sent && a.readable == b.readable && va == vb {
            continue;
        }
        let other = &ex.target().base;
        let wrong = match (a.mismatches.is_empty(), b.mismatches.is_empty()) {
            (true, false) => format!("{other} disagrees with the policy"),
            (false, true) => format!("{} disagrees with the policy", first.base),
            (false, false) => "both disagree with the policy".to_string(),
            (true, true) => "the policy leaves this open (may), so both conform".to_string(),
        };
        let mut exchanges = seen_pairs(&a.exchanges);
        exchanges.extend(seen_pairs(&b.exchanges));
        return Some(Draft {
            kind: CheckKind::Differential,
            profiles: vec![a.profile],
            exchanges,
            expected: format!("{}: {}", first.base, describe(a, &va)),
            observed: format!("{other}: {}", describe(&b, &vb)),
            rule: a.decided_by(),
            decided_by: None,
            explanation: format!("the two targets give different browser outcomes; {wrong}"),
        });
    }
    None
}

/// The visibility of the header names `x`'s response shares with `y`'s, sorted.
fn shared(x: &Played, y: &Played) -> Vec<(String, bool)> {
    let theirs = y.visible();
    let mut v: Vec<(String, bool)> = x
        .visible()
        .into_iter()
        .filter(|(n, _)| theirs.iter().any(|(m, _)| m == n))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn describe(j: &Played, v: &[(String, bool)]) -> String {
    let seen: Vec<&str> = v
        .iter()
        .filter(|(_, s)| *s)
        .map(|(n, _)| n.as_str())
        .collect();
    format!(
        "sent {}, readable {}, visible [{}]",
        j.sent,
        j.readable,
        seen.join(", ")
    )
}
