//! The fixed probe list: which origins are sent, and as what.

use corsproof_oracle::Origin;

use super::{Site, Target};
use corsproof_client::Request;
use corsproof_report::{AuditKind, SentRequest};

/// The attacker's own registrable domain in probe origins (`.test` is reserved, RFC 6761).
pub const ATTACKER: &str = "evil.test";

/// The method asked for by the preflight probe: a valid token no server has a reason to list,
/// so finding it in `Access-Control-Allow-Methods` means the server echoes what is asked.
pub const PROBE_METHOD: &str = "CORSPROOF";

/// The header asked for by the preflight probe (with `authorization`), for the same reason.
pub const PROBE_HEADER: &str = "x-corsproof-probe";

/// The `Access-Control-Request-Headers` value of the preflight probe (lowercase, sorted, as a
/// browser sends it).
pub const PROBE_REQUEST_HEADERS: &str = "authorization,x-corsproof-probe";

/// Characters a browser keeps in a host name (WHATWG URL: not forbidden domain code points;
/// Chromium since 119 no longer escapes them; `*` is left out, Chromium still escapes it and
/// Firefox refuses it). A server that parses or pattern-matches origins naively may stop at
/// one and take `https://example.com_.evil.test` for `https://example.com`.
pub const SPECIAL_CHARS: &[char] = &[
    '_', '-', '!', '"', '$', '&', '\'', '(', ')', '+', ',', ';', '=', '`', '{', '}', '~',
];

/// Origins on platforms where anyone can publish script (GitHub/GitLab Pages, code
/// playgrounds, static hosting and PaaS subdomains).
pub const THIRD_PARTIES: &[&str] = &[
    "https://evil.github.io",
    "https://evil.gitlab.io",
    "https://codepen.io",
    "https://cdpn.io",
    "https://jsfiddle.net",
    "https://fiddle.jshell.net",
    "https://output.jsbin.com",
    "https://evil.s3.amazonaws.com",
    "https://evil.herokuapp.com",
    "https://evil.netlify.app",
    "https://evil.vercel.app",
    "https://evil.pages.dev",
    "https://evil.web.app",
    "https://evil.glitch.me",
];

/// At most this many dots of the site's host are each replaced by `x` (unescaped-dot probes).
const MAX_DOT_PROBES: usize = 8;

/// What a probe looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// A `GET` without `Origin`: what a non-CORS request gets (for `Vary`).
    Baseline,
    /// A `GET` from the site's own origin: what the front end gets (for `Vary`).
    Site,
    /// An unrelated origin ([`AuditKind::OriginReflected`]).
    Reflection,
    /// `null` ([`AuditKind::NullOrigin`]).
    Null,
    /// The site's host with the attacker's domain appended ([`AuditKind::PrefixMatch`]).
    Prefix,
    /// The site's domain with a label prefix glued on ([`AuditKind::SuffixMatch`]).
    Suffix,
    /// The site's host inside, or a truncation of it ([`AuditKind::SubstringMatch`]).
    Substring,
    /// A dot of the site's host replaced by `x` ([`AuditKind::UnescapedDot`]).
    UnescapedDot,
    /// A new subdomain of the site's host or domain ([`AuditKind::AnySubdomain`]).
    AnySubdomain,
    /// The https site's host over http ([`AuditKind::HttpOriginTrusted`]).
    HttpScheme,
    /// The site's host, a special character, the attacker's domain
    /// ([`AuditKind::SpecialCharBypass`]).
    SpecialChar,
    /// A publish-anything platform ([`AuditKind::ThirdPartyOrigin`]).
    ThirdParty,
    /// An `OPTIONS` preflight from the attacker ([`AuditKind::PreflightReflected`],
    /// [`AuditKind::PreflightEcho`]).
    Preflight,
}

