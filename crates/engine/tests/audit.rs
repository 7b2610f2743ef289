//! `audit` against small scripted loopback servers: one real-world defect each (every one must
//! be flagged with exactly the right kinds), correct servers (zero findings), and hostile
//! servers (clear errors within the timeout, never a panic).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use corsproof_case::CredentialsJson;
use corsproof_engine::audit::{audit, probes, AuditError, Class, Options, Site};
use corsproof_oracle::RuleId;
use corsproof_report::finding::{Finding, Report, Severity};
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

fn origins(f: &corsproof_report::finding::Finding, key: &str) -> Vec<String> {
    let list = match key {
        "origins" => &f.request.origins,
        "also_granted" => &f.request.also_granted,
        other => panic!("no request list {other}"),
    };
    list.clone().unwrap_or_default()
}

/// What every finding of an audit report must be: an audit kind citing one of its rules, with
/// exchanges, the last one's response, a curl line per exchange and words; no failed probe.
fn well_formed(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    if report.stats.errors != 0 || report.policy.is_some() {
        out.push(format!(
            "{} errors, policy {:?}",
            report.stats.errors, report.policy
        ));
    }
    for f in &report.findings {
        let Kind::Audit(kind) = f.kind else {
            out.push(format!("{} is not an audit kind", f.kind));
            continue;
        };
        if !f.rule.is_none_or(|r| kind.rules().contains(&r)) {
            out.push(format!("{kind} cites {:?}", f.rule));
        }
        let last = f.exchanges.last().map(|(_, r)| r);
        let words = !f.expected.is_empty() && !f.observed.is_empty() && !f.explanation.is_empty();
        if last != Some(&f.response)
            || !f.reproduce.starts_with("curl -si")
            || f.reproduce.lines().count() != f.exchanges.len()
            || !words
        {
            out.push(format!("{kind}: a malformed finding {f:#?}"));
        }
    }
    out
}

/// Runs a server and checks the exact set of kinds (and that its findings are well-formed).
async fn expect(handler: Handler, site: &str, expected: &[AuditKind]) -> Report {
    let addr = serve(handler).await;
    let report = run(addr, site).await;
    let got = kinds_of(&report);
    let want: BTreeSet<Kind> = expected.iter().map(|k| Kind::Audit(*k)).collect();
    assert_eq!(got, want, "{:#?}", report.findings);
    let malformed = well_formed(&report);
    assert!(malformed.is_empty(), "{}", malformed.join("\n"));
    report
}

/// A row's own assertion on a finding: `Err` says what is wrong.
type Extra = fn(&Finding) -> Result<(), String>;

/// What a row expects of one of its findings.
struct About {
    kind: AuditKind,
    severity: Option<Severity>,
    /// The probe origins the finding stands for, exactly (`None`: not checked).
    origins: Option<&'static [&'static str]>,
    /// The probe origins it also explains, exactly (`None`: not checked).
    also: Option<&'static [&'static str]>,
    /// Probe origins that must be among those it stands for or also explains.
    among: &'static [&'static str],
    rule: Option<RuleId>,
    /// Anything else the row asserts, in words when it fails.
    more: Option<Extra>,
}

impl About {
    const fn of(kind: AuditKind) -> About {
        About {
            kind,
            severity: None,
            origins: None,
            also: None,
            among: &[],
            rule: None,
            more: None,
        }
    }

    /// Every way `f` departs from what is expected.
    fn departures(&self, f: &Finding) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(s) = self.severity.filter(|s| *s != f.severity) {
            out.push(format!("severity {:?}, expected {s:?}", f.severity));
        }
        let (stands, also) = (origins(f, "origins"), origins(f, "also_granted"));
        if let Some(want) = self.origins.filter(|w| stands != *w) {
            out.push(format!("origins {stands:?}, expected {want:?}"));
        }
        if let Some(want) = self.also.filter(|w| also != *w) {
            out.push(format!("also_granted {also:?}, expected {want:?}"));
        }
        for o in self.among {
            if !stands.iter().chain(&also).any(|g| g == o) {
                out.push(format!("{o} not among {stands:?} / {also:?}"));
            }
        }
        if let Some(r) = self.rule.filter(|r| f.rule != Some(*r)) {
            out.push(format!("rule {:?}, expected {r}", f.rule));
        }
        if let Some(Err(e)) = self.more.map(|m| m(f)) {
            out.push(e);
        }
        out
    }
}

