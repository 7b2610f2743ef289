//! `https://` targets: the raw client over TLS against a loopback TLS server whose CA is made
//! at test time (rcgen), then `check` and `audit` end to end over TLS.
//!
//! What must hold: keep-alive works over TLS (several responses, one handshake); a
//! certificate from an untrusted CA or for another name fails with [`Error::Tls`] naming the
//! server, never silently; `audit` and `check` give the same findings over TLS as the server's
//! headers call for.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corsproof_client::Error;
use corsproof_client::{Client, Request, Tls};
use corsproof_engine::audit;
use corsproof_engine::check::{self, CheckConfig};
use corsproof_policy::Policy;
use corsproof_report::{AuditKind, CheckKind};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A CA and a server certificate it signed for `localhost` and `127.0.0.1`.
struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "corsproof test CA");
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("server params");
    let server_key = KeyPair::generate().expect("server key");
    let server_cert = server
        .signed_by(&server_key, &ca_cert, &ca_key)
        .expect("server certificate");
    Pki {
        ca_pem: ca_cert.pem(),
        chain: vec![server_cert.der().clone()],
        key: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
    }
}

/// A TLS acceptor presenting the server certificate of `pki`.
fn acceptor(pki: &Pki) -> TlsAcceptor {
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), PrivateKeyDer::Pkcs8(pki.key.clone_key()))
        .expect("server config");
    TlsAcceptor::from(Arc::new(config))
}

/// Extra response header lines for (method, Origin).
type Handler = fn(&str, Option<&str>) -> String;

/// A keep-alive HTTP/1.1-over-TLS server on 127.0.0.1 answering with `handler`, for at most
/// 30 s and 100 connections. Returns its port and the count of completed handshakes.
async fn serve_tls(pki: &Pki, handler: Handler) -> (u16, Arc<AtomicUsize>) {
    let acceptor = acceptor(pki);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counter = handshakes.clone();
    tokio::spawn(async move {
        let run = async {
            for _ in 0..100 {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ =
                        tokio::time::timeout(Duration::from_secs(10), answer(tls, handler)).await;
                });
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(30), run).await;
    });
    (port, handshakes)
}

