//! Shrinking: a finding's case made smaller while the finding still shows, so that the
//! report's example has the fewest headers and options that still reproduce it.

use corsproof_oracle::{CredentialsMode, RequestInit, RequestMode};

/// At most this many re-evaluations per finding.
pub(crate) const BUDGET: usize = 48;

/// Candidate simplifications of a case, each smaller by [`size`].
pub(crate) fn simplifications(case: &RequestInit) -> Vec<RequestInit> {
    let mut out = Vec::new();
    for i in 0..case.headers.len() {
        let mut c = case.clone();
        c.headers.remove(i);
        out.push(c);
    }
    if case.use_cors_preflight {
        let mut c = case.clone();
        c.use_cors_preflight = false;
        out.push(c);
    }
    if case.method != "GET" {
        let mut c = case.clone();
        c.method = "GET".to_string();
        out.push(c);
    }
    if case.credentials != CredentialsMode::Omit {
        let mut c = case.clone();
        c.credentials = CredentialsMode::Omit;
        out.push(c);
    }
    if case.mode != RequestMode::Cors {
        let mut c = case.clone();
        c.mode = RequestMode::Cors;
        out.push(c);
    }
    if case.url.query().is_some() {
        let mut c = case.clone();
        c.url.set_query(None);
        out.push(c);
    }
    out
}

/// How big a case is, for choosing the smallest example: headers weigh most.
pub(crate) fn size(case: &RequestInit) -> usize {
    case.headers.len() * 4
        + usize::from(case.method != "GET") * 2
        + usize::from(case.credentials != CredentialsMode::Omit)
        + usize::from(case.mode != RequestMode::Cors)
        + usize::from(case.use_cors_preflight)
        + usize::from(case.url.query().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsproof_oracle::Origin;

    #[test]
    fn simplifications_shrink() {
        let mut case = RequestInit::new(
            url::Url::parse("http://127.0.0.1:1/a?q=1").expect("URL"),
            Origin::parse_serialized("https://a.test").expect("origin"),
        );
        case.method = "PUT".into();
        case.headers = vec![
            (b"X-A".to_vec(), b"1".to_vec()),
            (b"X-B".to_vec(), b"2".to_vec()),
        ];
        case.credentials = CredentialsMode::Include;
        let all = simplifications(&case);
        assert_eq!(all.len(), 5);
        for c in all {
            assert!(size(&c) < size(&case), "{c:?}");
        }
    }
}
