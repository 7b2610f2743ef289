//! `audit`: the policy-less scan for dangerous CORS behaviour (`corsproof audit URL`).
//!
//! Without a policy there is no intent to compare with, so `audit` asks what no sane server
//! grants: it sends a fixed list of probes ([`probes()`], about 50 requests, one at a time
//! over one kept-alive connection, each within [`Options::timeout`]) built around the site's
//! own front-end origin ([`Site`]: `--origin`, by default `https://HOST` of the URL), and
//! judges every answer with the oracle, by what a browser would actually grant the probe's
//! origin: nothing; an uncredentialed read (`Access-Control-Allow-Origin` is the origin, or
//! `*`); or a credentialed read (the origin and `Access-Control-Allow-Credentials: true`,
//! the worst). Findings are grouped: one per kind, listing the probe origins that showed it.
//!
//! `http://` and `https://` URLs are supported; over TLS the certificate must verify against
//! [`Options::tls`] (Mozilla's roots by default), or the target is unreachable.
//!
//! # Probes and kinds
//!
//! With `--origin https://www.example.com` (host `www.example.com`, registrable domain
//! `example.com`, approximated without the Public Suffix List, see [`Site::domain`]):
//!
//! | kind | severity | probe origins | CORScanner / Corsy class |
//! |---|---|---|---|
//! | `origin-reflected` | violation¹ | `https://evil.test` | reflect_origin / origin reflected |
//! | `null-origin` | violation¹ | `null` (sandboxed iframes, `data:` documents) | trust_null / null origin allowed |
//! | `prefix-match` | violation¹ | `https://www.example.com.evil.test`, `https://example.com.evil.test` | prefix_match / post-domain wildcard |
//! | `suffix-match` | violation¹ | `https://evilwww.example.com`, `https://evilexample.com` | suffix_match / pre-domain wildcard |
//! | `substring-match` | violation¹ | `https://evilwww.example.com.evil.test`, `https://www.example.co` | include_match (substring) |
//! | `unescaped-dot` | violation¹ | `https://wwwxexample.com`, `https://www.examplexcom` (each dot, up to 8) | not_escape_dot / unescaped regex |
//! | `any-subdomain` | hygiene | `https://evil.www.example.com`, `https://evil.example.com` | trust_any_subdomain |
//! | `http-origin-trusted` | violation¹ | `http://www.example.com` (https sites only) | https_trust_http / http origin allowed |
//! | `special-char-bypass` | violation¹ | `https://www.example.com_.evil.test` and the same with `` - ! " $ & ' ( ) + , ; = ` { } ~ `` | special characters / unrecognized underscore, broken parser |
//! | `third-party-origin` | violation¹ | `https://evil.github.io`, `https://codepen.io`, `https://jsfiddle.net`, … ([`THIRD_PARTIES`]) | custom_third_parties / third party |
//! | `wildcard-origin` | hygiene | any answer with `Access-Control-Allow-Origin: *` | wildcard value |
//! | `wildcard-with-credentials` | hygiene | any answer with `*` and `Access-Control-Allow-Credentials: true` (browsers refuse it for credentialed reads, R32) | — |
//! | `missing-vary-origin` | hygiene | the CORS answer changes with `Origin` (across all `GET` probes and a `GET` without `Origin`) and a response a shared cache may store (RFC 9111: not `no-store` or `private`, with explicit freshness or a heuristically cacheable status) lacks `Vary: Origin` | — |
//! | `unrelated-origin-allowed` | hygiene | an answer names an origin outside the site's domain that is not the probe's own | third party allowed (Corsy's passive check) |
//! | `preflight-reflected` | violation¹ | `OPTIONS` from `https://evil.test` with `Access-Control-Request-Method: CORSPROOF` and `-Headers: authorization,x-corsproof-probe`: the preflight's CORS check passes for the attacker | — (neither tool probes preflights) |
//! | `preflight-echo` | hygiene | the same preflight: `Access-Control-Allow-Methods`/`-Headers` echo the nonsense method or header asked for, or are `*` (which grants any, R40, R42) | — |
//!
//! ¹ `violation` when a probe origin outside the site's registrable domain, or on another
//! scheme, gets a credentialed read (for `preflight-reflected`: when the attacker's
//! credentialed preflight passes its CORS check); `hygiene` when only uncredentialed reads
//! are granted (they expose no more than the attacker could fetch itself, except where the
//! network position is the credential: intranets, IP allowlists), or only same-scheme origins
//! inside the site's domain are (exploiting those takes a subdomain takeover or an XSS
//! first; so `any-subdomain` is always hygiene).
//!
//! Special characters are those a browser keeps in a host name ([`SPECIAL_CHARS`]): the
//! WHATWG URL parser accepts them, Safari and Firefox send them as is, and Chromium no longer
//! escapes them (since 119); `*` is left out (Chromium escapes it, Firefox refuses it), and so
//! are percent-encoded forms such as `%60`, which a browser decodes before sending (it sends
//! the backtick). Every probe origin is a serialized origin the WHATWG parser round-trips.
//!
//! When a general kind fires, the narrower grants it explains are listed in its finding
//! (`request.also_granted`) instead of as findings of their own: `origin-reflected` explains
//! every other origin probe; an embedded `substring-match` explains the prefix, suffix,
//! special-character, unescaped-dot and subdomain probes that contain the site's domain;
//! `prefix-match` explains special-character probes; `suffix-match` explains unescaped-dot and
//! subdomain probes that end with the site's domain. Conversely, `evilwww.example.com` is
//! itself a subdomain of `example.com`: when `evil.example.com` is trusted too, that grant is
//! listed under `any-subdomain`, not as a `suffix-match`.
//!
//! # Failures
//!
//! The first probe must be answered, or [`audit()`] fails with
//! [`AuditError::Unreachable`] (the target is down, hangs past the timeout, or does not speak
//! HTTP/1.1: garbage, a closed connection, a header section over 64 KiB). Overload answers
//! (429, or a 503 that a retry does not repeat) are retried with the back-off of
//! [`Options::retry`] ([`crate::retry`]), never judged. A probe that gets no usable answer is
//! a target error: counted ([`corsproof_report::finding::Stats::errors`]) and listed with its
//! request ([`Report::target_errors`]); three in a row end the run with
//! [`AuditError::Stopped`], and the whole run, retries included, is bounded by
//! [`Options::deadline`].
//!
//! ```
//! use std::time::Duration;
//! use corsproof_engine::audit::{audit, Options};
//! use corsproof_report::AuditKind;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A server that trusts `null` (and nothing else), with credentials.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(async move {
//!     for _ in 0..200 {
//!         let Ok((mut s, _)) = listener.accept().await else { return };
//!         // Read the whole request head (bounded: at most 16 reads).
//!         let (mut head, mut chunk) = (Vec::new(), [0u8; 1024]);
//!         for _ in 0..16 {
//!             match s.read(&mut chunk).await {
//!                 Ok(n) if n > 0 => head.extend_from_slice(&chunk[..n]),
//!                 _ => break,
//!             }
//!             if head.ends_with(b"\r\n\r\n") { break; }
//!         }
//!         let null = String::from_utf8_lossy(&head).contains("\r\nOrigin: null\r\n");
//!         let cors = if null {
//!             "Access-Control-Allow-Origin: null\r\nAccess-Control-Allow-Credentials: true\r\n"
//!         } else {
//!             ""
//!         };
//!         let head = format!(
//!             "HTTP/1.1 200 OK\r\n{cors}Vary: Origin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
//!         );
//!         let _ = s.write_all(head.as_bytes()).await;
//!     }
//! });
//!
//! let options = Options {
//!     origin: Some("https://example.com".into()),
//!     timeout: Duration::from_secs(5),
//!     ..Options::default()
//! };
//! let report = audit(&format!("http://{addr}/api"), &options).await?;
//! let kinds: Vec<_> = report.findings.iter().map(|f| f.kind).collect();
//! assert_eq!(kinds, [corsproof_report::Kind::Audit(AuditKind::NullOrigin)]);
//! assert_eq!(report.findings[0].severity.as_str(), "violation");
//! assert!(report.findings[0].reproduce.starts_with("curl -si -H 'Origin: null'"));
//! # Ok(())
//! # }
//! ```