impl Class {
    /// The finding kind a granted probe of this class supports (`None` for the baselines).
    ///
    /// ```
    /// use corsproof_engine::audit::Class;
    /// use corsproof_report::AuditKind;
    /// assert_eq!(Class::Null.kind(), Some(AuditKind::NullOrigin));
    /// assert_eq!(Class::Baseline.kind(), None);
    /// ```
    pub fn kind(self) -> Option<AuditKind> {
        Some(match self {
            Class::Baseline | Class::Site => return None,
            Class::Reflection => AuditKind::OriginReflected,
            Class::Null => AuditKind::NullOrigin,
            Class::Prefix => AuditKind::PrefixMatch,
            Class::Suffix => AuditKind::SuffixMatch,
            Class::Substring => AuditKind::SubstringMatch,
            Class::UnescapedDot => AuditKind::UnescapedDot,
            Class::AnySubdomain => AuditKind::AnySubdomain,
            Class::HttpScheme => AuditKind::HttpOriginTrusted,
            Class::SpecialChar => AuditKind::SpecialCharBypass,
            Class::ThirdParty => AuditKind::ThirdPartyOrigin,
            Class::Preflight => AuditKind::PreflightReflected,
        })
    }
}

/// One probe: a request from one origin (or none).
///
/// ```
/// use corsproof_engine::audit::{probes, Class, Site, Target};
/// let site = Site::parse("https://example.com").unwrap();
/// let target = Target::parse("http://127.0.0.1:8080/api").unwrap();
/// let p = probes(&site).into_iter().find(|p| p.class == Class::Null).unwrap();
/// let sent = p.sent(&target);
/// assert_eq!(sent.headers[0], (b"Origin".to_vec(), b"null".to_vec()));
/// assert!(sent.curl().contains("'Origin: null'"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// What it looks for.
    pub class: Class,
    /// The `Origin` sent (`None` for [`Class::Baseline`]).
    pub origin: Option<String>,
}

impl Probe {
    /// Whether the probe is a preflight (`OPTIONS` with `Access-Control-Request-*`).
    pub fn is_preflight(&self) -> bool {
        self.class == Class::Preflight
    }

    /// The request as sent to `target`, header lines in order (`Host` and `Connection` are
    /// added on the wire).
    pub fn sent(&self, target: &Target) -> SentRequest {
        let method = if self.is_preflight() {
            "OPTIONS"
        } else {
            "GET"
        };
        let mut sent = SentRequest::new(method, target.url.as_str());
        if let Some(origin) = &self.origin {
            sent = sent.header("Origin", origin);
        }
        if self.is_preflight() {
            sent = sent
                .header("Access-Control-Request-Method", PROBE_METHOD)
                .header("Access-Control-Request-Headers", PROBE_REQUEST_HEADERS);
        }
        sent.header(
            "User-Agent",
            concat!("corsproof-audit/", env!("CARGO_PKG_VERSION")),
        )
    }
}

/// The wire request for a [`SentRequest`] to `target`.
pub(crate) fn wire_request(sent: &SentRequest, target: &Target) -> Request {
    sent.headers.iter().fold(
        Request::new(sent.method.as_bytes(), target.path.as_bytes()),
        |req, (n, v)| req.header(n.as_slice(), v.as_slice()),
    )
}

