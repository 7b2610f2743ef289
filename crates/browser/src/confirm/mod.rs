//! Findings confirmed in real browsers (`check --confirm`, `audit --confirm`): each
//! finding's example is replayed by headless Chromium and/or Firefox ESR against the real
//! target, from the finding's own origin, and what the browser did is set next to what the
//! oracle predicts for the answers the browser got.
//!
//! One browser start per browser and run: the browser's only way out is the confirm proxy
//! ([`proxy`]), which serves a page ([`page`]) on each finding's origin (https origins with a
//! certificate made at run time and trusted by that browser profile only, [`tls`]), sets a
//! cookie for each credentialed target's host first, and forwards the cases' requests to
//! the target, recording each with its answer. The pages run the jobs of their origin one
//! after the other, then hand over to the next origin's page.
//!
//! Per finding and browser ([`judge`]): the oracle runs the case on the answers the browser
//! got, under the browser's profile, with one preflight cache for the whole run (the
//! browser's is not emptied between findings); if the browser did something else (preflight
//! sent, request sent, cookie sent, readable, exposed headers), the finding is
//! [`Confirmation::Contradicted`]: a defect of corsproof. If the target answered the browser
//! otherwise than it answered the check, the finding is not replayable; else confirmed.

pub mod judge;
pub mod page;
pub mod proxy;
pub mod tls;

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use corsproof_case::{CredentialsJson, RequestJson};
use corsproof_oracle::{PreflightCache, Profile};
use corsproof_report::confirm::BrowserSetup;
use corsproof_report::{ConfirmBrowser, ConfirmRun, Confirmation, Finding, NotReplayable};
use serde_json::json;

use crate::error::Error;
use crate::launch::{Browser, Running, Setup};
use crate::replay::{step_json, StepResult};
use proxy::{Proxy, CONTROL};
use tls::RunCertificates;

/// How a confirm run waits.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Per request to the target.
    pub timeout: Duration,
    /// For the whole replay in one browser, its start included.
    pub deadline: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
        }
    }
}

/// A finding's case ready to replay.
struct Planned {
    index: usize,
    key: String,
    origin: String,
    case: RequestJson,
}

/// Replays `findings` in each of `browsers` and sets each finding's
/// [`Finding::confirmed`]; the step's browsers, cookie settings and time.
///
/// ```no_run
/// use corsproof_browser::confirm::{confirm, Options};
/// use corsproof_report::ConfirmBrowser;
/// let mut findings = Vec::new();
/// let run = confirm(&mut findings, &[ConfirmBrowser::Chromium], &Options::default()).unwrap();
/// assert_eq!(run.findings, 0);
/// ```
pub fn confirm(
    findings: &mut [Finding],
    browsers: &[ConfirmBrowser],
    options: &Options,
) -> Result<ConfirmRun, Error> {
    let started = Instant::now();
    let mut run = ConfirmRun {
        findings: findings.len() as u64,
        ..ConfirmRun::default()
    };
    let mut planned = Vec::new();
    for (index, f) in findings.iter_mut().enumerate() {
        match plan(f) {
            Ok((origin, case)) => planned.push(Planned {
                index,
                key: format!("f{index}"),
                origin,
                case,
            }),
            Err(why) => {
                for b in browsers {
                    f.confirmed
                        .insert(*b, Confirmation::NotReplayable(why.clone()));
                }
            }
        }
    }
    for &b in browsers {
        run.browsers
            .push(replay_in(b, findings, &planned, options)?);
    }
    run.contradicted = findings
        .iter()
        .filter(|f| {
            f.confirmed
                .values()
                .any(|c| matches!(c, Confirmation::Contradicted { .. }))
        })
        .count() as u64;
    run.seconds = started.elapsed().as_secs_f64();
    Ok(run)
}