mod judge;
mod probes;
mod target;

use std::time::{Duration, Instant};

pub use judge::{analyze, Exchange};
pub use probes::{
    probes, Class, Probe, ATTACKER, PROBE_HEADER, PROBE_METHOD, PROBE_REQUEST_HEADERS,
    SPECIAL_CHARS, THIRD_PARTIES,
};
pub use target::{Site, Target};

use corsproof_client::{Client, Limits, RawResponse, Tls, TlsError};
use corsproof_report::finding::{Report, SeenResponse};

use crate::retry::{self, Pace, Retrier, RetryPolicy, SendError, Tally};

/// Why an audit could not be run or finished. [`AuditError::is_target_error`] separates the
/// target's failures (exit 3) from the caller's (exit 2).
///
/// ```
/// use corsproof_engine::audit::{AuditError, Target};
/// let e = Target::parse("ftp://api.example.com/").unwrap_err();
/// assert!(matches!(e, AuditError::InvalidUrl { .. }));
/// assert!(!e.is_target_error());
/// assert!(e.to_string().contains("https://"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The URL cannot be audited.
    #[error("invalid URL {url:?}: {why}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The host of an `https://` URL cannot be a TLS server name.
    #[error("{url}: {source}")]
    Tls {
        /// The URL given.
        url: String,
        /// Why.
        source: TlsError,
    },
    /// `--origin` is not a serialized http(s) origin.
    #[error("invalid --origin {origin:?}: {why}")]
    InvalidOrigin {
        /// The origin given.
        origin: String,
        /// What is wrong with it.
        why: String,
    },
    /// The first request got no HTTP/1.1 answer: nothing could be checked.
    #[error("{url} is unreachable or does not speak HTTP/1.1")]
    Unreachable {
        /// The target URL.
        url: String,
        /// What went wrong.
        #[source]
        source: corsproof_client::Error,
    },
    /// The target stopped answering: several probes in a row got no usable answer.
    #[error("{url} stopped answering after {answered} of {total} probes")]
    Stopped {
        /// The target URL.
        url: String,
        /// Probes answered before it stopped.
        answered: usize,
        /// Probes in the list.
        total: usize,
        /// The last failure.
        #[source]
        source: SendError,
    },
    /// The whole run took longer than [`Options::deadline`].
    #[error("the audit of {url} exceeded its deadline of {deadline:?} after {answered} of {total} probes")]
    Deadline {
        /// The target URL.
        url: String,
        /// The deadline.
        deadline: Duration,
        /// Probes answered in time.
        answered: usize,
        /// Probes in the list.
        total: usize,
    },
}

