//! `audit` against small scripted loopback servers: one real-world defect each (every one must
//! be flagged with exactly the right kinds), correct servers (zero findings), and hostile
//! servers (clear errors within the timeout, never a panic).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use corsproof_case::CredentialsJson;
use corsproof_engine::audit::{audit, probes, AuditError, Class, Options, Site};
use corsproof_oracle::RuleId;
use corsproof_report::finding::{Report, Severity};
use corsproof_report::{AuditKind, Kind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the scripted server saw it.
struct Req {
    method: String,
    headers: Vec<(String, String)>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn origin(&self) -> Option<&str> {
        self.header("origin")
    }

    fn is_preflight(&self) -> bool {
        self.method == "OPTIONS"
    }
}

/// The header lines a handler answers with (status 200 or 204, a short body).
type Handler = fn(&Req) -> Vec<(String, String)>;

/// Reads one request head (bounded); `None` at end of stream or on junk.
async fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Req> {
    let mut chunk = [0u8; 4096];
    // Bounded: at most 16 reads of 4 KiB for one head.
    for _ in 0..16 {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            buf.drain(..end + 4);
            let mut lines = head.split("\r\n");
            let method = lines.next()?.split(' ').next()?.to_string();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                .collect();
            return Some(Req { method, headers });
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    None
}

/// A keep-alive HTTP/1.1 server answering with `handler`; lives as long as the test's runtime.
async fn serve(handler: Handler) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        // Bounded: at most 500 connections, 500 requests each.
        for _ in 0..500 {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                for _ in 0..500 {
                    let Some(req) = read_head(&mut s, &mut buf).await else {
                        return;
                    };
                    let status = if req.is_preflight() {
                        "204 No Content"
                    } else {
                        "200 OK"
                    };
                    let body = if req.is_preflight() {
                        ""
                    } else {
                        "{\"secret\":1}"
                    };
                    let mut out = format!("HTTP/1.1 {status}\r\n");
                    for (n, v) in handler(&req) {
                        out.push_str(&format!("{n}: {v}\r\n"));
                    }
                    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
                    if s.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn h(n: &str, v: &str) -> (String, String) {
    (n.to_string(), v.to_string())
}

/// The CORS answer of a server that trusts `origin` (credentialed), with fixed preflight lists.
fn trust(req: &Req, trusted: bool, vary: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let (Some(origin), true) = (req.origin(), trusted) {
        out.push(h("Access-Control-Allow-Origin", origin));
        out.push(h("Access-Control-Allow-Credentials", "true"));
        if req.is_preflight() {
            out.push(h("Access-Control-Allow-Methods", "GET, POST, PUT"));
            out.push(h("Access-Control-Allow-Headers", "content-type"));
        }
    }
    if vary {
        out.push(h("Vary", "Origin"));
    }
    out
}

/// Audits `addr` as the API of `site`.
async fn run(addr: SocketAddr, site: &str) -> Report {
    let options = Options {
        origin: Some(site.to_string()),
        timeout: Duration::from_secs(5),
        ..Options::default()
    };
    audit(&format!("http://{addr}/api/me"), &options)
        .await
        .expect("the audit runs")
}

fn kinds_of(report: &Report) -> BTreeSet<Kind> {
    report.findings.iter().map(|f| f.kind).collect()
}

fn finding(report: &Report, kind: AuditKind) -> &corsproof_report::finding::Finding {
    report
        .findings
        .iter()
        .find(|f| f.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} finding in {:?}", kinds_of(report)))
}

fn origins(f: &corsproof_report::finding::Finding, key: &str) -> Vec<String> {
    let list = match key {
        "origins" => &f.request.origins,
        "also_granted" => &f.request.also_granted,
        other => panic!("no request list {other}"),
    };
    list.clone().unwrap_or_default()
}

/// Runs a defect server and checks the exact set of kinds.
async fn expect(handler: Handler, site: &str, expected: &[AuditKind]) -> Report {
    let addr = serve(handler).await;
    let report = run(addr, site).await;
    let got = kinds_of(&report);
    let want: BTreeSet<Kind> = expected.iter().map(|k| Kind::Audit(*k)).collect();
    assert_eq!(got, want, "{:#?}", report.findings);
    assert_eq!(report.stats.errors, 0);
    assert!(report.policy.is_none());
    for f in &report.findings {
        let Kind::Audit(kind) = f.kind else {
            panic!("{} is not an audit kind", f.kind);
        };
        assert!(
            f.rule.is_none_or(|r| kind.rules().contains(&r)),
            "{kind} cites {:?}",
            f.rule
        );
        assert!(!f.exchanges.is_empty());
        assert_eq!(f.response, f.exchanges.last().expect("exchange").1);
        assert!(f.reproduce.starts_with("curl -si"), "{}", f.reproduce);
        assert_eq!(f.reproduce.lines().count(), f.exchanges.len());
        assert!(!f.expected.is_empty() && !f.observed.is_empty() && !f.explanation.is_empty());
    }
    report
}

#[tokio::test]
async fn reflect_any_origin_with_credentials() {
    let report = expect(
        |r| trust(r, true, true),
        "https://example.com",
        &[AuditKind::OriginReflected, AuditKind::PreflightReflected],
    )
    .await;
    let f = finding(&report, AuditKind::OriginReflected);
    assert_eq!(f.severity, Severity::Violation);
    assert_eq!(origins(f, "origins"), ["https://evil.test"]);
    assert_eq!(f.rule, Some(RuleId::R35));
    assert!(f.reproduce.contains("'Origin: https://evil.test'"));
    // Every other origin probe was granted too, and is explained by this one finding.
    let also = origins(f, "also_granted");
    assert!(also.contains(&"null".to_string()));
    assert!(also.contains(&"https://example.com.evil.test".to_string()));
    assert!(also.len() >= 30, "{also:?}");
    assert_eq!(
        finding(&report, AuditKind::PreflightReflected).severity,
        Severity::Violation
    );
    // Most severe first.
    assert!(report
        .findings
        .windows(2)
        .all(|w| w[0].severity <= w[1].severity));
}

#[tokio::test]
async fn reflect_without_credentials_is_hygiene() {
    let report = expect(
        |r| {
            let mut out = vec![h("Vary", "Origin")];
            if let Some(o) = r.origin() {
                out.push(h("Access-Control-Allow-Origin", o));
            }
            out
        },
        "https://example.com",
        &[AuditKind::OriginReflected, AuditKind::PreflightReflected],
    )
    .await;
    assert!(report
        .findings
        .iter()
        .all(|f| f.severity == Severity::Hygiene));
    assert_eq!(
        finding(&report, AuditKind::OriginReflected)
            .request
            .case
            .credentials,
        Some(CredentialsJson::Omit)
    );
}

#[tokio::test]
async fn null_trusted() {
    let report = expect(
        |r| {
            let ok = matches!(r.origin(), Some("https://example.com" | "null"));
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::NullOrigin],
    )
    .await;
    let f = finding(&report, AuditKind::NullOrigin);
    assert_eq!(f.severity, Severity::Violation);
    assert_eq!(origins(f, "origins"), ["null"]);
}

#[tokio::test]
async fn prefix_check() {
    let report = expect(
        |r| {
            let ok = r
                .origin()
                .is_some_and(|o| o.starts_with("https://example.com"));
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::PrefixMatch],
    )
    .await;
    let f = finding(&report, AuditKind::PrefixMatch);
    assert_eq!(origins(f, "origins"), ["https://example.com.evil.test"]);
    // The special-character probes start with the site's origin too: explained by the prefix.
    assert!(origins(f, "also_granted").contains(&"https://example.com_.evil.test".to_string()));
}

#[tokio::test]
async fn suffix_check() {
    // `ends_with("example.com")` ignores the scheme, so the http origin is trusted as well.
    let report = expect(
        |r| {
            let ok = r.origin().is_some_and(|o| o.ends_with("example.com"));
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::SuffixMatch, AuditKind::HttpOriginTrusted],
    )
    .await;
    let f = finding(&report, AuditKind::SuffixMatch);
    assert_eq!(f.severity, Severity::Violation);
    assert_eq!(origins(f, "origins"), ["https://evilexample.com"]);
    assert_eq!(origins(f, "also_granted"), ["https://evil.example.com"]);
}

#[tokio::test]
async fn suffix_check_on_a_subdomain_site() {
    let report = expect(
        |r| {
            let ok = r.origin().is_some_and(|o| o.ends_with("www.example.com"));
            trust(r, ok, true)
        },
        "https://www.example.com",
        &[AuditKind::SuffixMatch, AuditKind::HttpOriginTrusted],
    )
    .await;
    let f = finding(&report, AuditKind::SuffixMatch);
    assert_eq!(origins(f, "origins"), ["https://evilwww.example.com"]);
    assert_eq!(origins(f, "also_granted"), ["https://evil.www.example.com"]);
    // Both names are inside example.com: exploiting them takes a subdomain first.
    assert_eq!(f.severity, Severity::Hygiene);
    assert_eq!(
        finding(&report, AuditKind::HttpOriginTrusted).severity,
        Severity::Violation
    );
}

#[tokio::test]
async fn substring_check() {
    let report = expect(
        |r| {
            let ok = r.origin().is_some_and(|o| o.contains("example.com"));
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::SubstringMatch, AuditKind::HttpOriginTrusted],
    )
    .await;
    let f = finding(&report, AuditKind::SubstringMatch);
    assert_eq!(origins(f, "origins"), ["https://evilexample.com.evil.test"]);
    let also = origins(f, "also_granted");
    for o in [
        "https://example.com.evil.test",
        "https://evilexample.com",
        "https://evil.example.com",
        "https://example.com_.evil.test",
    ] {
        assert!(also.contains(&o.to_string()), "{o} in {also:?}");
    }
}

#[tokio::test]
async fn reverse_substring_check() {
    // The allowed string contains the origin (CORScanner's include_match).
    let report = expect(
        |r| {
            let ok = r
                .origin()
                .is_some_and(|o| o.len() > 12 && "https://example.com".contains(o));
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::SubstringMatch],
    )
    .await;
    let f = finding(&report, AuditKind::SubstringMatch);
    assert_eq!(origins(f, "origins"), ["https://example.co"]);
}

/// `^https://www.example.com$` as a regular expression: every `.` matches any character.
fn unescaped_dot_regex(origin: &str) -> bool {
    let pattern = "https://www.example.com";
    origin.len() == pattern.len()
        && pattern
            .chars()
            .zip(origin.chars())
            .all(|(p, o)| p == '.' || p == o)
}

#[tokio::test]
async fn unescaped_dot() {
    let report = expect(
        |r| {
            let ok = r.origin().is_some_and(unescaped_dot_regex);
            trust(r, ok, true)
        },
        "https://www.example.com",
        &[AuditKind::UnescapedDot],
    )
    .await;
    let f = finding(&report, AuditKind::UnescapedDot);
    assert_eq!(
        origins(f, "origins"),
        ["https://wwwxexample.com", "https://www.examplexcom"]
    );
    assert_eq!(f.severity, Severity::Violation);
}

#[tokio::test]
async fn any_subdomain() {
    let report = expect(
        |r| {
            let ok = r.origin().is_some_and(|o| {
                o == "https://example.com"
                    || o.strip_prefix("https://")
                        .is_some_and(|host| host.ends_with(".example.com"))
            });
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::AnySubdomain],
    )
    .await;
    let f = finding(&report, AuditKind::AnySubdomain);
    assert_eq!(f.severity, Severity::Hygiene);
    assert_eq!(origins(f, "origins"), ["https://evil.example.com"]);
}

#[tokio::test]
async fn any_subdomain_of_the_domain_on_a_subdomain_site() {
    // `evilwww.example.com` is a subdomain of example.com too: subdomain trust, not a suffix check.
    let report = expect(
        |r| {
            let ok = r.origin().is_some_and(|o| {
                o.strip_prefix("https://")
                    .is_some_and(|host| host == "example.com" || host.ends_with(".example.com"))
            });
            trust(r, ok, true)
        },
        "https://www.example.com",
        &[AuditKind::AnySubdomain],
    )
    .await;
    let f = finding(&report, AuditKind::AnySubdomain);
    assert_eq!(
        origins(f, "origins"),
        ["https://evil.www.example.com", "https://evil.example.com"]
    );
    assert_eq!(origins(f, "also_granted"), ["https://evilwww.example.com"]);
}

#[tokio::test]
async fn http_trusted_for_https() {
    let report = expect(
        |r| {
            let ok = matches!(
                r.origin(),
                Some("https://example.com" | "http://example.com")
            );
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::HttpOriginTrusted],
    )
    .await;
    let f = finding(&report, AuditKind::HttpOriginTrusted);
    assert_eq!(origins(f, "origins"), ["http://example.com"]);
    assert_eq!(f.severity, Severity::Violation);
}

#[tokio::test]
async fn third_party_trusted() {
    let report = expect(
        |r| {
            let ok = r.origin().is_some_and(|o| {
                o == "https://example.com"
                    || (o.starts_with("https://") && o.ends_with(".github.io"))
            });
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::ThirdPartyOrigin],
    )
    .await;
    let f = finding(&report, AuditKind::ThirdPartyOrigin);
    assert_eq!(origins(f, "origins"), ["https://evil.github.io"]);
}

/// A naive origin parser: the host ends at the first character that is not a letter, digit,
/// dot or hyphen.
fn naive_host(origin: &str) -> Option<&str> {
    let rest = origin.strip_prefix("https://")?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    rest.get(..end)
}

#[tokio::test]
async fn special_characters() {
    let report = expect(
        |r| {
            let ok = r.origin().and_then(naive_host) == Some("example.com");
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::SpecialCharBypass],
    )
    .await;
    let f = finding(&report, AuditKind::SpecialCharBypass);
    let got = origins(f, "origins");
    for o in [
        "https://example.com_.evil.test",
        "https://example.com`.evil.test",
        "https://example.com}.evil.test",
        "https://example.com!.evil.test",
    ] {
        assert!(got.contains(&o.to_string()), "{o} in {got:?}");
    }
    // `-` is a host character to this parser: not a bypass here.
    assert!(!got.contains(&"https://example.com-.evil.test".to_string()));
    assert!(f.exchanges.len() <= 5);
}

#[tokio::test]
async fn wildcard_with_credentials() {
    let report = expect(
        |_| {
            vec![
                h("Access-Control-Allow-Origin", "*"),
                h("Access-Control-Allow-Credentials", "true"),
            ]
        },
        "https://example.com",
        &[AuditKind::WildcardWithCredentials],
    )
    .await;
    assert_eq!(
        finding(&report, AuditKind::WildcardWithCredentials).severity,
        Severity::Hygiene
    );
}

#[tokio::test]
async fn public_wildcard_without_vary_is_only_hygiene() {
    // `*` on every response (also without Origin) needs no Vary.
    expect(
        |_| vec![h("Access-Control-Allow-Origin", "*")],
        "https://example.com",
        &[AuditKind::WildcardOrigin],
    )
    .await;
}

#[tokio::test]
async fn missing_vary() {
    let report = expect(
        |r| {
            let ok = r.origin() == Some("https://example.com");
            trust(r, ok, false)
        },
        "https://example.com",
        &[AuditKind::MissingVaryOrigin],
    )
    .await;
    let f = finding(&report, AuditKind::MissingVaryOrigin);
    assert_eq!(f.exchanges.len(), 2);
    assert!(f.observed.contains("no Vary"), "{}", f.observed);
    // The response shown is the one that carries ACAO.
    assert!(f
        .response
        .headers
        .iter()
        .any(|(n, v)| n == b"Access-Control-Allow-Origin" && v == b"https://example.com"));
}

#[tokio::test]
async fn cors_only_when_asked_needs_vary() {
    // `*` only when Origin is sent: the answer depends on Origin.
    expect(
        |r| {
            if r.origin().is_some() {
                vec![h("Access-Control-Allow-Origin", "*")]
            } else {
                vec![]
            }
        },
        "https://example.com",
        &[AuditKind::WildcardOrigin, AuditKind::MissingVaryOrigin],
    )
    .await;
}

#[tokio::test]
async fn reflected_preflight() {
    let report = expect(
        |r| {
            if !r.is_preflight() {
                let ok = r.origin() == Some("https://example.com");
                return trust(r, ok, true);
            }
            let mut out = vec![h("Vary", "Origin")];
            if let Some(o) = r.origin() {
                out.push(h("Access-Control-Allow-Origin", o));
                out.push(h("Access-Control-Allow-Credentials", "true"));
            }
            if let Some(m) = r.header("access-control-request-method") {
                out.push(h("Access-Control-Allow-Methods", m));
            }
            if let Some(hs) = r.header("access-control-request-headers") {
                out.push(h("Access-Control-Allow-Headers", hs));
            }
            out
        },
        "https://example.com",
        &[AuditKind::PreflightReflected, AuditKind::PreflightEcho],
    )
    .await;
    let f = finding(&report, AuditKind::PreflightReflected);
    assert_eq!(f.severity, Severity::Violation);
    assert_eq!(f.exchanges[0].0.method, "OPTIONS");
    assert!(f.reproduce.contains("-X OPTIONS"));
    assert!(f
        .reproduce
        .contains("Access-Control-Request-Method: CORSPROOF"));
    assert!(
        f.explanation.contains("passes the whole preflight"),
        "{}",
        f.explanation
    );
    assert_eq!(
        finding(&report, AuditKind::PreflightEcho).severity,
        Severity::Hygiene
    );
}

#[tokio::test]
async fn preflight_reflected_with_fixed_lists() {
    let report = expect(
        |r| {
            let ok = r.origin() == Some("https://example.com") || r.is_preflight();
            trust(r, ok, true)
        },
        "https://example.com",
        &[AuditKind::PreflightReflected],
    )
    .await;
    let f = finding(&report, AuditKind::PreflightReflected);
    assert!(
        f.explanation.contains("GET, POST, PUT"),
        "{}",
        f.explanation
    );
}

#[tokio::test]
async fn unrelated_origin_named() {
    let report = expect(
        |_| {
            vec![
                h("Access-Control-Allow-Origin", "https://partner.test"),
                h("Access-Control-Allow-Credentials", "true"),
            ]
        },
        "https://example.com",
        &[AuditKind::UnrelatedOriginAllowed],
    )
    .await;
    let f = finding(&report, AuditKind::UnrelatedOriginAllowed);
    assert_eq!(origins(f, "origins"), ["https://partner.test"]);
}

#[tokio::test]
async fn correct_server_has_no_findings() {
    let report = expect(
        |r| {
            let ok = r.origin() == Some("https://example.com");
            trust(r, ok, true)
        },
        "https://example.com",
        &[],
    )
    .await;
    assert_eq!(report.stats.failing_cases, 0);
    assert_eq!(report.stats.requests, report.cases);
    assert!(report.stats.requests >= 40, "{}", report.stats.requests);
}

#[tokio::test]
async fn correct_server_with_an_allowlist_of_several() {
    // Two exact origins, one on another domain the site owns: still nothing to report.
    expect(
        |r| {
            let ok = matches!(
                r.origin(),
                Some("https://www.example.com" | "https://admin.example.com")
            );
            trust(r, ok, true)
        },
        "https://www.example.com",
        &[],
    )
    .await;
}

#[tokio::test]
async fn default_site_origin_is_https_of_the_host() {
    let addr = serve(|r| {
        let ok = r.origin() == Some("https://127.0.0.1");
        trust(r, ok, true)
    })
    .await;
    let options = Options {
        timeout: Duration::from_secs(5),
        ..Options::default()
    };
    let report = audit(&format!("http://{addr}/"), &options)
        .await
        .expect("audit");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn every_probe_origin_is_one_a_browser_can_send() {
    for site in [
        "https://example.com",
        "https://www.example.co.uk",
        "http://app.example.com:8080",
        "https://127.0.0.1",
        "https://[::1]:8443",
    ] {
        let site = Site::parse(site).expect("site");
        let list = probes(&site);
        assert!(list.len() <= 70, "{}", list.len());
        for p in &list {
            let Some(o) = &p.origin else {
                assert_eq!(p.class, Class::Baseline);
                continue;
            };
            if o == "null" {
                continue;
            }
            let url = url::Url::parse(o).unwrap_or_else(|e| panic!("{o}: {e}"));
            assert_eq!(&url.origin().ascii_serialization(), o, "{o}");
        }
    }
}

// ---- hostile servers ----

/// A server that answers each connection with `script`: the first `answered` requests get a
/// correct response, then the connection gets `bytes` (and is held open for `hold`).
async fn hostile(answered: usize, bytes: Vec<u8>, hold: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut served = 0usize;
        for _ in 0..100 {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            // Bounded: at most 100 requests per connection.
            for _ in 0..100 {
                if read_head(&mut s, &mut buf).await.is_none() {
                    break;
                }
                if served < answered {
                    served += 1;
                    let ok = b"HTTP/1.1 200 OK\r\nVary: Origin\r\nContent-Length: 0\r\n\r\n";
                    if s.write_all(ok).await.is_err() {
                        break;
                    }
                    continue;
                }
                let _ = s.write_all(&bytes).await;
                tokio::time::sleep(hold).await;
                break;
            }
        }
    });
    addr
}

async fn audit_fails(addr: SocketAddr, timeout: Duration) -> (AuditError, Duration) {
    let options = Options {
        origin: Some("https://example.com".into()),
        timeout,
        ..Options::default()
    };
    let start = Instant::now();
    let e = audit(&format!("http://{addr}/"), &options)
        .await
        .expect_err("the audit must fail");
    (e, start.elapsed())
}

#[tokio::test]
async fn hanging_server_times_out() {
    let addr = hostile(0, Vec::new(), Duration::from_secs(30)).await;
    let (e, took) = audit_fails(addr, Duration::from_millis(400)).await;
    assert!(matches!(e, AuditError::Unreachable { .. }), "{e:?}");
    assert!(e.is_target_error());
    assert!(took < Duration::from_secs(2), "{took:?}");
    let chain = format!("{e}: {}", std::error::Error::source(&e).expect("source"));
    assert!(
        chain.contains("unreachable") && chain.contains("timed out"),
        "{chain}"
    );
}

#[tokio::test]
async fn garbage_is_not_http() {
    let addr = hostile(0, b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec(), Duration::ZERO).await;
    let (e, _) = audit_fails(addr, Duration::from_secs(2)).await;
    let AuditError::Unreachable { source, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(
        matches!(source, corsproof_client::Error::Malformed { .. }),
        "{source:?}"
    );
}

#[tokio::test]
async fn close_mid_response() {
    let addr = hostile(
        0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc".to_vec(),
        Duration::ZERO,
    )
    .await;
    let (e, _) = audit_fails(addr, Duration::from_secs(2)).await;
    let AuditError::Unreachable { source, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(
        matches!(source, corsproof_client::Error::Closed { .. }),
        "{source:?}"
    );
}

#[tokio::test]
async fn one_mebibyte_header() {
    let mut bytes = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    bytes.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    bytes.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    let addr = hostile(0, bytes, Duration::ZERO).await;
    let (e, took) = audit_fails(addr, Duration::from_secs(2)).await;
    let AuditError::Unreachable { source, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(
        matches!(source, corsproof_client::Error::TooLarge { .. }),
        "{source:?}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn server_that_stops_answering() {
    // Answers three probes, then hangs on every request: three timeouts in a row end the run.
    let addr = hostile(3, Vec::new(), Duration::from_secs(30)).await;
    let (e, took) = audit_fails(addr, Duration::from_millis(300)).await;
    let AuditError::Stopped {
        answered, total, ..
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(*answered, 3);
    assert!(*total > 40);
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn refused_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let (e, _) = audit_fails(addr, Duration::from_secs(2)).await;
    assert!(matches!(e, AuditError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&addr.to_string()), "{e}");
}

#[tokio::test]
async fn deadline_bounds_the_whole_run() {
    // A server slower than the deadline allows, though each request is within the timeout.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        for _ in 0..100 {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            for _ in 0..100 {
                if read_head(&mut s, &mut buf).await.is_none() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                if s.write_all(ok).await.is_err() {
                    break;
                }
            }
        }
    });
    let options = Options {
        origin: Some("https://example.com".into()),
        timeout: Duration::from_secs(1),
        deadline: Some(Duration::from_millis(700)),
        tls: None,
        retry: Default::default(),
    };
    let start = Instant::now();
    let e = audit(&format!("http://{addr}/"), &options)
        .await
        .expect_err("deadline");
    assert!(matches!(e, AuditError::Deadline { .. }), "{e:?}");
    assert!(start.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn input_errors_are_not_target_errors() {
    let e = audit("ftp://127.0.0.1:1/", &Options::default())
        .await
        .expect_err("ftp");
    assert!(matches!(e, AuditError::InvalidUrl { .. }), "{e:?}");
    assert!(!e.is_target_error());
    let options = Options {
        origin: Some("https://example.com/".into()),
        ..Options::default()
    };
    let e = audit("http://127.0.0.1:1/", &options)
        .await
        .expect_err("origin");
    assert!(matches!(e, AuditError::InvalidOrigin { .. }), "{e:?}");
    assert!(e.to_string().contains("https://example.com"), "{e}");
}