/// One scripted server with a real-world defect, and what `audit` must report about it.
struct Row {
    name: &'static str,
    site: &'static str,
    handler: Handler,
    /// Exactly the kinds found.
    kinds: &'static [AuditKind],
    about: &'static [About],
}

const EXAMPLE: &str = "https://example.com";
const WWW: &str = "https://www.example.com";

/// `^https://www.example.com$` as a regular expression: every `.` matches any character.
fn unescaped_dot_regex(origin: &str) -> bool {
    let pattern = "https://www.example.com";
    origin.len() == pattern.len()
        && pattern
            .chars()
            .zip(origin.chars())
            .all(|(p, o)| p == '.' || p == o)
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

fn trusts_example(r: &Req, extra: bool) -> Vec<(String, String)> {
    trust(r, r.origin() == Some(EXAMPLE) || extra, true)
}

const ROWS: &[Row] = &[
    Row {
        name: "reflect any origin with credentials",
        site: EXAMPLE,
        handler: |r| trust(r, true, true),
        kinds: &[AuditKind::OriginReflected, AuditKind::PreflightReflected],
        about: &[
            About {
                severity: Some(Severity::Violation),
                origins: Some(&["https://evil.test"]),
                // Every other origin probe was granted too, and is explained by this one.
                among: &["null", "https://example.com.evil.test"],
                rule: Some(RuleId::R35),
                more: Some(|f| {
                    let also = origins(f, "also_granted").len();
                    let curl = f.reproduce.contains("'Origin: https://evil.test'");
                    (also >= 30 && curl)
                        .then_some(())
                        .ok_or(format!("{also} also granted; curl {}", f.reproduce))
                }),
                ..About::of(AuditKind::OriginReflected)
            },
            About {
                severity: Some(Severity::Violation),
                ..About::of(AuditKind::PreflightReflected)
            },
        ],
    },
    Row {
        name: "reflect without credentials is hygiene",
        site: EXAMPLE,
        handler: |r| {
            let mut out = vec![h("Vary", "Origin")];
            if let Some(o) = r.origin() {
                out.push(h("Access-Control-Allow-Origin", o));
            }
            out
        },
        kinds: &[AuditKind::OriginReflected, AuditKind::PreflightReflected],
        about: &[
            About {
                severity: Some(Severity::Hygiene),
                more: Some(|f| {
                    (f.request.case.credentials == Some(CredentialsJson::Omit))
                        .then_some(())
                        .ok_or(format!("credentials {:?}", f.request.case.credentials))
                }),
                ..About::of(AuditKind::OriginReflected)
            },
            About {
                severity: Some(Severity::Hygiene),
                ..About::of(AuditKind::PreflightReflected)
            },
        ],
    },
    Row {
        name: "null trusted",
        site: EXAMPLE,
        handler: |r| trusts_example(r, r.origin() == Some("null")),
        kinds: &[AuditKind::NullOrigin],
        about: &[About {
            severity: Some(Severity::Violation),
            origins: Some(&["null"]),
            ..About::of(AuditKind::NullOrigin)
        }],
    },
    Row {
        name: "prefix check",
        site: EXAMPLE,
        handler: |r| {
            let ok = r.origin().is_some_and(|o| o.starts_with(EXAMPLE));
            trust(r, ok, true)
        },
        kinds: &[AuditKind::PrefixMatch],
        about: &[About {
            origins: Some(&["https://example.com.evil.test"]),
            // The special-character probes start with the site's origin too.
            among: &["https://example.com_.evil.test"],
            ..About::of(AuditKind::PrefixMatch)
        }],
    },
    Row {
        // `ends_with("example.com")` ignores the scheme: the http origin is trusted as well.
        name: "suffix check",
        site: EXAMPLE,
        handler: |r| {
            let ok = r.origin().is_some_and(|o| o.ends_with("example.com"));
            trust(r, ok, true)
        },
        kinds: &[AuditKind::SuffixMatch, AuditKind::HttpOriginTrusted],
        about: &[About {
            severity: Some(Severity::Violation),
            origins: Some(&["https://evilexample.com"]),
            also: Some(&["https://evil.example.com"]),
            ..About::of(AuditKind::SuffixMatch)
        }],
    },
    Row {
        // Both names are inside example.com: exploiting them takes a subdomain first.
        name: "suffix check on a subdomain site",
        site: WWW,
        handler: |r| {
            let ok = r.origin().is_some_and(|o| o.ends_with("www.example.com"));
            trust(r, ok, true)
        },
        kinds: &[AuditKind::SuffixMatch, AuditKind::HttpOriginTrusted],
        about: &[
            About {
                severity: Some(Severity::Hygiene),
                origins: Some(&["https://evilwww.example.com"]),
                also: Some(&["https://evil.www.example.com"]),
                ..About::of(AuditKind::SuffixMatch)
            },
            About {
                severity: Some(Severity::Violation),
                ..About::of(AuditKind::HttpOriginTrusted)
            },
        ],
    },
    Row {
        name: "substring check",
        site: EXAMPLE,
        handler: |r| {
            let ok = r.origin().is_some_and(|o| o.contains("example.com"));
            trust(r, ok, true)
        },
        kinds: &[AuditKind::SubstringMatch, AuditKind::HttpOriginTrusted],
        about: &[About {
            origins: Some(&["https://evilexample.com.evil.test"]),
            among: &[
                "https://example.com.evil.test",
                "https://evilexample.com",
                "https://evil.example.com",
                "https://example.com_.evil.test",
            ],
            ..About::of(AuditKind::SubstringMatch)
        }],
    },
    Row {
        // The allowed string contains the origin (CORScanner's include_match).
        name: "reverse substring check",
        site: EXAMPLE,
        handler: |r| {
            let ok = r
                .origin()
                .is_some_and(|o| o.len() > 12 && EXAMPLE.contains(o));
            trust(r, ok, true)
        },
        kinds: &[AuditKind::SubstringMatch],
        about: &[About {
            origins: Some(&["https://example.co"]),
            ..About::of(AuditKind::SubstringMatch)
        }],
    },
    Row {
        name: "unescaped dot",
        site: WWW,
        handler: |r| {
            let ok = r.origin().is_some_and(unescaped_dot_regex);
            trust(r, ok, true)
        },
        kinds: &[AuditKind::UnescapedDot],
        about: &[About {
            severity: Some(Severity::Violation),
            origins: Some(&["https://wwwxexample.com", "https://www.examplexcom"]),
            ..About::of(AuditKind::UnescapedDot)
        }],
    },
    Row {
        name: "any subdomain",
        site: EXAMPLE,
        handler: |r| {
            let ok = r.origin().is_some_and(|o| {
                o == EXAMPLE
                    || o.strip_prefix("https://")
                        .is_some_and(|host| host.ends_with(".example.com"))
            });
            trust(r, ok, true)
        },
        kinds: &[AuditKind::AnySubdomain],
        about: &[About {
            severity: Some(Severity::Hygiene),
            origins: Some(&["https://evil.example.com"]),
            ..About::of(AuditKind::AnySubdomain)
        }],
    },
    Row {
        // `evilwww.example.com` is a subdomain of example.com too: subdomain trust, not a
        // suffix check.
        name: "any subdomain of the domain on a subdomain site",
        site: WWW,
        handler: |r| {
            let ok = r.origin().is_some_and(|o| {
                o.strip_prefix("https://")
                    .is_some_and(|host| host == "example.com" || host.ends_with(".example.com"))
            });
            trust(r, ok, true)
        },
        kinds: &[AuditKind::AnySubdomain],
        about: &[About {
            origins: Some(&["https://evil.www.example.com", "https://evil.example.com"]),
            also: Some(&["https://evilwww.example.com"]),
            ..About::of(AuditKind::AnySubdomain)
        }],
    },
    Row {
        name: "http trusted for https",
        site: EXAMPLE,
        handler: |r| trusts_example(r, r.origin() == Some("http://example.com")),
        kinds: &[AuditKind::HttpOriginTrusted],
        about: &[About {
            severity: Some(Severity::Violation),
            origins: Some(&["http://example.com"]),
            ..About::of(AuditKind::HttpOriginTrusted)
        }],
    },
    Row {
        name: "third party trusted",
        site: EXAMPLE,
        handler: |r| {
            let gh = r
                .origin()
                .is_some_and(|o| o.starts_with("https://") && o.ends_with(".github.io"));
            trusts_example(r, gh)
        },
        kinds: &[AuditKind::ThirdPartyOrigin],
        about: &[About {
            origins: Some(&["https://evil.github.io"]),
            ..About::of(AuditKind::ThirdPartyOrigin)
        }],
    },
    Row {
        name: "special characters",
        site: EXAMPLE,
        handler: |r| {
            let ok = r.origin().and_then(naive_host) == Some("example.com");
            trust(r, ok, true)
        },
        kinds: &[AuditKind::SpecialCharBypass],
        about: &[About {
            among: &[
                "https://example.com_.evil.test",
                "https://example.com`.evil.test",
                "https://example.com}.evil.test",
                "https://example.com!.evil.test",
            ],
            // `-` is a host character to this parser: not a bypass here.
            more: Some(|f| {
                let dash =
                    origins(f, "origins").contains(&"https://example.com-.evil.test".to_string());
                (!dash && f.exchanges.len() <= 5)
                    .then_some(())
                    .ok_or(format!("dash {dash}, {} exchanges", f.exchanges.len()))
            }),
            ..About::of(AuditKind::SpecialCharBypass)
        }],
    },
    Row {
        name: "wildcard with credentials",
        site: EXAMPLE,
        handler: |_| {
            vec![
                h("Access-Control-Allow-Origin", "*"),
                h("Access-Control-Allow-Credentials", "true"),
            ]
        },
        kinds: &[AuditKind::WildcardWithCredentials],
        about: &[About {
            severity: Some(Severity::Hygiene),
            ..About::of(AuditKind::WildcardWithCredentials)
        }],
    },
    Row {
        // `*` on every response (also without Origin) needs no Vary.
        name: "public wildcard without vary is only hygiene",
        site: EXAMPLE,
        handler: |_| vec![h("Access-Control-Allow-Origin", "*")],
        kinds: &[AuditKind::WildcardOrigin],
        about: &[],
    },
    Row {
        name: "missing vary",
        site: EXAMPLE,
        handler: |r| trust(r, r.origin() == Some(EXAMPLE), false),
        kinds: &[AuditKind::MissingVaryOrigin],
        about: &[About {
            // The response shown is the one that carries ACAO.
            more: Some(|f| {
                let shown = f.response.headers.iter().any(|(n, v)| {
                    n == b"Access-Control-Allow-Origin" && v == b"https://example.com"
                });
                (f.exchanges.len() == 2 && f.observed.contains("no Vary") && shown)
                    .then_some(())
                    .ok_or(format!("{} exchanges: {}", f.exchanges.len(), f.observed))
            }),
            ..About::of(AuditKind::MissingVaryOrigin)
        }],
    },
    Row {
        // No shared cache may store a private answer: none can be replayed (RFC 9111 §3).
        name: "private answers need no vary",
        site: EXAMPLE,
        handler: |r| {
            let mut out = trust(r, r.origin() == Some(EXAMPLE), false);
            out.push(h("Cache-Control", "private"));
            out
        },
        kinds: &[],
        about: &[],
    },
    Row {
        name: "no-store answers need no vary",
        site: EXAMPLE,
        handler: |r| {
            let mut out = trust(r, r.origin() == Some(EXAMPLE), false);
            out.push(h("Cache-Control", "no-store, max-age=0"));
            out
        },
        kinds: &[],
        about: &[],
    },
    Row {
        // `*` only when Origin is sent: the answer depends on Origin.
        name: "cors only when asked needs vary",
        site: EXAMPLE,
        handler: |r| {
            if r.origin().is_some() {
                vec![h("Access-Control-Allow-Origin", "*")]
            } else {
                vec![]
            }
        },
        kinds: &[AuditKind::WildcardOrigin, AuditKind::MissingVaryOrigin],
        about: &[],
    },
    Row {
        // `Access-Control-Allow-Methods: *` and `-Headers: *` grant whatever an uncredentialed
        // preflight asks for, as an echo does.
        name: "wildcard preflight lists are an echo",
        site: EXAMPLE,
        handler: |r| {
            let mut out = trust(r, r.origin() == Some(EXAMPLE), true);
            if r.is_preflight() {
                out.retain(|(n, _)| !n.starts_with("Access-Control-Allow-Methods"));
                out.retain(|(n, _)| !n.starts_with("Access-Control-Allow-Headers"));
                out.push(h("Access-Control-Allow-Methods", "*"));
                out.push(h("Access-Control-Allow-Headers", "*"));
            }
            out
        },
        kinds: &[AuditKind::PreflightEcho],
        about: &[About {
            rule: Some(RuleId::R40),
            ..About::of(AuditKind::PreflightEcho)
        }],
    },
    Row {
        name: "reflected preflight",
        site: EXAMPLE,
        handler: |r| {
            if !r.is_preflight() {
                return trusts_example(r, false);
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
        kinds: &[AuditKind::PreflightReflected, AuditKind::PreflightEcho],
        about: &[
            About {
                severity: Some(Severity::Violation),
                more: Some(|f| {
                    let ok = f.exchanges[0].0.method == "OPTIONS"
                        && f.reproduce.contains("-X OPTIONS")
                        && f.reproduce
                            .contains("Access-Control-Request-Method: CORSPROOF")
                        && f.explanation.contains("passes the whole preflight");
                    ok.then_some(())
                        .ok_or(format!("{}\n{}", f.reproduce, f.explanation))
                }),
                ..About::of(AuditKind::PreflightReflected)
            },
            About {
                severity: Some(Severity::Hygiene),
                ..About::of(AuditKind::PreflightEcho)
            },
        ],
    },
    Row {
        name: "preflight reflected with fixed lists",
        site: EXAMPLE,
        handler: |r| trusts_example(r, r.is_preflight()),
        kinds: &[AuditKind::PreflightReflected],
        about: &[About {
            more: Some(|f| {
                f.explanation
                    .contains("GET, POST, PUT")
                    .then_some(())
                    .ok_or(f.explanation.clone())
            }),
            ..About::of(AuditKind::PreflightReflected)
        }],
    },
    Row {
        name: "unrelated origin named",
        site: EXAMPLE,
        handler: |_| {
            vec![
                h("Access-Control-Allow-Origin", "https://partner.test"),
                h("Access-Control-Allow-Credentials", "true"),
            ]
        },
        kinds: &[AuditKind::UnrelatedOriginAllowed],
        about: &[About {
            origins: Some(&["https://partner.test"]),
            ..About::of(AuditKind::UnrelatedOriginAllowed)
        }],
    },
    Row {
        // Two exact origins, one on another domain the site owns: nothing to report.
        name: "correct server with an allowlist of several",
        site: WWW,
        handler: |r| {
            let ok = matches!(
                r.origin(),
                Some("https://www.example.com" | "https://admin.example.com")
            );
            trust(r, ok, true)
        },
        kinds: &[],
        about: &[],
    },
];

/// Every row's server audited: exactly its kinds, each finding well-formed and citing a rule of
/// its kind, and what the row says of its findings; every departure listed by row name.
#[tokio::test]
async fn every_defect_is_flagged_with_exactly_its_kinds() {
    let mut failures = Vec::new();
    for row in ROWS {
        let report = run(serve(row.handler).await, row.site).await;
        let got = kinds_of(&report);
        let want: BTreeSet<Kind> = row.kinds.iter().map(|k| Kind::Audit(*k)).collect();
        if got != want {
            failures.push(format!("{}: kinds {got:?}, expected {want:?}", row.name));
        }
        failures.extend(
            well_formed(&report)
                .into_iter()
                .map(|e| format!("{}: {e}", row.name)),
        );
        for about in row.about {
            match report.findings.iter().find(|f| f.kind == about.kind) {
                None => failures.push(format!("{}: no {} finding", row.name, about.kind)),
                Some(f) => failures.extend(
                    about
                        .departures(f)
                        .into_iter()
                        .map(|e| format!("{} ({}): {e}", row.name, about.kind)),
                ),
            }
        }
        // Most severe first.
        if !report
            .findings
            .windows(2)
            .all(|w| w[0].severity <= w[1].severity)
        {
            failures.push(format!("{}: findings not most severe first", row.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
