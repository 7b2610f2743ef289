//! The audited URL and the site origin whose neighbours are probed.

use std::net::Ipv6Addr;

use corsproof_oracle::origin::OriginError;
use corsproof_oracle::Origin;

use super::AuditError;

/// The audited URL, split for the raw HTTP/1.1 client: `http://`, or `https://` (HTTP/1.1
/// over TLS).
///
/// ```
/// use corsproof_engine::audit::Target;
/// let t = Target::parse("http://API.example.com:8080/v1/me?x=1#frag").unwrap();
/// assert_eq!(t.url, "http://api.example.com:8080/v1/me?x=1");
/// assert_eq!((t.host.as_str(), t.port), ("api.example.com", 8080));
/// assert_eq!(t.authority, "api.example.com:8080");
/// assert_eq!(t.connect, "api.example.com:8080");
/// assert_eq!(t.path, "/v1/me?x=1");
/// assert!(!t.https);
/// let t = Target::parse("https://api.example.com").unwrap();
/// assert_eq!((t.url.as_str(), t.connect.as_str(), t.https), ("https://api.example.com/", "api.example.com:443", true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL, normalized: `SCHEME://AUTHORITY/PATH?QUERY` (lowercase scheme and host, no
    /// default port, no fragment, `/` for an empty path).
    pub url: String,
    /// Whether the URL is `https://` (TLS).
    pub https: bool,
    /// The host: a lowercase name, an IPv4 address, or an IPv6 address in brackets.
    pub host: String,
    /// The TCP port (the scheme's default, 80 or 443, unless given).
    pub port: u16,
    /// The `Host` field value: the host, with `:PORT` when not the scheme's default.
    pub authority: String,
    /// What to connect to: `HOST:PORT`.
    pub connect: String,
    /// The request target: path and query.
    pub path: String,
}

impl Target {
    /// Parses an `http://` or `https://` URL (no user info, ASCII host; punycode for IDNs).
    ///
    /// ```
    /// use corsproof_engine::audit::{AuditError, Target};
    /// assert_eq!(Target::parse("http://[::1]:9000").unwrap().connect, "[::1]:9000");
    /// assert_eq!(Target::parse("HTTPS://a.test:443/x").unwrap().url, "https://a.test/x");
    /// assert!(matches!(Target::parse("ftp://a.test/"), Err(AuditError::InvalidUrl { .. })));
    /// ```
    pub fn parse(url: &str) -> Result<Target, AuditError> {
        let bad = |why: &str| AuditError::InvalidUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        if url.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err(bad(
                "it contains spaces, control or non-ASCII characters (percent-encode them; punycode for host names)",
            ));
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(bad("it has no scheme; write http://HOST[:PORT]/PATH"));
        };
        let (https, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (false, 80),
            "https" => (true, 443),
            _ => return Err(bad("only http:// and https:// URLs are supported")),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let tail = tail.split('#').next().unwrap_or("");
        let path = match tail.as_bytes().first() {
            None => "/".to_string(),
            Some(b'?') => format!("/{tail}"),
            Some(_) => tail.to_string(),
        };
        if authority.contains('@') {
            return Err(bad("user names and passwords in the URL are not supported"));
        }
        let (host, port) = split_host_port(authority).map_err(|why| bad(&why))?;
        let port = port.unwrap_or(default_port);
        let authority = if port == default_port {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        let scheme = if https { "https" } else { "http" };
        Ok(Target {
            url: format!("{scheme}://{authority}{path}"),
            https,
            connect: format!("{host}:{port}"),
            host,
            port,
            authority,
            path,
        })
    }
}

/// Splits `host[:port]` (or `[v6][:port]`), validating both parts.
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((addr, after)) = inner.split_once(']') else {
            return Err("an IPv6 address is missing its closing `]`".into());
        };
        let addr: Ipv6Addr = addr
            .parse()
            .map_err(|_| format!("[{addr}] is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("junk after the IPv6 address")?),
        };
        (format!("[{addr}]"), port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    if host.is_empty() {
        return Err("it has no host".into());
    }
    if !host.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return Err(format!("{host:?} is not a host name or address"));
    }
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 5 => {
            match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(format!("port {p} is out of range")),
                Ok(n) => Some(n),
            }
        }
        Some(p) => return Err(format!("port {p:?} is not a number")),
    };
    Ok((host, port))
}

/// The site whose own front end calls the audited URL: its serialized origin, split, with the
/// registrable domain the probes mutate.
///
/// ```
/// use corsproof_engine::audit::Site;
/// let s = Site::parse("https://www.example.co.uk").unwrap();
/// assert_eq!((s.scheme.as_str(), s.host.as_str(), s.port), ("https", "www.example.co.uk", None));
/// assert_eq!(s.domain, "example.co.uk");
/// assert!(Site::parse("null").is_err());
/// assert!(Site::parse("https://example.com/").is_err()); // not a serialized origin
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The serialized origin, e.g. `https://www.example.com`.
    pub origin: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The host, serialized (lowercase; IPv6 in brackets).
    pub host: String,
    /// The port when not the scheme's default.
    pub port: Option<u16>,
    /// The registrable domain, approximated without the Public Suffix List: the last two
    /// labels, or three when the second-to-last is a common second-level label (`co`, `com`,
    /// `org`, ...) under a two-letter country code (`example.co.uk`); the host itself for an
    /// IP address or a single label.
    pub domain: String,
}

