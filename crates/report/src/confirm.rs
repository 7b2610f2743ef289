//! What real browsers did with a finding's example (`check --confirm`, `audit --confirm`):
//! per browser, whether it confirmed the oracle's prediction, contradicted it (a defect of
//! corsproof, not of the target), or could not replay the case, and why.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A browser findings are replayed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfirmBrowser {
    /// Headless Chromium.
    Chromium,
    /// Headless Firefox ESR.
    Firefox,
}

impl ConfirmBrowser {
    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ConfirmBrowser::Chromium => "chromium",
            ConfirmBrowser::Firefox => "firefox",
        }
    }

    /// By name: `chromium` or `firefox`.
    ///
    /// ```
    /// use corsproof_report::ConfirmBrowser;
    /// assert_eq!(ConfirmBrowser::by_name("firefox"), Some(ConfirmBrowser::Firefox));
    /// assert_eq!(ConfirmBrowser::by_name("fetch"), None);
    /// ```
    pub fn by_name(name: &str) -> Option<ConfirmBrowser> {
        match name {
            "chromium" => Some(ConfirmBrowser::Chromium),
            "firefox" => Some(ConfirmBrowser::Firefox),
            _ => None,
        }
    }
}

impl fmt::Display for ConfirmBrowser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What happened to one replayed case: as the browser showed it, or as the oracle predicts it
/// for the answers the browser got.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Observed {
    /// A preflight reached the target.
    pub preflight_sent: bool,
    /// The request itself reached the target.
    pub request_sent: bool,
    /// The `Origin` line of the (last) request that reached the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_sent: Option<String>,
    /// Script could read the response.
    pub readable: bool,
    /// Response header names script could see, lowercase, sorted.
    pub exposed_headers: Vec<String>,
    /// The request carried a `Cookie` line.
    pub cookie_sent: bool,
}

impl Observed {
    /// The fields in which `self` and `other` differ, by name.
    ///
    /// ```
    /// use corsproof_report::confirm::Observed;
    /// let a = Observed { readable: true, ..Observed::default() };
    /// assert_eq!(a.differences(&Observed::default()), ["readable"]);
    /// ```
    pub fn differences(&self, other: &Observed) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.preflight_sent != other.preflight_sent {
            out.push("preflight_sent");
        }
        if self.request_sent != other.request_sent {
            out.push("request_sent");
        }
        if self.origin_sent != other.origin_sent {
            out.push("origin_sent");
        }
        if self.readable != other.readable {
            out.push("readable");
        }
        if self.exposed_headers != other.exposed_headers {
            out.push("exposed_headers");
        }
        if self.cookie_sent != other.cookie_sent {
            out.push("cookie_sent");
        }
        out
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        let yes = |b: bool| if b { "yes" } else { "no" };
        format!(
            "preflight sent: {}, request sent: {} (Origin: {}), cookie sent: {}, readable: {}, exposed: [{}]",
            yes(self.preflight_sent),
            yes(self.request_sent),
            self.origin_sent.as_deref().unwrap_or("none"),
            yes(self.cookie_sent),
            yes(self.readable),
            self.exposed_headers.join(", ")
        )
    }
}

/// Why a finding's example could not be replayed in a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "detail", rename_all = "kebab-case")]
pub enum NotReplayable {
    /// The finding is about a shared cache between browser and target (`missing-vary`,
    /// `missing-vary-denial`): a browser alone does not show it.
    SharedCache,
    /// The finding is about how long a preflight is cached (`cache-too-long`): replaying it
    /// means waiting out the policy's `max_age`.
    CacheLifetime,
    /// The finding compares two targets (`differential`).
    TwoTargets,
    /// The requesting origin or the target URL is not one a page can be served on or fetch
    /// (a scheme other than http or https, a missing host).
    Url(String),
    /// Private Network Access cases: the page and the target share the loopback address
    /// space.
    PrivateNetwork,
    /// An https target: the confirm proxy tunnels its traffic unseen, so what reached the
    /// target is not known.
    HttpsTarget,
    /// The target answered the browser differently than it answered the check, so the
    /// finding's example was not what the browser saw.
    TargetAnswersChanged(String),
    /// The browser did not report the case in time, or failed to run it.
    NoResult(String),
}

impl fmt::Display for NotReplayable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReplayable::SharedCache => {
                f.write_str("needs a shared cache between browser and target")
            }
            NotReplayable::CacheLifetime => {
                f.write_str("needs waiting out the preflight cache lifetime")
            }
            NotReplayable::TwoTargets => f.write_str("compares two targets"),
            NotReplayable::Url(why) => write!(f, "URL not replayable: {why}"),
            NotReplayable::PrivateNetwork => {
                f.write_str("Private Network Access needs a page in a more public address space")
            }
            NotReplayable::HttpsTarget => {
                f.write_str("https target: its traffic is tunnelled unseen")
            }
            NotReplayable::TargetAnswersChanged(what) => {
                write!(f, "the target answered the browser differently: {what}")
            }
            NotReplayable::NoResult(why) => write!(f, "no result: {why}"),
        }
    }
}

/// One browser's verdict on one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Confirmation {
    /// The browser did what the oracle predicted for the answers it got, and that shows the
    /// finding.
    Confirmed {
        /// What the browser did.
        browser: Observed,
    },
    /// The browser did something else than the oracle predicted: a defect of corsproof.
    Contradicted {
        /// What the browser did.
        browser: Observed,
        /// What the oracle predicted for the same answers.
        oracle: Observed,
        /// The `explain` input of the case with the answers the browser got: it reproduces
        /// the oracle's side (`corsproof explain`).
        explain: serde_json::Value,
    },
    /// The case could not be replayed.
    NotReplayable(NotReplayable),
}

impl Confirmation {
    /// The word of the result: `confirmed`, `contradicted` or `not-replayable`.
    pub fn word(&self) -> &'static str {
        match self {
            Confirmation::Confirmed { .. } => "confirmed",
            Confirmation::Contradicted { .. } => "contradicted",
            Confirmation::NotReplayable(_) => "not-replayable",
        }
    }

    /// The result with its reason, as the text report shows it.
    pub fn describe(&self) -> String {
        match self {
            Confirmation::NotReplayable(why) => format!("not-replayable ({why})"),
            other => other.word().to_string(),
        }
    }
}

/// A finding's results, per browser.
pub type Confirmations = BTreeMap<ConfirmBrowser, Confirmation>;

/// How one browser was set up for a confirm run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserSetup {
    /// Which browser.
    pub browser: ConfirmBrowser,
    /// Its version line.
    pub version: String,
    /// Its cookie settings: how the cookie for the target's host was set, its `SameSite`
    /// attribute, and the browser's third-party cookie setting.
    pub cookies: String,
}

/// The confirm step of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConfirmRun {
    /// Each browser used.
    pub browsers: Vec<BrowserSetup>,
    /// Findings replayed (per browser).
    pub findings: u64,
    /// Wall-clock seconds of the whole step, browser starts included.
    pub seconds: f64,
    /// Findings some browser contradicted.
    pub contradicted: u64,
}
