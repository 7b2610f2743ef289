//! Syntax of `origins` entries: exact origins, subdomain patterns and `null`.
//!
//! Parsing is lenient first (it understands uppercase, default ports, trailing slashes,
//! non-canonical IP addresses) so that errors can suggest the canonical spelling; an entry
//! is accepted only when it is already written canonically. Nothing here matches origins.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::error::ErrorCode;
use crate::model::{OriginEntry, Scheme};
use crate::punycode;

/// Why a string is not a valid `origins` entry.
///
/// ```
/// use corsproof_policy::{ErrorCode, OriginEntry};
/// let err = "https://App.example.com:443".parse::<OriginEntry>().unwrap_err();
/// assert_eq!(err.code(), ErrorCode::NonCanonicalOrigin);
/// assert_eq!(err.suggestion(), Some("https://app.example.com"));
/// assert_eq!(
///     err.to_string(),
///     r#""https://App.example.com:443" is not lowercase and spells out the default port 443; did you mean "https://app.example.com"?"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginSyntaxError {
    code: ErrorCode,
    input: String,
    problem: String,
    suggestion: Option<String>,
}

impl OriginSyntaxError {
    /// [`ErrorCode::InvalidOrigin`], [`ErrorCode::NonCanonicalOrigin`] or [`ErrorCode::InvalidOriginPattern`].
    ///
    /// ```
    /// let err = "https://a*.example.com".parse::<corsproof_policy::OriginEntry>().unwrap_err();
    /// assert_eq!(err.code(), corsproof_policy::ErrorCode::InvalidOriginPattern);
    /// ```
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The canonical entry the input probably meant, if there is one.
    ///
    /// ```
    /// let err = "https://example.com/".parse::<corsproof_policy::OriginEntry>().unwrap_err();
    /// assert_eq!(err.suggestion(), Some("https://example.com"));
    /// ```
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }
}

impl fmt::Display for OriginSyntaxError {
    /// `"<input>" <problem>[; did you mean "<suggestion>"?]`
    ///
    /// ```
    /// let err = "ftp://example.com".parse::<corsproof_policy::OriginEntry>().unwrap_err();
    /// assert!(err.to_string().starts_with(r#""ftp://example.com" has scheme "ftp""#));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}", self.input, self.problem)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean {s:?}?")?;
        }
        Ok(())
    }
}

impl std::error::Error for OriginSyntaxError {}

impl FromStr for OriginEntry {
    type Err = OriginSyntaxError;

    /// Parses one `origins` entry written canonically (`"*"` is not an entry: it stands
    /// for the whole list, see [`crate::Origins::Any`]).
    ///
    /// ```
    /// use corsproof_policy::{OriginEntry, Scheme};
    /// assert_eq!(
    ///     "https://*.example.com".parse::<OriginEntry>(),
    ///     Ok(OriginEntry::Subdomain { scheme: Scheme::Https, domain: "example.com".into(), port: None })
    /// );
    /// assert_eq!("null".parse::<OriginEntry>(), Ok(OriginEntry::Null));
    /// assert!("https://example.com/path".parse::<OriginEntry>().is_err());
    /// ```
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let mut notes = Vec::new();
        let entry = lenient(input, &mut notes).map_err(|failure| OriginSyntaxError {
            code: failure.code,
            input: input.to_string(),
            problem: failure.problem,
            suggestion: failure.suggestion,
        })?;
        let canonical = entry.to_string();
        if canonical == input {
            return Ok(entry);
        }
        let problem = if notes.is_empty() {
            "is not in canonical form".to_string()
        } else {
            notes.join(" and ")
        };
        Err(OriginSyntaxError {
            code: ErrorCode::NonCanonicalOrigin,
            input: input.to_string(),
            problem,
            suggestion: Some(canonical),
        })
    }
}

/// A structural failure of lenient parsing.
struct Failure {
    code: ErrorCode,
    problem: String,
    suggestion: Option<String>,
}