impl AuditError {
    /// Whether the target is at fault (unreachable, not HTTP, stopped, too slow: exit 3), as
    /// opposed to the input (exit 2).
    pub fn is_target_error(&self) -> bool {
        matches!(
            self,
            AuditError::Unreachable { .. }
                | AuditError::Stopped { .. }
                | AuditError::Deadline { .. }
        )
    }
}

/// How to audit.
///
/// ```
/// use std::time::Duration;
/// use corsproof_engine::audit::Options;
/// let o = Options::default();
/// assert_eq!((&o.origin, o.timeout), (&None, Duration::from_secs(10)));
/// assert_eq!(o.effective_deadline(), Duration::from_secs(120));
/// assert_eq!(o.retry.max_retries, 4);
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// The site's own front-end origin (`--origin`); `None`: `https://HOST` of the URL.
    pub origin: Option<String>,
    /// Deadline of each request (connect, write, read).
    pub timeout: Duration,
    /// Deadline of the whole run; `None`: 12 request timeouts.
    pub deadline: Option<Duration>,
    /// The trust store of an `https://` target; `None`: Mozilla's roots
    /// ([`Tls::webpki_roots`]).
    pub tls: Option<Tls>,
    /// How overload answers (429, 503) are retried.
    pub retry: RetryPolicy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            origin: None,
            timeout: Duration::from_secs(10),
            deadline: None,
            tls: None,
            retry: RetryPolicy::default(),
        }
    }
}

impl Options {
    /// The whole run's deadline: [`Options::deadline`], or 12 request timeouts.
    pub fn effective_deadline(&self) -> Duration {
        self.deadline.unwrap_or(self.timeout.saturating_mul(12))
    }
}

/// Failures in a row after which the target is considered gone.
const MAX_CONSECUTIVE_ERRORS: u64 = 3;

/// Response bodies are read (the connection must stay in step) but not used; this bounds them.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Audits `url`: parses it and the site origin ([`Options::origin`]), sends [`probes()`] and
/// [`analyze()`]s the answers into a [`Report`] (`policy: None`, `seed: 0`, `cases`: probes
/// sent). See the module documentation for the probes, the kinds and an example.
pub async fn audit(url: &str, options: &Options) -> Result<Report, AuditError> {
    let target = Target::parse(url)?;
    let site = match &options.origin {
        Some(origin) => Site::parse(origin)?,
        None => Site::for_target(&target)?,
    };
    run(&target, &site, options).await
}

