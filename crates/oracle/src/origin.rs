//! Origins (R1–R5): the tuple/opaque distinction, same-origin, and ASCII serialization.

use url::Url;

/// An origin (HTML Standard, `#concept-origin`): opaque, or a (scheme, host, port) tuple.
/// The `domain` component is left out: it never affects fetch or CORS (R1).
///
/// ```
/// use corsproof_oracle::Origin;
/// let o = Origin::parse_serialized("https://app.example.com").unwrap();
/// assert_eq!(o.serialization(), "https://app.example.com");
/// assert_eq!(Origin::parse_serialized("null").unwrap(), Origin::Opaque);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// An opaque origin (sandboxed iframes, `data:` documents, ...). Serializes as `null` (R3).
    Opaque,
    /// A tuple origin. `serialized` is its ASCII serialization (R2), kept so that comparing
    /// and emitting it never allocates.
    Tuple {
        /// Scheme, lowercase.
        scheme: String,
        /// Host, serialized (lowercase, punycode, bracketed IPv6).
        host: String,
        /// Port; `None` when it is the scheme's default.
        port: Option<u16>,
        /// `scheme://host[:port]`.
        serialized: String,
    },
}

/// Why a string is not a serialized origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// The string does not parse as a URL.
    #[error("{0:?} is not a URL origin: {1}")]
    NotAUrl(String, String),
    /// It parses, but its origin is opaque (e.g. `data:` or `file:`); write `null` instead.
    #[error("{0:?} has an opaque origin; write \"null\" for an opaque origin")]
    OpaqueScheme(String),
    /// It parses, but it is not in serialized form (path, trailing slash, default port, case...).
    #[error("{given:?} is not a serialized origin; did you mean {canonical:?}?")]
    NotSerialized {
        /// What was given.
        given: String,
        /// Its serialization.
        canonical: String,
    },
}

/// The default port of a special scheme (URL Standard, "special scheme" table); the only
/// schemes whose URLs have a tuple origin.
fn special_scheme_default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

impl Origin {
    /// The origin of a URL (URL Standard `#concept-url-origin`): a tuple for http(s), ws(s)
    /// and ftp; opaque for everything else (`data:`, `file:`, `blob:` with opaque inner URL...).
    ///
    /// ```
    /// use corsproof_oracle::Origin;
    /// let u = url::Url::parse("https://a.test:443/x?y").unwrap();
    /// assert_eq!(Origin::of_url(&u).serialization(), "https://a.test");
    /// ```
    pub fn of_url(url: &Url) -> Origin {
        // A URL of a special scheme other than `file` has a host, and its port is already
        // `None` when it is the scheme's default: the tuple is read off the URL as it is.
        if let (Some(_), Some(host)) = (special_scheme_default_port(url.scheme()), url.host_str()) {
            let (scheme, port) = (url.scheme(), url.port());
            let mut serialized = String::with_capacity(scheme.len() + host.len() + 9);
            serialized.push_str(scheme);
            serialized.push_str("://");
            serialized.push_str(host);
            if let Some(p) = port {
                serialized.push(':');
                serialized.push_str(&p.to_string());
            }
            return Origin::Tuple {
                scheme: scheme.to_string(),
                host: host.to_string(),
                port,
                serialized,
            };
        }
        match url.origin() {
            url::Origin::Opaque(_) => Origin::Opaque,
            url::Origin::Tuple(scheme, host, port) => {
                let port = if Some(port) == special_scheme_default_port(&scheme) {
                    None
                } else {
                    Some(port)
                };
                let host = host.to_string();
                let serialized = match port {
                    Some(p) => format!("{scheme}://{host}:{p}"),
                    None => format!("{scheme}://{host}"),
                };
                Origin::Tuple {
                    scheme,
                    host,
                    port,
                    serialized,
                }
            }
        }
    }

    /// Whether `url`'s origin is this origin (R1): what
    /// `Origin::of_url(url).same_origin(self)` says, without building the URL's origin.
    ///
    /// ```
    /// use corsproof_oracle::Origin;
    /// let o = Origin::parse_serialized("https://a.test").unwrap();
    /// assert!(o.is_origin_of(&url::Url::parse("https://a.test:443/x").unwrap()));
    /// assert!(!o.is_origin_of(&url::Url::parse("https://a.test:8443/x").unwrap()));
    /// assert!(!o.is_origin_of(&url::Url::parse("data:,x").unwrap()));
    /// ```
    pub fn is_origin_of(&self, url: &Url) -> bool {
        let Origin::Tuple {
            scheme, host, port, ..
        } = self
        else {
            return false;
        };
        if special_scheme_default_port(url.scheme()).is_some() && url.host_str().is_some() {
            return url.scheme() == scheme
                && url.host_str() == Some(host.as_str())
                && url.port() == *port;
        }
        Origin::of_url(url).same_origin(self)
    }

