//! TLS for `https://` targets: rustls (ring provider), HTTP/1.1 only.
//!
//! The trust store is Mozilla's root program (compiled in, so a run does not depend on the
//! machine's certificate store), plus any CA certificates the user adds with
//! [`Tls::with_ca_pem_file`] (a private CA of a staging deployment). There is no switch that
//! turns verification off: a deployment whose certificate cannot be verified is one a
//! browser would not talk to either.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Why a TLS configuration could not be made.
///
/// ```
/// use corsproof_client::{Tls, TlsError};
/// let e = Tls::webpki_roots().with_ca_pem_file("/nonexistent/ca.pem").unwrap_err();
/// assert!(matches!(e, TlsError::CaFile { .. }));
/// assert!(e.to_string().starts_with("CA certificates \"/nonexistent/ca.pem\""));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read, holds no PEM certificate, or holds one that is not a
    /// usable trust anchor.
    #[error("CA certificates {path:?}: {why}")]
    CaFile {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The host of the target cannot be a TLS server name.
    #[error("{host:?} cannot be a TLS server name: {why}")]
    ServerName {
        /// The host as given.
        host: String,
        /// Why.
        why: String,
    },
}

/// A TLS client configuration: the trust store, shared by every connection made with it.
///
/// ```
/// use corsproof_client::Tls;
/// let tls = Tls::webpki_roots();
/// assert!(tls.trust_anchors() > 100);
/// ```
#[derive(Clone)]
pub struct Tls {
    config: Arc<ClientConfig>,
    roots: Arc<RootCertStore>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("trust_anchors", &self.trust_anchors())
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Trusts Mozilla's root program (the `webpki-roots` crate).
    pub fn webpki_roots() -> Tls {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Tls::from_roots(roots)
    }

    /// Also trusts every certificate of the PEM file at `path` (a private CA, or a
    /// self-signed server certificate).
    pub fn with_ca_pem_file(self, path: impl AsRef<Path>) -> Result<Tls, TlsError> {
        let path = path.as_ref();
        let bad = |why: String| TlsError::CaFile {
            path: path.to_path_buf(),
            why,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let mut roots = (*self.roots).clone();
        let mut added = 0usize;
        for (i, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
            let cert = cert.map_err(|e| bad(format!("PEM section {}: {e}", i + 1)))?;
            roots
                .add(cert)
                .map_err(|e| bad(format!("certificate {}: {e}", i + 1)))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad(
                "no PEM certificate in it (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        Ok(Tls::from_roots(roots))
    }

    fn from_roots(roots: RootCertStore) -> Tls {
        // ring rather than aws-lc-rs: it builds with the C compiler alone (no cmake, no
        // bindgen). rustls deprecates ring's provider because it has no post-quantum key
        // exchange; a probe of a server's CORS headers keeps no secret worth harvesting.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // The ring provider supports the safe default versions, so this cannot fail; fall
        // back to TLS 1.3 alone rather than panic should that ever change.
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|_| {
                ClientConfig::builder_with_provider(provider)
                    .with_protocol_versions(&[&rustls::version::TLS13])
                    .unwrap_or_else(|_| unreachable!("ring supports TLS 1.3"))
            });
        let mut config = builder
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Tls {
            config: Arc::new(config),
            roots: Arc::new(roots),
        }
    }

    /// How many certificates are trusted.
    pub fn trust_anchors(&self) -> usize {
        self.roots.len()
    }

    /// Checks that `host` (a DNS name or an IP address, IPv6 with or without brackets) can be
    /// the server name of a connection.
    ///
    /// ```
    /// use corsproof_client::Tls;
    /// assert!(Tls::server_name("api.example.com").is_ok());
    /// assert!(Tls::server_name("[::1]").is_ok());
    /// assert!(Tls::server_name("bad host").is_err());
    /// ```
    pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        ServerName::try_from(bare.to_string()).map_err(|e| TlsError::ServerName {
            host: host.to_string(),
            why: e.to_string(),
        })
    }

    /// The TLS handshake on `stream` for `name`.
    pub(crate) async fn connect(
        &self,
        name: ServerName<'static>,
        stream: TcpStream,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        TlsConnector::from(self.config.clone())
            .connect(name, stream)
            .await
    }
}
