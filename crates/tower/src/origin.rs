//! Origin matching: a precompiled set of exact serialized origins plus label-aware
//! subdomain patterns. No parsing of the request's `Origin` beyond byte comparisons, no
//! regular expressions, no allocation.

use std::collections::HashMap;

use http::HeaderValue;

/// Exact sets up to this size are scanned linearly (faster than hashing for a few entries).
const SMALL_SET: usize = 8;

/// What a route's `origins` grants to one request origin.
#[derive(Debug)]
pub(crate) enum Grant {
    /// Not allowed.
    Refused,
    /// Allowed; echo this precomputed value (the serialized origin, byte-identical to the request's).
    Value(HeaderValue),
    /// Allowed by a subdomain pattern; echo the request's own `Origin` value.
    Request,
}

/// The exact origins (including `null`) and subdomain patterns of one route.
#[derive(Debug)]
pub(crate) struct OriginSet {
    exact: Exact,
    patterns: Box<[Pattern]>,
}

#[derive(Debug)]
enum Exact {
    Small(Box<[(Box<[u8]>, HeaderValue)]>),
    Large(HashMap<Box<[u8]>, HeaderValue>),
}

/// `scheme://*.domain[:port]`, stored as the bytes an origin must start and end with.
#[derive(Debug)]
pub(crate) struct Pattern {
    /// `https://` or `http://`.
    scheme: &'static [u8],
    /// `.domain` or `.domain:port`.
    suffix: Box<[u8]>,
}

impl Pattern {
    /// A pattern for `scheme://*.domain[:port]`.
    pub(crate) fn new(scheme: &'static [u8], domain: &str, port: Option<u16>) -> Pattern {
        let mut suffix = format!(".{domain}");
        if let Some(port) = port {
            suffix.push(':');
            suffix.push_str(&port.to_string());
        }
        Pattern {
            scheme,
            suffix: suffix.into_bytes().into_boxed_slice(),
        }
    }

    /// True iff `origin` is `scheme://` + one or more DNS labels + `suffix`: the labels in
    /// front are each 1 to 63 bytes of `a-z 0-9 -`, not starting or ending with `-`, so the
    /// apex itself, `evilexample.com`, `example.com.evil.test`, another port or scheme,
    /// uppercase and empty labels never match.
    fn matches(&self, origin: &[u8]) -> bool {
        origin
            .strip_prefix(self.scheme)
            .and_then(|rest| rest.strip_suffix(&*self.suffix))
            .is_some_and(are_dns_labels)
    }
}

/// One or more dot-separated DNS labels (the policy's definition of a label).
fn are_dns_labels(s: &[u8]) -> bool {
    !s.is_empty() && s.split(|&b| b == b'.').all(is_dns_label)
}

fn is_dns_label(label: &[u8]) -> bool {
    matches!(label.len(), 1..=63)
        && label
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && label.first() != Some(&b'-')
        && label.last() != Some(&b'-')
}

impl OriginSet {
    /// `exact` holds full serialized origins (`https://a.example`, `null`) with their
    /// precomputed header values.
    pub(crate) fn new(exact: Vec<(Box<[u8]>, HeaderValue)>, patterns: Vec<Pattern>) -> OriginSet {
        let exact = if exact.len() <= SMALL_SET {
            Exact::Small(exact.into_boxed_slice())
        } else {
            Exact::Large(exact.into_iter().collect())
        };
        OriginSet {
            exact,
            patterns: patterns.into_boxed_slice(),
        }
    }

    /// What this set grants to the request origin `origin` (the raw header bytes).
    pub(crate) fn grant(&self, origin: &[u8]) -> Grant {
        let exact = match &self.exact {
            Exact::Small(list) => list
                .iter()
                .find(|(bytes, _)| **bytes == *origin)
                .map(|(_, value)| value),
            Exact::Large(map) => map.get(origin),
        };
        if let Some(value) = exact {
            return Grant::Value(value.clone());
        }
        if self.patterns.iter().any(|p| p.matches(origin)) {
            return Grant::Request;
        }
        Grant::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(patterns: Vec<Pattern>) -> OriginSet {
        OriginSet::new(Vec::new(), patterns)
    }

    fn allowed(s: &OriginSet, origin: &str) -> bool {
        !matches!(s.grant(origin.as_bytes()), Grant::Refused)
    }

    #[test]
    fn subdomain_patterns_are_label_aware() {
        let s = set(vec![Pattern::new(b"https://", "example.com", None)]);
        for yes in [
            "https://a.example.com",
            "https://a.b.example.com",
            "https://xn--bcher-kva.example.com",
            "https://a-b.example.com",
            "https://1.example.com",
        ] {
            assert!(allowed(&s, yes), "{yes}");
        }
        for no in [
            "https://example.com",
            "https://.example.com",
            "https://a..example.com",
            "https://evilexample.com",
            "https://a.evilexample.com",
            "https://example.com.evil.test",
            "https://a.example.com.evil.test",
            "http://a.example.com",
            "https://a.example.com:443",
            "https://a.example.com:8443",
            "https://A.example.com",
            "https://-a.example.com",
            "https://a-.example.com",
            "https://a_b.example.com",
            "https://a:1.example.com",
            "https://a/b.example.com",
            "https://a.example.com/",
            "https://a.example.com.",
            "null",
            "",
        ] {
            assert!(!allowed(&s, no), "{no}");
        }
        let long = format!("https://{}.example.com", "a".repeat(64));
        assert!(!allowed(&s, &long));
        let ok = format!("https://{}.example.com", "a".repeat(63));
        assert!(allowed(&s, &ok));
    }

    #[test]
    fn pattern_ports_must_match_exactly() {
        let s = set(vec![Pattern::new(b"https://", "example.com", Some(8443))]);
        assert!(allowed(&s, "https://a.example.com:8443"));
        assert!(!allowed(&s, "https://a.example.com"));
        assert!(!allowed(&s, "https://a.example.com:84430"));
        assert!(!allowed(&s, "https://a.example.com:844"));
        assert!(!allowed(&s, "https://example.com:8443"));
    }

    #[test]
    fn exact_sets_small_and_large_agree() {
        for n in [1usize, SMALL_SET, SMALL_SET + 1, 50] {
            let exact: Vec<_> = (0..n)
                .map(|i| {
                    let s = format!("https://h{i}.example");
                    let v = HeaderValue::from_str(&s).unwrap();
                    (s.into_bytes().into_boxed_slice(), v)
                })
                .collect();
            let s = OriginSet::new(exact, Vec::new());
            for i in 0..n {
                let o = format!("https://h{i}.example");
                match s.grant(o.as_bytes()) {
                    Grant::Value(v) => assert_eq!(v.as_bytes(), o.as_bytes()),
                    other => panic!("{o}: {other:?}"),
                }
            }
            assert!(!allowed(&s, &format!("https://h{n}.example")));
            assert!(!allowed(&s, "https://h0.example/"));
        }
    }
}