fn invalid(problem: impl Into<String>) -> Failure {
    Failure {
        code: ErrorCode::InvalidOrigin,
        problem: problem.into(),
        suggestion: None,
    }
}

fn pattern_error(problem: impl Into<String>) -> Failure {
    Failure {
        code: ErrorCode::InvalidOriginPattern,
        problem: problem.into(),
        suggestion: None,
    }
}

impl Failure {
    /// Adds the canonical form of `candidate` as a suggestion, if it parses.
    fn suggest(mut self, candidate: &str) -> Failure {
        let mut ignored = Vec::new();
        if !candidate.contains(char::is_whitespace) {
            if let Ok(entry) = lenient(candidate, &mut ignored) {
                self.suggestion = Some(entry.to_string());
            }
        }
        self
    }
}

/// Parses an entry, recording in `notes` every normalization that canonical form needed.
fn lenient(input: &str, notes: &mut Vec<String>) -> Result<OriginEntry, Failure> {
    if input.is_empty() {
        return Err(invalid("is empty"));
    }
    if input.trim() != input {
        return Err(invalid("has surrounding whitespace").suggest(input.trim()));
    }
    if input == "*" {
        return Err(invalid(
            "is only meaningful alone, as the whole list: origins = [\"*\"]",
        ));
    }
    let lower = input.to_ascii_lowercase();
    if lower != input {
        notes.push("is not lowercase".to_string());
    }
    if lower == "null" {
        return Ok(OriginEntry::Null);
    }
    let Some((scheme, rest)) = lower.split_once("://") else {
        return Err(invalid("is not an origin: expected scheme://host[:port]")
            .suggest(&format!("https://{input}")));
    };
    let scheme = match scheme {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        "" => {
            return Err(invalid(
                "has no scheme; only http and https origins can be listed",
            ))
        }
        other => {
            return Err(invalid(format!(
                "has scheme {other:?}; only http and https origins can be listed"
            )))
        }
    };
    let (authority, tail) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if tail == "/" {
        notes.push("has a trailing slash".to_string());
    } else if !tail.is_empty() {
        let what = match tail.chars().next() {
            Some('?') => "a query",
            Some('#') => "a fragment",
            _ => "a path",
        };
        return Err(invalid(format!(
            "has {what}; an origin is only scheme://host[:port]"
        ))
        .suggest(&format!("{}://{authority}", scheme.as_str())));
    }
    if let Some(at) = authority.rfind('@') {
        let host_part = authority.get(at + 1..).unwrap_or_default();
        return Err(
            invalid("has user info; an origin is only scheme://host[:port]")
                .suggest(&format!("{}://{host_part}", scheme.as_str())),
        );
    }
    let (host, port_text) = split_host_port(authority)?;
    let port = parse_port(port_text, scheme, notes)?;
    if host.is_empty() {
        return Err(invalid("has no host"));
    }
    if !host.is_ascii() {
        let mut failure =
            invalid("has a non-ASCII host; browsers serialize hosts in punycode (xn--...) form");
        if let Some(ascii) = punycode::to_ascii_host(host) {
            let port_part = port_text.map(|p| format!(":{p}")).unwrap_or_default();
            failure = failure.suggest(&format!("{}://{ascii}{port_part}", scheme.as_str()));
        }
        return Err(failure);
    }
    if host.contains('*') {
        return subdomain_pattern(host, scheme, port);
    }
    let host = canonical_host(host, notes).map_err(|failure| match host.strip_suffix('.') {
        Some(trimmed) if !trimmed.is_empty() => {
            let port_part = port_text.map(|p| format!(":{p}")).unwrap_or_default();
            failure.suggest(&format!("{}://{trimmed}{port_part}", scheme.as_str()))
        }
        _ => failure,
    })?;
    Ok(OriginEntry::Exact { scheme, host, port })
}