/// Whether a finding's example can be replayed: its origin and case, or why not.
fn plan(f: &Finding) -> Result<(String, RequestJson), NotReplayable> {
    use corsproof_report::{AuditKind, CheckKind, Kind};
    match f.kind {
        Kind::Check(CheckKind::MissingVary | CheckKind::MissingVaryDenial)
        | Kind::Audit(AuditKind::MissingVaryOrigin) => return Err(NotReplayable::SharedCache),
        Kind::Check(CheckKind::CacheTooLong | CheckKind::MaxAgeMismatch) => {
            return Err(NotReplayable::CacheLifetime)
        }
        Kind::Check(CheckKind::Differential) => return Err(NotReplayable::TwoTargets),
        _ => {}
    }
    let case = f.request.case.clone();
    if case.private_network {
        return Err(NotReplayable::PrivateNetwork);
    }
    if case.origin == "null" {
        // A sandboxed frame (scripts only) of a page on an origin of the run's own.
        let page = url::Url::parse(NULL_HOST).map_err(|e| NotReplayable::Url(e.to_string()))?;
        check_target(&case.url, &page)?;
        return Ok((NULL_HOST.to_string(), case));
    }
    let origin = url::Url::parse(&case.origin)
        .map_err(|e| NotReplayable::Url(format!("origin {}: {e}", case.origin)))?;
    if !matches!(origin.scheme(), "http" | "https") || origin.host_str().is_none() {
        return Err(NotReplayable::Url(format!(
            "origin {}: not http(s)",
            case.origin
        )));
    }
    check_target(&case.url, &origin)?;
    Ok((origin.origin().ascii_serialization(), case))
}

/// The page origin that hosts the sandboxed frames of cases from an opaque (`null`) origin.
pub const NULL_HOST: &str = "https://null-origin.corsproof.test";