impl Site {
    /// Parses a serialized http(s) origin (`--origin`).
    ///
    /// ```
    /// use corsproof_engine::audit::Site;
    /// assert_eq!(Site::parse("http://127.0.0.1:8080").unwrap().port, Some(8080));
    /// assert!(Site::parse("ftp://example.com").is_err());
    /// ```
    pub fn parse(origin: &str) -> Result<Site, AuditError> {
        let bad = |why: String| AuditError::InvalidOrigin {
            origin: origin.to_string(),
            why,
        };
        let parsed = Origin::parse_serialized(origin).map_err(|e| bad(e.to_string()))?;
        match &parsed {
            Origin::Tuple {
                scheme, host, port, ..
            } if scheme == "http" || scheme == "https" => Ok(Site {
                origin: origin.to_string(),
                scheme: scheme.clone(),
                domain: registrable_domain(host),
                host: host.clone(),
                port: *port,
            }),
            Origin::Tuple { .. } => Err(bad("the site's origin must be http or https".into())),
            Origin::Opaque => Err(bad(
                "the site's own origin cannot be `null` (audit probes `null` anyway)".into(),
            )),
        }
    }

    /// The default site of a target: `https://HOST` (the front end is assumed to be served
    /// over https from the audited host name).
    ///
    /// ```
    /// use corsproof_engine::audit::{Site, Target};
    /// let t = Target::parse("http://api.example.com:8080/x").unwrap();
    /// assert_eq!(Site::for_target(&t).unwrap().origin, "https://api.example.com");
    /// ```
    pub fn for_target(target: &Target) -> Result<Site, AuditError> {
        let guess = format!("https://{}", target.host);
        match Origin::parse_serialized(&guess) {
            Err(OriginError::NotSerialized { canonical, .. }) => Site::parse(&canonical),
            _ => Site::parse(&guess),
        }
    }

    /// `SCHEME://HOST[:PORT]` for another host on the site's scheme and port.
    pub(crate) fn with_host(&self, host: &str) -> String {
        self.with_scheme_host(&self.scheme, host)
    }

    /// `SCHEME://HOST[:PORT]` for another scheme and host, on the site's port.
    pub(crate) fn with_scheme_host(&self, scheme: &str, host: &str) -> String {
        match self.port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        }
    }

    /// Whether `host` is the site's registrable domain or under it.
    pub(crate) fn owns(&self, host: &str) -> bool {
        host == self.domain
            || host
                .strip_suffix(self.domain.as_str())
                .is_some_and(|h| h.ends_with('.'))
    }
}

/// Second-level labels that, under a two-letter country code, are public suffixes.
const COMMON_SLDS: &[&str] = &[
    "ac", "co", "com", "edu", "gov", "ltd", "me", "net", "nic", "or", "org", "plc", "sch",
];

/// The registrable domain of `host`, approximately (see [`Site::domain`]).
fn registrable_domain(host: &str) -> String {
    let is_ip = host.starts_with('[')
        || host
            .rsplit('.')
            .next()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    if is_ip {
        return host.to_string();
    }
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let keep = match labels.as_slice() {
        [.., sld, tld] if n >= 3 && tld.len() == 2 && COMMON_SLDS.contains(sld) => 3,
        _ => 2,
    };
    labels[n.saturating_sub(keep)..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("http://a.test").unwrap();
        assert_eq!((t.url.as_str(), t.path.as_str()), ("http://a.test/", "/"));
        let t = Target::parse("HTTP://A.test:80?q").unwrap();
        assert_eq!(t.url, "http://a.test/?q");
        assert_eq!(t.authority, "a.test");
        for bad in [
            "a.test",
            "http://",
            "http://:80/",
            "http://u:p@a.test/",
            "http://a.test:99999/",
            "http://a.test:0/",
            "http://a.test:x/",
            "http://a test/",
            "http://[::1/",
            "http://[zz]/",
            "http://a.test:1:2/",
            "http://bücher.test/",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains() {
        assert_eq!(registrable_domain("www.example.com"), "example.com");
        assert_eq!(registrable_domain("a.b.example.com.au"), "example.com.au");
        assert_eq!(registrable_domain("example.com"), "example.com");
        assert_eq!(registrable_domain("localhost"), "localhost");
        assert_eq!(registrable_domain("127.0.0.1"), "127.0.0.1");
        assert_eq!(registrable_domain("[::1]"), "[::1]");
        let s = Site::parse("https://www.example.com").unwrap();
        assert!(s.owns("example.com") && s.owns("a.example.com"));
        assert!(!s.owns("evilexample.com") && !s.owns("example.com.evil.test"));
    }

    #[test]
    fn default_site_canonicalizes_ipv6() {
        let t = Target::parse("http://[0:0:0:0:0:0:0:1]:8080/").unwrap();
        assert_eq!(Site::for_target(&t).unwrap().origin, "https://[::1]");
    }
}