/// The fixed probe list for `site`, in the order sent: the baselines, then every class of
/// [`Class`]. Every origin is one a browser can send (a serialized origin that the WHATWG URL
/// parser round-trips); mutations that are not (e.g. a prefix glued to an IPv4 address) are
/// left out, as are duplicates and the site's own origin outside [`Class::Site`]. About 50
/// probes for a typical host, never more than 70.
///
/// ```
/// use corsproof_engine::audit::{probes, Class, Site};
/// let site = Site::parse("https://www.example.com").unwrap();
/// let list = probes(&site);
/// let of = |c: Class| -> Vec<String> {
///     list.iter().filter(|p| p.class == c).filter_map(|p| p.origin.clone()).collect()
/// };
/// assert_eq!(of(Class::Prefix), ["https://www.example.com.evil.test", "https://example.com.evil.test"]);
/// assert_eq!(of(Class::Suffix), ["https://evilwww.example.com", "https://evilexample.com"]);
/// assert_eq!(of(Class::UnescapedDot), ["https://wwwxexample.com", "https://www.examplexcom"]);
/// assert_eq!(of(Class::HttpScheme), ["http://www.example.com"]);
/// assert!(of(Class::SpecialChar).contains(&"https://www.example.com`.evil.test".to_string()));
/// assert!(list.len() <= 70);
/// ```
pub fn probes(site: &Site) -> Vec<Probe> {
    let h = site.host.as_str();
    let d = site.domain.as_str();
    let mut out: Vec<Probe> = Vec::with_capacity(64);
    let mut add = |class: Class, origin: Option<String>| {
        if let Some(o) = &origin {
            let sendable = Origin::parse_serialized(o).is_ok_and(|p| p.serialization() == o);
            let own = class != Class::Site && *o == site.origin;
            if !sendable || own || out.iter().any(|p| p.origin.as_ref() == Some(o)) {
                return;
            }
        }
        out.push(Probe { class, origin });
    };
    add(Class::Baseline, None);
    add(Class::Site, Some(site.origin.clone()));
    add(
        Class::Reflection,
        Some(format!("{}://{ATTACKER}", site.scheme)),
    );
    add(Class::Null, Some("null".to_string()));
    for host in distinct(h, d) {
        add(
            Class::Prefix,
            Some(site.with_host(&format!("{host}.{ATTACKER}"))),
        );
    }
    for host in distinct(h, d) {
        add(Class::Suffix, Some(site.with_host(&format!("evil{host}"))));
    }
    add(
        Class::Substring,
        Some(site.with_host(&format!("evil{h}.{ATTACKER}"))),
    );
    if let Some(shorter) = h.get(..h.len().saturating_sub(1)) {
        if !shorter.is_empty() && !shorter.ends_with('.') {
            add(Class::Substring, Some(site.with_host(shorter)));
        }
    }
    for (i, _) in h.match_indices('.').take(MAX_DOT_PROBES) {
        let mut host = h.to_string();
        host.replace_range(i..i + 1, "x");
        add(Class::UnescapedDot, Some(site.with_host(&host)));
    }
    for host in distinct(h, d) {
        add(
            Class::AnySubdomain,
            Some(site.with_host(&format!("evil.{host}"))),
        );
    }
    if site.scheme == "https" {
        add(Class::HttpScheme, Some(site.with_scheme_host("http", h)));
    }
    for c in SPECIAL_CHARS {
        add(
            Class::SpecialChar,
            Some(site.with_host(&format!("{h}{c}.{ATTACKER}"))),
        );
    }
    for origin in THIRD_PARTIES {
        add(Class::ThirdParty, Some((*origin).to_string()));
    }
    // The preflight reuses the reflection origin; it is a different request, so not a duplicate.
    out.push(Probe {
        class: Class::Preflight,
        origin: Some(format!("{}://{ATTACKER}", site.scheme)),
    });
    out
}

/// `[a]`, or `[a, b]` when they differ.
fn distinct<'a>(a: &'a str, b: &'a str) -> impl Iterator<Item = &'a str> {
    std::iter::once(a).chain((a != b).then_some(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_sites_keep_only_sendable_mutations() {
        let site = Site::parse("https://127.0.0.1:8443").unwrap();
        let list = probes(&site);
        for p in &list {
            if let Some(o) = &p.origin {
                assert!(Origin::parse_serialized(o).is_ok(), "{o}");
            }
        }
        // `https://evil127.0.0.1` is not a host; `https://127.0.0.1.evil.test:8443` is.
        assert!(list
            .iter()
            .all(|p| p.origin.as_deref() != Some("https://evil127.0.0.1:8443")));
        assert!(list
            .iter()
            .any(|p| p.origin.as_deref() == Some("https://127.0.0.1.evil.test:8443")));
    }

    #[test]
    fn one_of_each_class_for_a_plain_domain() {
        let site = Site::parse("https://example.com").unwrap();
        let list = probes(&site);
        for class in [
            Class::Baseline,
            Class::Site,
            Class::Reflection,
            Class::Null,
            Class::Prefix,
            Class::Suffix,
            Class::Substring,
            Class::UnescapedDot,
            Class::AnySubdomain,
            Class::HttpScheme,
            Class::SpecialChar,
            Class::ThirdParty,
            Class::Preflight,
        ] {
            assert!(list.iter().any(|p| p.class == class), "{class:?}");
        }
        assert!(list.len() >= 40 && list.len() <= 70, "{}", list.len());
    }
}