/// Answers up to 5,000 requests on one connection.
async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    handler: Handler,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    for _ in 0..5000 {
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            match s.read(&mut chunk).await {
                Ok(n) if n > 0 && buf.len() < 65536 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        buf.drain(..end + 4);
        // Skip a request body (Content-Length only: the engine sends no chunked bodies).
        let length: usize = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < length {
            match s.read(&mut chunk).await {
                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        }
        buf.drain(..length);
        let method = head.split(' ').next().unwrap_or("").to_string();
        let origin = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case("origin"))
            .map(|(_, v)| v.trim().to_string());
        let extra = handler(&method, origin.as_deref());
        let out = format!("HTTP/1.1 200 OK\r\n{extra}Content-Length: 2\r\n\r\nok");
        if s.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Reflects any origin, with credentials, for every method and header.
fn reflect(method: &str, origin: Option<&str>) -> String {
    let mut out = String::from("Vary: Origin\r\n");
    if let Some(o) = origin {
        out.push_str(&format!(
            "Access-Control-Allow-Origin: {o}\r\nAccess-Control-Allow-Credentials: true\r\n"
        ));
        if method == "OPTIONS" {
            out.push_str("Access-Control-Allow-Methods: PUT, DELETE, PATCH\r\nAccess-Control-Allow-Headers: x-a, content-type, authorization\r\n");
        }
    }
    out
}

/// Trusts exactly `https://app.test`, without credentials.
fn strict(_: &str, origin: Option<&str>) -> String {
    match origin {
        Some("https://app.test") => {
            "Access-Control-Allow-Origin: https://app.test\r\nVary: Origin\r\n".into()
        }
        _ => "Vary: Origin\r\n".into(),
    }
}

/// The trust store with the test CA, written to a file as `--cacert` would name it.
fn trust(pki: &Pki, dir: &tempdir::Dir) -> Tls {
    let path = dir.0.join("ca.pem");
    std::fs::write(&path, &pki.ca_pem).expect("write CA");
    Tls::webpki_roots()
        .with_ca_pem_file(&path)
        .expect("CA file")
}

/// A valid server name.
fn name(host: &str) -> rustls::pki_types::ServerName<'static> {
    Tls::server_name(host).expect("server name")
}

/// A scratch directory removed on drop.
mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new(name: &str) -> Dir {
            let path =
                std::env::temp_dir().join(format!("corsproof-tls-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("scratch dir");
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[tokio::test]
async fn keep_alive_over_tls_with_one_handshake() {
    let pki = pki();
    let dir = tempdir::Dir::new("keepalive");
    let (port, handshakes) = serve_tls(&pki, strict).await;
    let mut client = Client::new(format!("127.0.0.1:{port}"))
        .with_timeout(Duration::from_secs(5))
        .with_tls(trust(&pki, &dir), name("localhost"));
    for origin in ["https://app.test", "https://evil.test", "https://app.test"] {
        let res = client
            .send(&Request::new("GET", "/x").header("Origin", origin))
            .await
            .expect("response over TLS");
        assert_eq!(res.status, 200);
        let acao: Vec<&[u8]> = res.header_values(b"access-control-allow-origin").collect();
        if origin == "https://app.test" {
            assert_eq!(acao, [b"https://app.test".as_slice()]);
        } else {
            assert!(acao.is_empty());
        }
        assert_eq!(res.body, b"ok");
    }
    assert_eq!(
        handshakes.load(Ordering::SeqCst),
        1,
        "one kept-alive connection"
    );
}

#[tokio::test]
async fn an_untrusted_or_mismatched_certificate_fails_naming_the_server() {
    let pki = pki();
    let dir = tempdir::Dir::new("untrusted");
    let (port, _) = serve_tls(&pki, strict).await;
    // Mozilla's roots alone do not know the test CA.
    let mut client = Client::new(format!("127.0.0.1:{port}"))
        .with_timeout(Duration::from_secs(5))
        .with_tls(Tls::webpki_roots(), name("localhost"));
    match client.send(&Request::new("GET", "/")).await {
        Err(Error::Tls { server, why }) => {
            assert_eq!(server, "localhost");
            assert!(why.contains("certificate"), "{why}");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    // A trusted CA, but the certificate is not for this name.
    let mut client = Client::new(format!("127.0.0.1:{port}"))
        .with_timeout(Duration::from_secs(5))
        .with_tls(trust(&pki, &dir), name("api.example.com"));
    match client.send(&Request::new("GET", "/")).await {
        Err(Error::Tls { server, why }) => {
            assert_eq!(server, "api.example.com");
            assert!(why.contains("certificate"), "{why}");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    // Plain HTTP to a TLS port is not a response either.
    let mut plain = Client::new(format!("127.0.0.1:{port}")).with_timeout(Duration::from_secs(2));
    assert!(plain.send(&Request::new("GET", "/")).await.is_err());
}

/// A response whose body runs to the end of the connection, from a server that then closes
/// the TCP connection without TLS's close_notify (as many do): the body is what arrived. Its
/// framing is the connection's end either way; a truncated chunked or sized body is still an
/// error (the parser's, "connection closed during the body").
#[tokio::test]
async fn a_body_read_until_close_ends_without_close_notify() {
    let pki = pki();
    let dir = tempdir::Dir::new("close-notify");
    let acceptor = acceptor(&pki);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        for body in [
            "HTTP/1.1 200 OK\r\nConnection: close\r\nVary: Origin\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
        ] {
            let Ok(Ok((tcp, _))) =
                tokio::time::timeout(Duration::from_secs(10), listener.accept()).await
            else {
                return;
            };
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = tls.read(&mut buf).await;
            let _ = tls.write_all(body.as_bytes()).await;
            let _ = tls.flush().await;
            // Close the TCP connection under TLS: no close_notify.
            let (tcp, _) = tls.into_inner();
            drop(tcp);
        }
    });
    let mut client = Client::new(format!("127.0.0.1:{port}"))
        .with_timeout(Duration::from_secs(5))
        .with_tls(trust(&pki, &dir), name("localhost"));
    let res = client
        .send(&Request::new("GET", "/"))
        .await
        .expect("a body delimited by the close");
    assert_eq!(res.body, b"hello");
    let e = client
        .send(&Request::new("GET", "/"))
        .await
        .expect_err("5 of 10 bytes");
    assert!(matches!(e, Error::Closed { during: "body" }), "{e:?}");
}

#[test]
fn bad_ca_files_are_named_errors() {
    let dir = tempdir::Dir::new("bad-ca");
    let empty = dir.0.join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    let e = Tls::webpki_roots()
        .with_ca_pem_file(&empty)
        .expect_err("no certificate");
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
    let garbage = dir.0.join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let e = Tls::webpki_roots()
        .with_ca_pem_file(&garbage)
        .expect_err("not a certificate");
    assert!(e.to_string().contains("garbage.pem"), "{e}");
}

#[tokio::test]
async fn audit_over_tls_finds_the_reflection() {
    let pki = pki();
    let dir = tempdir::Dir::new("audit");
    let (port, _) = serve_tls(&pki, reflect).await;
    let options = audit::Options {
        origin: Some("https://localhost".into()),
        timeout: Duration::from_secs(5),
        tls: Some(trust(&pki, &dir)),
        ..audit::Options::default()
    };
    let report = audit::audit(&format!("https://localhost:{port}/api"), &options)
        .await
        .unwrap_or_else(|e| panic!("audit over TLS: {e:?}"));
    assert_eq!(report.target, format!("https://localhost:{port}/api"));
    let found: Vec<&str> = report.findings.iter().map(|f| f.kind.as_str()).collect();
    assert!(
        found.contains(&AuditKind::OriginReflected.as_str()),
        "{found:?}"
    );
    // Without the CA the target is unreachable (exit 3 in the CLI), not "clean".
    let options = audit::Options {
        tls: None,
        ..options
    };
    let e = audit::audit(&format!("https://localhost:{port}/api"), &options)
        .await
        .expect_err("untrusted");
    assert!(e.is_target_error(), "{e:?}");
    let source = std::error::Error::source(&e).map(|s| s.to_string());
    assert!(
        source
            .as_deref()
            .is_some_and(|s| s.starts_with("TLS handshake with localhost failed")),
        "{e:?}"
    );
}

#[tokio::test]
async fn check_over_tls_judges_the_headers() {
    let pki = pki();
    let dir = tempdir::Dir::new("check");
    let (port, _) = serve_tls(&pki, reflect).await;
    let policy = Policy::from_toml_str(
        "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.test\"]\n",
        "p.toml",
    )
    .expect("policy");
    let base = url::Url::parse(&format!("https://localhost:{port}/")).expect("url");
    let config = CheckConfig {
        cases: 20,
        seed: 1,
        concurrency: 2,
        timeout: Duration::from_secs(5),
        tls: Some(trust(&pki, &dir)),
        ..CheckConfig::default()
    };
    let report = check::check(&policy, "p.toml", &base, &config)
        .await
        .expect("check over TLS");
    // The server reflects every origin with credentials: the policy grants one origin and no
    // credentials, so reads are granted that it forbids.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind == CheckKind::ReadGranted),
        "{:?}",
        report.findings.iter().map(|f| &f.kind).collect::<Vec<_>>()
    );
    assert_eq!(
        report.stats.errors,
        0,
        "{}",
        corsproof_report::text(&report, corsproof_report::Style { colour: false })
    );
}