    /// Parses a serialized origin exactly as a document's origin is written (`null`, or
    /// `scheme://host[:port]` in canonical form). Non-canonical spellings are refused with
    /// the canonical form in the error, never silently fixed.
    ///
    /// ```
    /// use corsproof_oracle::Origin;
    /// assert!(Origin::parse_serialized("https://a.test:443").is_err());
    /// assert!(Origin::parse_serialized("https://a.test/").is_err());
    /// assert!(Origin::parse_serialized("http://[::1]:8080").is_ok());
    /// ```
    pub fn parse_serialized(s: &str) -> Result<Origin, OriginError> {
        if s == "null" {
            return Ok(Origin::Opaque);
        }
        let url = Url::parse(s).map_err(|e| OriginError::NotAUrl(s.to_string(), e.to_string()))?;
        let origin = Origin::of_url(&url);
        match &origin {
            Origin::Opaque => Err(OriginError::OpaqueScheme(s.to_string())),
            Origin::Tuple { serialized, .. } if serialized == s => Ok(origin),
            Origin::Tuple { serialized, .. } => Err(OriginError::NotSerialized {
                given: s.to_string(),
                canonical: serialized.clone(),
            }),
        }
    }

    /// The ASCII serialization (R2): `null` for an opaque origin.
    pub fn serialization(&self) -> &str {
        match self {
            Origin::Opaque => "null",
            Origin::Tuple { serialized, .. } => serialized,
        }
    }

    /// Same origin (R1): two tuples with equal scheme, host and port. An opaque origin is
    /// only same origin with itself; the oracle never has two handles on one opaque origin,
    /// so two opaque origins here are never same origin.
    ///
    /// ```
    /// use corsproof_oracle::Origin;
    /// let a = Origin::parse_serialized("https://a.test").unwrap();
    /// assert!(a.same_origin(&a.clone()));
    /// assert!(!Origin::Opaque.same_origin(&Origin::Opaque));
    /// ```
    pub fn same_origin(&self, other: &Origin) -> bool {
        match (self, other) {
            (Origin::Tuple { serialized: a, .. }, Origin::Tuple { serialized: b, .. }) => a == b,
            _ => false,
        }
    }

    /// The scheme of a tuple origin.
    pub fn scheme(&self) -> Option<&str> {
        match self {
            Origin::Opaque => None,
            Origin::Tuple { scheme, .. } => Some(scheme),
        }
    }

    /// The host of a tuple origin, serialized.
    pub fn host(&self) -> Option<&str> {
        match self {
            Origin::Opaque => None,
            Origin::Tuple { host, .. } => Some(host),
        }
    }

    /// The port of a tuple origin, made explicit (default port filled in).
    pub fn port_or_default(&self) -> Option<u16> {
        match self {
            Origin::Opaque => None,
            Origin::Tuple { scheme, port, .. } => port.or(match scheme.as_str() {
                "http" | "ws" => Some(80),
                "https" | "wss" => Some(443),
                "ftp" => Some(21),
                _ => None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The origin as the `url` crate computes it (URL Standard), serialized: what
    /// [`Origin::of_url`] and [`Origin::is_origin_of`] must agree with.
    fn reference(url: &Url) -> String {
        url.origin().ascii_serialization()
    }

    const URLS: &[&str] = &[
        "http://a.test/",
        "http://a.test:80/x",
        "http://a.test:8080/x?q#f",
        "https://A.Test:443/",
        "https://a.test:80/",
        "https://user:pw@a.test/",
        "ws://a.test:80/",
        "wss://a.test:444/",
        "ftp://a.test:21/",
        "http://127.0.0.1:1/",
        "http://[::1]/",
        "https://[2001:db8::1]:8443/",
        "https://xn--nxasmq6b.test/",
        "https://a.test./",
        "file:///etc/passwd",
        "data:,x",
        "blob:https://a.test/uuid",
        "about:blank",
        "web+x://a.test/",
    ];

    #[test]
    fn of_url_agrees_with_the_url_standard() {
        for u in URLS {
            let url = Url::parse(u).unwrap();
            assert_eq!(Origin::of_url(&url).serialization(), reference(&url), "{u}");
        }
    }

    #[test]
    fn is_origin_of_agrees_with_building_the_origin() {
        let origins: Vec<Origin> = URLS
            .iter()
            .map(|u| Origin::of_url(&Url::parse(u).unwrap()))
            .collect();
        for o in &origins {
            for u in URLS {
                let url = Url::parse(u).unwrap();
                assert_eq!(
                    o.is_origin_of(&url),
                    Origin::of_url(&url).same_origin(o),
                    "{} and {u}",
                    o.serialization()
                );
            }
        }
    }
}