/// [`audit()`] for an already parsed target and site.
///
/// ```no_run
/// use corsproof_engine::audit::{run, Options, Site, Target};
/// # async fn f() -> Result<(), corsproof_engine::audit::AuditError> {
/// let target = Target::parse("http://127.0.0.1:8080/api/me")?;
/// let site = Site::parse("https://app.example.com")?;
/// let report = run(&target, &site, &Options::default()).await?;
/// println!("{} findings", report.findings.len());
/// # Ok(()) }
/// ```
pub async fn run(target: &Target, site: &Site, options: &Options) -> Result<Report, AuditError> {
    let start = Instant::now();
    let mut client = client(target, options)?;
    let (exchanges, tally) = send_probes(target, site, options, &mut client, start).await?;
    let findings = analyze(target, site, &exchanges);
    let probed = exchanges.len() as u64;
    let failing = judge::failing_cases(&findings);
    Ok(Report {
        target: target.url.clone(),
        policy: None,
        seed: 0,
        cases: probed,
        stats: tally.stats(probed, failing, start.elapsed().as_secs_f64()),
        findings,
        target_errors: tally.errors,
        coverage: Default::default(),
        confirm: None,
    })
}

/// The client of the audit: one kept-alive connection to the target, over TLS for https.
fn client(target: &Target, options: &Options) -> Result<Client, AuditError> {
    let client = Client::new(target.connect.clone())
        .with_timeout(options.timeout)
        .with_host(target.authority.clone())
        .with_limits(Limits {
            max_body: MAX_BODY,
            ..Limits::default()
        });
    if !target.https {
        return Ok(client);
    }
    let tls = options.tls.clone().unwrap_or_else(Tls::webpki_roots);
    let name = Tls::server_name(&target.host).map_err(|source| AuditError::Tls {
        url: target.url.clone(),
        source,
    })?;
    Ok(client.with_tls(tls, name))
}

/// Sends every probe, one at a time, overload answers retried: the exchanges and what they
/// cost. Bounded: one pass over the fixed list, each request within the timeout, at most
/// [`RetryPolicy::max_retries`] retries each, the whole within the deadline; the first probe
/// unanswered, or [`MAX_CONSECUTIVE_ERRORS`] without a usable answer in a row, end the audit.
async fn send_probes(
    target: &Target,
    site: &Site,
    options: &Options,
    client: &mut Client,
    start: Instant,
) -> Result<(Vec<Exchange>, Tally), AuditError> {
    let list = probes(site);
    let total = list.len();
    let deadline = options.effective_deadline();
    let pace = Pace::new(&options.retry, 0, MAX_CONSECUTIVE_ERRORS);
    let retrier = Retrier {
        policy: &options.retry,
        pace: &pace,
        deadline: retry::deadline(start, deadline),
    };
    let mut exchanges: Vec<Exchange> = Vec::with_capacity(total);
    let mut tally = Tally::default();
    let mut answered = 0usize;
    for probe in list {
        let Some(left) = deadline.checked_sub(start.elapsed()) else {
            return Err(deadline_error(target, deadline, answered, total));
        };
        let sent = probe.sent(target);
        let request = probes::wire_request(&sent, target);
        let Ok(delivery) = tokio::time::timeout(left, retrier.send(client, &request)).await else {
            return Err(deadline_error(target, deadline, answered, total));
        };
        tally.sent(delivery.attempts);
        let response = match delivery.result {
            Ok(raw) => {
                answered += 1;
                Ok(seen(&raw))
            }
            Err(SendError::Exchange(source)) if exchanges.is_empty() => {
                return Err(AuditError::Unreachable {
                    url: target.url.clone(),
                    source,
                })
            }
            Err(source) => {
                tally
                    .errors
                    .record(source.kind(), &source.to_string(), &sent);
                if pace.stopped() {
                    return Err(AuditError::Stopped {
                        url: target.url.clone(),
                        answered,
                        total,
                        source,
                    });
                }
                Err(source.to_string())
            }
        };
        exchanges.push(Exchange {
            probe,
            sent,
            response,
        });
    }
    Ok((exchanges, tally))
}

fn deadline_error(
    target: &Target,
    deadline: Duration,
    answered: usize,
    total: usize,
) -> AuditError {
    AuditError::Deadline {
        url: target.url.clone(),
        deadline,
        answered,
        total,
    }
}

/// The report's view of a raw response: status and header lines in order, as bytes.
fn seen(raw: &RawResponse) -> SeenResponse {
    SeenResponse {
        status: raw.status,
        headers: raw.headers.clone(),
    }
}