/// Whether a page on `page` can fetch `url` and the proxy see it: an http URL, and from an
/// https page a potentially trustworthy one (no mixed content).
fn check_target(url: &str, page: &url::Url) -> Result<(), NotReplayable> {
    let target = url::Url::parse(url).map_err(|e| NotReplayable::Url(format!("{url}: {e}")))?;
    match target.scheme() {
        "http" => {}
        "https" => return Err(NotReplayable::HttpsTarget),
        other => return Err(NotReplayable::Url(format!("{url}: scheme {other}"))),
    }
    let trustworthy = matches!(target.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(target.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || target
            .host_str()
            .is_some_and(|h| h == "localhost" || h.ends_with(".localhost"));
    if page.scheme() == "https" && !trustworthy {
        return Err(NotReplayable::Url(format!(
            "an https page may not fetch {url} (mixed content)"
        )));
    }
    Ok(())
}

/// How each browser is given the proxy, the certificate and its cookie settings.
fn setup_for(browser: ConfirmBrowser, port: u16, certs: Option<&RunCertificates>) -> Setup<'_> {
    match browser {
        ConfirmBrowser::Chromium => {
            let mut args = vec![
                format!("--proxy-server=http://127.0.0.1:{port}"),
                "--proxy-bypass-list=<-loopback>".to_string(),
                "--disable-features=HttpsUpgrades".to_string(),
            ];
            if let Some(c) = certs {
                args.push(format!(
                    "--ignore-certificate-errors-spki-list={}",
                    c.spki_sha256
                ));
            }
            Setup {
                args,
                ..Setup::default()
            }
        }
        ConfirmBrowser::Firefox => Setup {
            args: Vec::new(),
            firefox_prefs: format!(
                r#"user_pref("network.proxy.type", 1);
user_pref("network.proxy.http", "127.0.0.1");
user_pref("network.proxy.http_port", {port});
user_pref("network.proxy.ssl", "127.0.0.1");
user_pref("network.proxy.ssl_port", {port});
user_pref("network.proxy.no_proxies_on", "");
user_pref("network.proxy.allow_hijacking_localhost", true);
user_pref("network.cookie.cookieBehavior", 0);
user_pref("dom.security.https_first", false);
user_pref("dom.security.https_first_schemeless", false);
user_pref("browser.cache.disk.enable", false);
user_pref("browser.cache.memory.enable", false);
"#
            ),
            prepare: None,
        },
    }
}

/// Chromium's profile preferences, written before it starts: third-party cookies allowed
/// (`profile.cookie_controls_mode` 0; this build blocks them otherwise).
fn chromium_preferences(profile: &std::path::Path) -> Result<(), Error> {
    let dir = profile.join("Default");
    let io = |source| Error::Io {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let prefs = json!({"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": false}});
    std::fs::write(dir.join("Preferences"), prefs.to_string()).map_err(io)
}

/// The cookie's attributes and the browser's cookie settings, as the report states them.
fn cookie_settings(browser: ConfirmBrowser) -> String {
    let common = format!(
        "`{}` set for each credentialed target's host by a first-party answer of that origin, `{}`",
        proxy::COOKIE,
        COOKIE_ATTRIBUTES
    );
    match browser {
        ConfirmBrowser::Chromium => format!(
            "{common}; profile.cookie_controls_mode=0 (third-party cookies allowed; without it this build sends none)"
        ),
        ConfirmBrowser::Firefox => format!(
            "{common}; network.cookie.cookieBehavior=0 (third-party cookies accepted, not partitioned; Firefox's default 5 partitions them)"
        ),
    }
}

/// The cookie's attributes after `Path=/`.
pub const COOKIE_ATTRIBUTES: &str = "SameSite=None; Secure";

fn to_browser(b: ConfirmBrowser) -> Browser {
    match b {
        ConfirmBrowser::Chromium => Browser::Chromium,
        ConfirmBrowser::Firefox => Browser::Firefox,
    }
}

/// The run's proxy for these pages: TLS for the https ones (the run's certificates, also
/// returned for the browser's trust), answered locally for the http ones no target shares.
fn start_proxy(
    planned: &[Planned],
    origins: &[&str],
    options: &Options,
) -> Result<(Proxy, Option<RunCertificates>), Error> {
    let parsed: Vec<url::Url> = origins
        .iter()
        .filter_map(|o| url::Url::parse(o).ok())
        .collect();
    let tls_hosts: HashSet<String> = parsed
        .iter()
        .filter(|u| u.scheme() == "https")
        .filter_map(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .collect();
    let names: BTreeSet<String> = parsed
        .iter()
        .filter(|u| u.scheme() == "https")
        .filter_map(|u| u.host_str())
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
        .collect();
    let certs = if names.is_empty() {
        None
    } else {
        Some(RunCertificates::new(
            &names.into_iter().collect::<Vec<_>>(),
        )?)
    };
    let targets: HashSet<String> = planned
        .iter()
        .filter_map(|p| {
            Some(
                url::Url::parse(&p.case.url)
                    .ok()?
                    .origin()
                    .ascii_serialization(),
            )
        })
        .collect();
    let pages: HashSet<String> = origins
        .iter()
        .filter(|o| o.starts_with("http:") && !targets.contains(**o))
        .map(|o| o.to_string())
        .collect();
    let tls = certs.as_ref().map(|c| c.server.clone());
    let proxy = Proxy::start(pages, tls, tls_hosts, options.timeout)?;
    Ok((proxy, certs))
}

/// One browser: the proxy, the chain of cookie steps and pages, the start, the results.
fn replay_in(
    b: ConfirmBrowser,
    findings: &mut [Finding],
    planned: &[Planned],
    options: &Options,
) -> Result<BrowserSetup, Error> {
    let browser = to_browser(b);
    let program = browser.find()?;
    let setup_line = BrowserSetup {
        browser: b,
        version: browser.version(&program),
        cookies: cookie_settings(b),
    };
    if planned.is_empty() {
        return Ok(setup_line);
    }
    let origins: Vec<&str> = unique(planned.iter().map(|p| p.origin.as_str()));
    let (proxy, certs) = start_proxy(planned, &origins, options)?;
    let start_url = chain(&proxy, planned, &origins);
    let mut setup = setup_for(b, proxy.port, certs.as_ref());
    let trust = |profile: &std::path::Path| match &certs {
        Some(c) => c.trust_in_firefox_profile(profile),
        None => Ok(()),
    };
    setup.prepare = Some(match b {
        ConfirmBrowser::Firefox => &trust,
        ConfirmBrowser::Chromium => &chromium_preferences,
    });
    let t0 = Instant::now();
    let mut running = Running::start_with(browser, &program, &start_url, &setup)?;
    let deadline = t0 + options.deadline;
    let reports = loop {
        let reports = proxy.wait_reports(origins.len(), Instant::now() + Duration::from_secs(1));
        if reports.len() >= origins.len()
            || Instant::now() >= deadline
            || running.exited().is_some()
        {
            break reports;
        }
    };
    drop(running);
    judge_all(b, findings, planned, &proxy, &reports, t0);
    Ok(setup_line)
}

/// Each planned finding's verdict in browser `b`, in the order the pages ran them (the
/// oracle's preflight cache is the run's, as the browser's).
fn judge_all(
    b: ConfirmBrowser,
    findings: &mut [Finding],
    planned: &[Planned],
    proxy: &Proxy,
    reports: &[serde_json::Value],
    t0: Instant,
) {
    let results = step_results(reports);
    let profile = Profile::by_name(to_browser(b).profile()).unwrap_or_else(Profile::fetch);
    let hosts = cookie_hosts(planned);
    let mut cache = PreflightCache::default();
    let mut order: Vec<(Option<Instant>, &Planned)> =
        planned.iter().map(|p| (proxy.job(&p.key).1, p)).collect();
    order.sort_by_key(|(armed, _)| *armed);
    for (armed, p) in order {
        let (exchanges, _) = proxy.job(&p.key);
        let at = armed.map_or(0.0, |a| a.duration_since(t0).as_secs_f64());
        let verdict = judge::judge(
            &findings[p.index],
            &judge::Replayed {
                case: &p.case,
                step: results.iter().find(|(k, _)| *k == p.key).map(|(_, s)| s),
                exchanges: &exchanges,
                at_seconds: at,
                cookie_hosts: &hosts,
            },
            &profile,
            &mut cache,
        );
        findings[p.index].confirmed.insert(b, verdict);
    }
}

/// The cookie steps (one per credentialed target origin), then each origin's page, each
/// sending the browser to the next; the first URL.
fn chain(proxy: &Proxy, planned: &[Planned], origins: &[&str]) -> String {
    let mut seen = HashSet::new();
    let targets: Vec<String> = planned
        .iter()
        .filter(|p| credentialed(&p.case))
        .filter_map(|p| {
            Some(
                url::Url::parse(&p.case.url)
                    .ok()?
                    .origin()
                    .ascii_serialization(),
            )
        })
        .filter(|t| seen.insert(t.clone()))
        .collect();
    let mut urls: Vec<String> = targets
        .iter()
        .map(|t| format!("{t}{CONTROL}cookie"))
        .collect();
    urls.extend(origins.iter().map(|o| format!("{o}{CONTROL}page")));
    proxy.with_state(|st| {
        st.cookie_attributes = COOKIE_ATTRIBUTES.to_string();
        for (i, t) in targets.iter().enumerate() {
            st.cookie_next.insert(t.clone(), urls[i + 1].clone());
        }
        for (i, o) in origins.iter().enumerate() {
            let jobs: Vec<serde_json::Value> = planned
                .iter()
                .filter(|p| p.origin == *o)
                .map(|p| {
                    let step = step_json(&p.case, 0);
                    json!({"key": p.key, "step": step, "sandboxed": p.case.origin == "null"})
                })
                .collect();
            let next = urls.get(targets.len() + i + 1);
            st.jobs.insert(
                o.to_string(),
                json!({"jobs": jobs, "next": next}).to_string(),
            );
        }
    });
    urls[0].clone()
}

fn credentialed(case: &RequestJson) -> bool {
    case.credentials == Some(CredentialsJson::Include)
}

/// The hosts the run set its cookie for.
fn cookie_hosts(planned: &[Planned]) -> BTreeSet<String> {
    planned
        .iter()
        .filter(|p| credentialed(&p.case))
        .filter_map(|p| Some(url::Url::parse(&p.case.url).ok()?.host_str()?.to_string()))
        .collect()
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    items.filter(|i| seen.insert(*i)).collect()
}

/// Each job's result from the pages' reports.
fn step_results(reports: &[serde_json::Value]) -> Vec<(String, StepResult)> {
    reports
        .iter()
        .filter_map(|r| r.get("results")?.as_array())
        .flatten()
        .filter_map(|r| {
            let key = r.get("key")?.as_str()?.to_string();
            Some((key, serde_json::from_value(r.clone()).ok()?))
        })
        .collect()
}
