//! Where requests go: a target's base URL turned into what to connect to, the `Host` field a
//! browser sends, and the TLS server name.

use std::time::Duration;

use corsproof_client::{Client, ServerName, Tls};
use corsproof_oracle::Origin;
use url::Url;

use super::CheckError;

/// A target of the check.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) base: Url,
    /// What to connect to: `HOST:PORT`.
    authority: String,
    /// The `Host` field sent, as a browser sends it: the host, with `:PORT` when the port is
    /// not the scheme's default.
    host_field: String,
    /// The target's own origin: requests from it are same-origin.
    pub(crate) origin: Origin,
    /// For an `https://` target: the trust store and the server name.
    tls: Option<(Tls, ServerName<'static>)>,
}

impl Target {
    pub(crate) fn new(base: &Url, tls: Option<&Tls>) -> Result<Target, CheckError> {
        let bad = |why| CheckError::BadTarget {
            url: base.to_string(),
            why,
        };
        let tls = match base.scheme() {
            "http" => None,
            "https" => Some(tls.cloned().unwrap_or_else(Tls::webpki_roots)),
            _ => return Err(bad("only http:// and https:// targets are supported")),
        };
        if base.path() != "/" || base.query().is_some() {
            return Err(bad(
                "the URL must have no path: the policy's route paths are absolute",
            ));
        }
        let host = base.host_str().ok_or_else(|| bad("no host"))?;
        let port = base.port_or_known_default().ok_or_else(|| bad("no port"))?;
        let tls = match tls {
            None => None,
            Some(tls) => {
                let name = Tls::server_name(host)
                    .map_err(|_| bad("the host cannot be a TLS server name"))?;
                Some((tls, name))
            }
        };
        Ok(Target {
            base: base.clone(),
            authority: format!("{host}:{port}"),
            host_field: match base.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            },
            origin: Origin::of_url(base),
            tls,
        })
    }

    /// Whether `url` is on the target (same scheme, host and port), without serializing.
    pub(crate) fn serves(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host() == self.base.host()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    /// `url`, which the caller knows to be on some target, moved onto this one (path and
    /// query kept).
    pub(crate) fn rebase(&self, url: &Url) -> Url {
        let mut moved = self.base.clone();
        moved.set_path(url.path());
        moved.set_query(url.query());
        moved
    }

    /// The request target of `url` on this target: its path and query.
    pub(crate) fn request_target<'u>(&self, url: &'u str) -> &'u str {
        url.strip_prefix(self.base.as_str().trim_end_matches('/'))
            .unwrap_or("/")
    }

    pub(crate) fn client(&self, timeout: Duration) -> Client {
        let client = Client::new(self.authority.clone())
            .with_timeout(timeout)
            .with_host(self.host_field.clone());
        match &self.tls {
            None => client,
            Some((tls, name)) => client.with_tls(tls.clone(), name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_connect_to_host_and_port_and_send_a_browser_host_field() {
        let target = |url: &str| {
            Target::new(&Url::parse(url).expect("URL"), None)
                .map(|t| (t.authority, t.host_field, t.tls.is_some()))
        };
        let ok = |a: &str, h: &str, tls| Some((a.to_string(), h.to_string(), tls));
        assert_eq!(
            target("http://127.0.0.1:8080/").ok(),
            ok("127.0.0.1:8080", "127.0.0.1:8080", false)
        );
        assert_eq!(
            target("http://api.test:80/").ok(),
            ok("api.test:80", "api.test", false)
        );
        assert_eq!(
            target("https://api.test/").ok(),
            ok("api.test:443", "api.test", true)
        );
        assert_eq!(
            target("https://[::1]:8443/").ok(),
            ok("[::1]:8443", "[::1]:8443", true)
        );
        for bad in [
            "ftp://api.test/",
            "https://api.test/v1",
            "http://api.test/?q",
        ] {
            assert!(
                matches!(target(bad), Err(CheckError::BadTarget { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn rebase_keeps_path_and_query() {
        let t =
            Target::new(&Url::parse("http://127.0.0.1:9/").expect("URL"), None).expect("a target");
        let moved = t.rebase(&Url::parse("https://api.test:8443/a/b?q=1").expect("URL"));
        assert_eq!(moved.as_str(), "http://127.0.0.1:9/a/b?q=1");
        assert_eq!(t.request_target(moved.as_str()), "/a/b?q=1");
    }
}