/// Splits `host[:port]`, keeping a host with a bracketed IPv6 address whole.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), Failure> {
    if authority.contains('[') {
        let Some(close) = authority.find(']') else {
            return Err(invalid("has an unterminated IPv6 address"));
        };
        let (host, after) = authority.split_at(close + 1);
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(invalid("has characters after the IPv6 address")),
        };
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

fn parse_port(
    text: Option<&str>,
    scheme: Scheme,
    notes: &mut Vec<String>,
) -> Result<Option<u16>, Failure> {
    let Some(text) = text else {
        return Ok(None);
    };
    if text.is_empty() {
        notes.push("has an empty port".to_string());
        return Ok(None);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!("has an invalid port {text:?}")));
    }
    let digits = text.trim_start_matches('0');
    let port = if digits.is_empty() {
        Some(0)
    } else if digits.len() <= 5 {
        digits.parse::<u16>().ok()
    } else {
        None
    };
    let Some(port) = port else {
        return Err(invalid(format!("has port {text}, above 65535")));
    };
    if text.len() > 1 && text.starts_with('0') {
        notes.push("has leading zeros in its port".to_string());
    }
    if port == scheme.default_port() {
        notes.push(format!("spells out the default port {port}"));
        return Ok(None);
    }
    Ok(Some(port))
}

fn subdomain_pattern(
    host: &str,
    scheme: Scheme,
    port: Option<u16>,
) -> Result<OriginEntry, Failure> {
    let usage = "`*` may only be the whole first label, as in \"https://*.example.com\"";
    let Some(domain) = host.strip_prefix("*.") else {
        return Err(pattern_error(format!(
            "is not a valid subdomain pattern: {usage}"
        )));
    };
    if domain.contains('*') {
        return Err(pattern_error(format!(
            "is not a valid subdomain pattern: {usage}"
        )));
    }
    if domain.starts_with('[') || ends_in_number(domain) {
        return Err(pattern_error(
            "is not a valid subdomain pattern: the part after \"*.\" must be a domain name, not an IP address",
        ));
    }
    if let Err(problem) = check_dns_name(domain) {
        return Err(pattern_error(format!(
            "is not a valid subdomain pattern: domain {domain:?} {problem}"
        )));
    }
    Ok(OriginEntry::Subdomain {
        scheme,
        domain: domain.to_string(),
        port,
    })
}

/// Validates a lowercase ASCII host (DNS name, IPv4 or bracketed IPv6) and returns its
/// canonical form.
fn canonical_host(host: &str, notes: &mut Vec<String>) -> Result<String, Failure> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let Ok(addr) = inner.parse::<Ipv6Addr>() else {
            return Err(invalid(format!("has an invalid IPv6 address {host:?}")));
        };
        let canonical = format!("[{}]", ipv6_to_string(addr));
        if canonical != host {
            notes
                .push("does not write the IPv6 address in canonical (compressed) form".to_string());
        }
        return Ok(canonical);
    }
    if ends_in_number(host) {
        let Some(addr) = parse_ipv4(host) else {
            return Err(invalid(format!(
                "has host {host:?}, which ends in a number but is not an IPv4 address"
            )));
        };
        let canonical = addr.to_string();
        if canonical != host {
            notes.push("does not write the IPv4 address in dotted-decimal form".to_string());
        }
        return Ok(canonical);
    }
    match check_dns_name(host) {
        Ok(()) => Ok(host.to_string()),
        Err(problem) => Err(invalid(format!("has host {host:?}, which {problem}"))),
    }
}

