//! The run's certificates: a certificate authority made at run time and one server
//! certificate, signed by it, for every https page origin's host. Chromium trusts the server
//! certificate's key by its SPKI hash (`--ignore-certificate-errors-spki-list`, for that
//! browser process only); Firefox trusts the authority in its fresh profile's certificate
//! database (`certutil`, NSS tools), so nothing outside the run's profile trusts either.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::Error;

/// The certificates of one run.
pub struct RunCertificates {
    /// The authority, PEM.
    pub ca_pem: String,
    /// The server configuration presenting the server certificate (and the authority).
    pub server: Arc<rustls::ServerConfig>,
    /// base64 of the SHA-256 of the server certificate's SubjectPublicKeyInfo.
    pub spki_sha256: String,
}

fn cert_error(e: impl std::fmt::Display) -> Error {
    Error::Certificate(e.to_string())
}

impl RunCertificates {
    /// An authority and a server certificate for `hosts` (names or IP addresses).
    pub fn new(hosts: &[String]) -> Result<RunCertificates, Error> {
        let ca_key = KeyPair::generate().map_err(cert_error)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "corsproof confirm run authority");
        let ca = ca_params.self_signed(&ca_key).map_err(cert_error)?;

        let key = KeyPair::generate().map_err(cert_error)?;
        let mut params = CertificateParams::new(hosts.to_vec()).map_err(cert_error)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "corsproof confirm page origins");
        let leaf = params.signed_by(&key, &ca, &ca_key).map_err(cert_error)?;

        let digest = ring::digest::digest(&ring::digest::SHA256, &key.public_key_der());
        let spki_sha256 = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
        let chain = vec![
            CertificateDer::from(leaf.der().to_vec()),
            CertificateDer::from(ca.der().to_vec()),
        ];
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        // ring, as the client crate: it builds with the C compiler alone. Its provider is
        // deprecated for lacking post-quantum key exchange, which a loopback page of a test
        // run does not need.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(cert_error)?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(cert_error)?;
        Ok(RunCertificates {
            ca_pem: ca.pem(),
            server: Arc::new(server),
            spki_sha256,
        })
    }

    /// Adds the authority to a fresh Firefox profile's certificate database (trusted for
    /// servers, in that profile only).
    pub fn trust_in_firefox_profile(&self, profile: &Path) -> Result<(), Error> {
        let pem = profile.join("corsproof-run-ca.pem");
        std::fs::write(&pem, &self.ca_pem).map_err(|source| Error::Io {
            path: pem.clone(),
            source,
        })?;
        let db = format!("sql:{}", profile.display());
        certutil(&["-N", "-d", &db, "--empty-password"])?;
        let pem_arg = pem.display().to_string();
        certutil(&[
            "-A",
            "-d",
            &db,
            "-n",
            "corsproof-run-ca",
            "-t",
            "C,,",
            "-i",
            &pem_arg,
        ])
    }
}

fn certutil(args: &[&str]) -> Result<(), Error> {
    let out = Command::new("certutil")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::Certificate(format!(
                "cannot run certutil (Debian package libnss3-tools): {e}"
            ))
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Certificate(format!(
            "certutil {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