/// Checks a lowercase DNS name: labels of `[a-z0-9-]`, 1 to 63 long, not starting or ending
/// with `-`, at most 253 characters in all. Returns what is wrong.
pub(crate) fn check_dns_name(name: &str) -> Result<(), String> {
    if name.ends_with('.') {
        return Err("ends with a dot".to_string());
    }
    if name.len() > 253 {
        return Err("is longer than 253 characters".to_string());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("has an empty label".to_string());
        }
        if label.len() > 63 {
            return Err(format!("has a label longer than 63 characters ({label:?})"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(format!(
                "contains {c:?}; host names may only use a-z, 0-9, '-' and '.'"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "has a label that starts or ends with '-' ({label:?})"
            ));
        }
    }
    Ok(())
}

/// WHATWG URL "ends in a number": such a host is parsed as IPv4 by browsers.
fn ends_in_number(host: &str) -> bool {
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    let last = trimmed.rsplit('.').next().unwrap_or_default();
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    last.strip_prefix("0x")
        .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// WHATWG URL IPv4 parser (decimal, octal, hex parts; 1 to 4 parts).
fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let numbers = parts
        .iter()
        .map(|p| parse_ipv4_number(p))
        .collect::<Option<Vec<u64>>>()?;
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) {
        return None;
    }
    let remaining_bytes = 4 - u32::try_from(init.len()).ok()?;
    if *last >= 256u64.pow(remaining_bytes) {
        return None;
    }
    let mut value = *last;
    for (i, n) in init.iter().enumerate() {
        value += n << (8 * (3 - i));
    }
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

fn parse_ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x") {
        (hex, 16)
    } else if let Some(octal) = part.strip_prefix('0').filter(|rest| !rest.is_empty()) {
        (octal, 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// WHATWG URL IPv6 serialization: lowercase hex, no leading zeros, the first longest run
/// of two or more zero pieces compressed to `::`, no embedded IPv4 form.
pub(crate) fn ipv6_to_string(addr: Ipv6Addr) -> String {
    let pieces = addr.segments();
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < pieces.len() {
        let len = pieces[i..].iter().take_while(|&&p| p == 0).count();
        if len >= 2 && best.is_none_or(|(_, best_len)| len > best_len) {
            best = Some((i, len));
        }
        i += len.max(1);
    }
    let mut out = String::new();
    let mut i = 0;
    while i < pieces.len() {
        if let Some((start, len)) = best.filter(|&(start, _)| start == i) {
            out.push_str(if start == 0 { "::" } else { ":" });
            i += len;
            continue;
        }
        out.push_str(&format!("{:x}", pieces[i]));
        if i != pieces.len() - 1 {
            out.push(':');
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> OriginEntry {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> OriginSyntaxError {
        match s.parse::<OriginEntry>() {
            Ok(e) => panic!("{s} parsed as {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn exact_origins() {
        assert_eq!(
            ok("http://localhost:3000"),
            OriginEntry::Exact {
                scheme: Scheme::Http,
                host: "localhost".into(),
                port: Some(3000)
            }
        );
        for s in [
            "https://app.example.com",
            "https://xn--bcher-kva.example",
            "http://127.0.0.1:8080",
            "https://[::1]",
            "https://[2001:db8::1]:8443",
            "https://a-b.c0.example",
            "http://example.com:443",
            "https://example.com:80",
            "https://example.com:0",
        ] {
            assert_eq!(ok(s).to_string(), s);
        }
    }

    #[test]
    fn non_canonical_spellings_suggest_the_canonical_one() {
        for (input, suggestion) in [
            ("https://App.Example.com", "https://app.example.com"),
            ("HTTPS://example.com", "https://example.com"),
            ("https://example.com:443", "https://example.com"),
            ("http://example.com:80", "http://example.com"),
            ("https://example.com/", "https://example.com"),
            ("https://example.com:", "https://example.com"),
            ("https://example.com:08443", "https://example.com:8443"),
            ("http://127.1", "http://127.0.0.1"),
            ("http://0x7f.0.0.1", "http://127.0.0.1"),
            ("https://[0:0::1]", "https://[::1]"),
            ("https://[::FFFF:1.2.3.4]", "https://[::ffff:102:304]"),
            ("NULL", "null"),
        ] {
            let e = err(input);
            assert_eq!(e.code(), ErrorCode::NonCanonicalOrigin, "{input}");
            assert_eq!(e.suggestion(), Some(suggestion), "{input}");
        }
    }

    #[test]
    fn malformed_origins() {
        for (input, fragment) in [
            ("", "is empty"),
            ("example.com", "expected scheme://host"),
            ("ftp://example.com", "only http and https"),
            ("https://", "has no host"),
            ("https://example.com/api", "has a path"),
            ("https://example.com?x", "has a query"),
            ("https://example.com#x", "has a fragment"),
            ("https://user@example.com", "user info"),
            ("https://example.com:99999", "above 65535"),
            ("https://example.com:8x", "invalid port"),
            ("https://exa_mple.com", "'_'"),
            ("https://-a.example.com", "starts or ends with '-'"),
            ("https://a..example.com", "empty label"),
            ("https://example.com.", "ends with a dot"),
            ("https://bücher.example", "non-ASCII"),
            ("https://[fe80::1%eth0]", "invalid IPv6"),
            ("https://[::1", "unterminated"),
            ("https://a.123", "not an IPv4 address"),
            ("https://256.0.0.1", "not an IPv4 address"),
            (" https://example.com", "whitespace"),
            ("*", "alone"),
        ] {
            let e = err(input);
            assert_eq!(e.code(), ErrorCode::InvalidOrigin, "{input}");
            assert!(e.to_string().contains(fragment), "{input}: {e}");
        }
        assert_eq!(err("example.com").suggestion(), Some("https://example.com"));
        assert_eq!(
            err("https://example.com/api/").suggestion(),
            Some("https://example.com")
        );
        assert_eq!(
            err("https://bücher.example").suggestion(),
            Some("https://xn--bcher-kva.example")
        );
        assert_eq!(
            err("https://example.com.").suggestion(),
            Some("https://example.com")
        );
        let long = format!("https://{}.com", "a".repeat(64));
        assert!(err(&long).to_string().contains("longer than 63"));
        let long = format!("https://{}com", "abcdefghi.".repeat(26));
        assert!(err(&long).to_string().contains("253"));
    }

    #[test]
    fn subdomain_patterns() {
        assert_eq!(
            ok("http://*.localhost:3000"),
            OriginEntry::Subdomain {
                scheme: Scheme::Http,
                domain: "localhost".into(),
                port: Some(3000)
            }
        );
        assert_eq!(ok("https://*.com").to_string(), "https://*.com");
        for input in [
            "https://a*.b.com",
            "https://*b.example.com",
            "https://x.*.example.com",
            "https://*.*.example.com",
            "https://*",
            "https://*.",
            "https://*.1.2.3.4",
            "https://*.[::1]",
            "https://*.-x.com",
        ] {
            assert_eq!(
                err(input).code(),
                ErrorCode::InvalidOriginPattern,
                "{input}"
            );
        }
        assert_eq!(
            err("https://*.Example.com").suggestion(),
            Some("https://*.example.com")
        );
    }

    #[test]
    fn ipv6_serialization_compresses_the_first_longest_zero_run() {
        for (input, expected) in [
            ("::", "::"),
            ("::1", "::1"),
            ("1::", "1::"),
            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
            ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
            ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
            ("2001:DB8::0001", "2001:db8::1"),
        ] {
            let addr: Ipv6Addr = input.parse().unwrap();
            assert_eq!(ipv6_to_string(addr), expected, "{input}");
        }
    }

    #[test]
    fn ipv4_parser_follows_whatwg() {
        assert_eq!(parse_ipv4("127.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(parse_ipv4("0x7f000001"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(parse_ipv4("017.0.0.1"), Some(Ipv4Addr::new(15, 0, 0, 1)));
        assert_eq!(parse_ipv4("1.2.3.4."), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(parse_ipv4("1.2.3.4.5"), None);
        assert_eq!(parse_ipv4("1.2.3.256"), None);
        assert_eq!(parse_ipv4("99999999999999999999999"), None);
        assert_eq!(parse_ipv4("1.08"), None);
    }
}
