//! The self-test suite of `check`: deliberately defective CORS deployments, one real-world
//! defect each, that `check` must flag with the expected finding kinds (and no kind that is not
//! a consequence of that defect), and correct deployments that must pass with zero findings.
//!
//! A deployment is a policy (under `tests/deployments/policies/`, or one of the bundled
//! `corpus/policies/`) and a way to serve it:
//!
//! - a small HTTP/1.1 server in this file ([`Site`]): a hand-written CORS layer that
//!   implements the policy (independently of the oracle and of `corsproof-tower`), with at most
//!   one [`Defect`] injected, in front of a tiny JSON app;
//! - a hand-written nginx configuration (under `tests/deployments/nginx/`) in front of the same
//!   app, started with a launcher of this file (`nginx -p DIR`, a free loopback port);
//! - the configuration `corsproof emit nginx` writes, started with
//!   `corsproof_targets::launch::nginx`.
//!
//! The nginx deployments are skipped, saying why, when no nginx binary is installed (and fail
//! under CI, which installs it); the small servers always run. Every server started is stopped by the handle held (dropped also
//! when an assertion fails); everything listens on 127.0.0.1 only; every wait is bounded.
//!
//! The `differential` kind needs two targets and is not produced by `check`: no deployment
//! covers it. Each run prints one line per deployment (time, requests, kinds found); with
//! `CORSPROOF_DEPLOYMENTS_VERBOSE=1` also every finding with its curl reproduction.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corsproof_engine::check::{cases, check, CheckConfig};
use corsproof_engine::generate::Generator;
use corsproof_oracle::Profile;
use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};
use corsproof_report::{CheckKind, ConfirmBrowser, Kind, Report};
use corsproof_targets::launch;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

// ---------------------------------------------------------------------------------------------
// The deployments
// ---------------------------------------------------------------------------------------------

/// How a deployment is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Serve {
    /// The small server with this defect injected into its CORS layer.
    Server(Defect),
    /// A hand-written nginx configuration (a file under `tests/deployments/nginx/`) in front
    /// of the app; `app_cors`: the app adds its own CORS headers too.
    Nginx { conf: &'static str, app_cors: bool },
    /// The configuration of `corsproof emit nginx`.
    EmittedNginx,
}

/// One deployment of the suite.
#[derive(Debug)]
struct Deployment {
    /// A short name.
    name: &'static str,
    /// The real-world defect in one sentence, with where it is commonly seen (`None`: a
    /// correct deployment).
    defect: Option<&'static str>,
    /// The policy it is meant to implement (a file under `tests/deployments/policies/`).
    policy: &'static str,
    /// How it is served.
    serve: Serve,
    /// The finding kinds `check` must report.
    kinds: &'static [CheckKind],
    /// Kinds that may be reported too, as consequences of the same defect (a failed preflight
    /// is also an unreadable response, an origin wrongly trusted also learns the allowlist's
    /// details when its request fails for another reason). Any other kind fails the test, and
    /// a correct deployment (no `kinds`, no `also`) must have no finding at all.
    also: &'static [CheckKind],
    /// The browser profiles judged (`None`: all three, `check`'s default).
    browser: Option<&'static str>,
}

use CheckKind::{
    CacheTooLong as CACHE_TOO_LONG, DisclosedToRefused as DISCLOSED_TO_REFUSED,
    DuplicateHeader as DUPLICATE_HEADER, HeaderExposed as HEADER_EXPOSED,
    HeaderHidden as HEADER_HIDDEN, MalformedHeader as MALFORMED_HEADER,
    MaxAgeMismatch as MAX_AGE_MISMATCH, MissingVary as MISSING_VARY,
    MissingVaryDenial as MISSING_VARY_DENIAL, ReadDenied as READ_DENIED,
    ReadGranted as READ_GRANTED, SentBlocked as SENT_BLOCKED, SentForbidden as SENT_FORBIDDEN,
};

const fn server(
    name: &'static str,
    defect: &'static str,
    policy: &'static str,
    d: Defect,
    kinds: &'static [CheckKind],
    also: &'static [CheckKind],
) -> Deployment {
    Deployment {
        name,
        defect: Some(defect),
        policy,
        serve: Serve::Server(d),
        kinds,
        also,
        browser: None,
    }
}

const fn nginx_conf(
    name: &'static str,
    defect: &'static str,
    conf: &'static str,
    app_cors: bool,
    kinds: &'static [CheckKind],
    also: &'static [CheckKind],
) -> Deployment {
    Deployment {
        name,
        defect: Some(defect),
        policy: "credentialed.toml",
        serve: Serve::Nginx { conf, app_cors },
        kinds,
        also,
        browser: None,
    }
}

const fn correct(name: &'static str, policy: &'static str, serve: Serve) -> Deployment {
    Deployment {
        name,
        defect: None,
        policy,
        serve,
        kinds: &[],
        also: &[],
        browser: None,
    }
}

/// An origin wrongly trusted: its reads are granted (the baseline's GET from every origin of
/// the pool shows it) ...
const TRUSTED: &[CheckKind] = &[READ_GRANTED];
/// ... its preflighted requests are sent when the generated cases include one, and where one of
/// its requests fails for another reason (a method the server does not allow), it has still
/// been told the allowlist's details.
const TRUSTED_ALSO: &[CheckKind] = &[SENT_FORBIDDEN, DISCLOSED_TO_REFUSED];
/// A preflight that fails also leaves a response script cannot read.
const BLOCKED_ALSO: &[CheckKind] = &[READ_DENIED];
/// A preflight that passes wrongly also lets script read the answer.
const FORBIDDEN_ALSO: &[CheckKind] = &[READ_GRANTED];

/// The deliberately defective small servers.
const SERVERS: &[Deployment] = &[
    server(
        "reflect-any-origin",
        "The Origin request header is echoed into Access-Control-Allow-Origin with credentials, \
         whatever it is (Express `cors({origin: true, credentials: true})`, Spring \
         `allowedOriginPatterns(\"*\")`).",
        "credentialed.toml",
        Defect::ReflectAnyOrigin,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    server(
        "null-trusted",
        "`null` is on the allowlist (added for `file:` pages during development), so sandboxed \
         iframes of any site are trusted.",
        "credentialed.toml",
        Defect::TrustNull,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    server(
        "prefix-match",
        "The allowlist is checked with `origin.startsWith(allowed)`, so \
         https://app.example.com.evil.test passes (seen in hand-rolled Node and PHP checks).",
        "credentialed.toml",
        Defect::PrefixMatch,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    server(
        "suffix-no-dot-boundary",
        "The subdomain pattern `*.partner.example` is implemented as \
         `origin.endsWith(\"partner.example\")`, accepting the apex and \
         https://evilpartner.example (a classic of CORS bug-bounty reports).",
        "credentialed.toml",
        Defect::SuffixMatch,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    server(
        "substring-match",
        "The subdomain pattern is implemented as `origin.includes(\"partner.example\")`, \
         accepting https://partner.example.evil.test (seen in hand-rolled middleware).",
        "credentialed.toml",
        Defect::SubstringMatch,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    server(
        "scheme-downgrade",
        "The allowlist compares host names only, so http://app.example.com, which any network \
         attacker can serve, is trusted like the https origin.",
        "credentialed.toml",
        Defect::SchemeDowngrade,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    server(
        "admin-answers-cors",
        "The API's CORS middleware is mounted on the whole application, so the same-origin admin \
         area answers cross-origin reads too (a global `app.use(cors(...))`).",
        "credentialed.toml",
        Defect::CorsEverywhere,
        TRUSTED,
        &[SENT_FORBIDDEN, DISCLOSED_TO_REFUSED, CACHE_TOO_LONG],
    ),
    server(
        "wildcard-with-credentials",
        "A static `Access-Control-Allow-Origin: *` plus `Access-Control-Allow-Credentials: true` \
         (a frequent first attempt): browsers refuse every credentialed read and preflight, and \
         any site reads the uncredentialed answers.",
        "credentialed.toml",
        Defect::WildcardWithCredentials,
        &[READ_DENIED, SENT_BLOCKED, READ_GRANTED],
        &[DISCLOSED_TO_REFUSED, SENT_FORBIDDEN],
    ),
    server(
        "acao-trailing-slash",
        "The allowed origin is configured with a trailing slash (`https://app.example.com/`) and \
         sent as configured, which never equals a serialized origin.",
        "credentialed.toml",
        Defect::TrailingSlash,
        &[MALFORMED_HEADER, READ_DENIED, SENT_BLOCKED],
        &[],
    ),
    server(
        "credentials-title-case",
        "`Access-Control-Allow-Credentials: True` (a boolean formatted by a framework); only the \
         exact value `true` is accepted, so credentialed reads and preflights fail.",
        "credentialed.toml",
        Defect::CredentialsTitleCase,
        &[MALFORMED_HEADER, READ_DENIED, SENT_BLOCKED],
        &[],
    ),
    server(
        "no-vary-origin",
        "The origin is echoed from a dynamic allowlist without `Vary: Origin`, so a CDN or shared \
         cache replays one origin's CORS answer to another.",
        "credentialed.toml",
        Defect::NoVary,
        &[MISSING_VARY_DENIAL],
        &[],
    ),
    server(
        "vary-only-when-allowed",
        "`Vary: Origin` is added only when the origin is allowed (inside the allowlist's `if`), \
         so a cached answer to a refused origin, without Vary, is served to the allowed one.",
        "credentialed.toml",
        Defect::VaryOnlyWhenAllowed,
        &[MISSING_VARY_DENIAL],
        &[],
    ),
    server(
        "wildcard-only-with-origin",
        "`Access-Control-Allow-Origin: *` is sent only when the request has an Origin, without \
         `Vary: Origin` (S3 behind CloudFront): a cached answer to a request without Origin breaks \
         every cross-origin read that follows.",
        "public.toml",
        Defect::WildcardOnlyWithOrigin,
        &[MISSING_VARY_DENIAL],
        &[],
    ),
    server(
        "wildcard-for-no-origin",
        "`Access-Control-Allow-Origin: *` is a static header on answers to requests without an \
         Origin (same-origin and server-to-server calls) and the allowlisted origin is echoed \
         otherwise, never with `Vary: Origin`: a shared cache that stored a `*` answer hands it \
         to every origin.",
        "credentialed.toml",
        Defect::WildcardForNoOrigin,
        &[MISSING_VARY],
        &[MISSING_VARY_DENIAL],
    ),
    server(
        "acam-missing-method",
        "Access-Control-Allow-Methods is a hard-coded `GET, POST, PUT` from before DELETE was \
         added to the API, so every DELETE preflight fails.",
        "credentialed.toml",
        Defect::AcamMissingMethod,
        &[SENT_BLOCKED],
        BLOCKED_ALSO,
    ),
    server(
        "preflight-405",
        "No OPTIONS handler on the API's routes: the framework answers preflights `405 Method \
         Not Allowed` (CORS headers and all), and a preflight needs an ok status, so every one \
         fails.",
        "credentialed.toml",
        Defect::PreflightNotOk,
        &[SENT_BLOCKED],
        BLOCKED_ALSO,
    ),
    server(
        "preflight-without-acam",
        "Preflights are answered with Access-Control-Allow-Origin but no Allow-Methods (only the \
         origin was configured), so every PUT and DELETE fails, while an XHR with upload \
         listeners, whose preflight takes a missing Allow-Methods as allowing its own method, \
         may send any method.",
        "credentialed.toml",
        Defect::PreflightWithoutAcam,
        &[SENT_BLOCKED],
        // The upload case is in 5% of the generated requests and in no baseline case.
        &[READ_DENIED, SENT_FORBIDDEN, READ_GRANTED],
    ),
    server(
        "acah-missing-header",
        "Access-Control-Allow-Headers lists `Content-Type` but not the `X-Request-Id` the front \
         end sends, so those preflights fail.",
        "credentialed.toml",
        Defect::AcahMissingHeader,
        &[SENT_BLOCKED],
        BLOCKED_ALSO,
    ),
    server(
        "acam-reflects-request",
        "Access-Control-Allow-Methods echoes Access-Control-Request-Method (a common shortcut), \
         so PATCH and any other method pass the preflight.",
        "credentialed.toml",
        Defect::AcamReflects,
        &[SENT_FORBIDDEN],
        FORBIDDEN_ALSO,
    ),
    server(
        "acah-reflects-request",
        "Access-Control-Allow-Headers echoes Access-Control-Request-Headers (a common shortcut), \
         so Authorization and any other header pass the preflight.",
        "credentialed.toml",
        Defect::AcahReflects,
        &[SENT_FORBIDDEN],
        FORBIDDEN_ALSO,
    ),
    server(
        "max-age-one-day",
        "Access-Control-Max-Age is 86400 where the policy says 600 (copied from a tutorial), so \
         browsers keep a preflight grant far longer than intended.",
        "credentialed.toml",
        Defect::MaxAgeDay,
        &[MAX_AGE_MISMATCH, CACHE_TOO_LONG],
        &[],
    ),
    server(
        "details-to-everyone",
        "Allow-Credentials, Allow-Methods and Allow-Headers are static headers on every \
         response and only Allow-Origin is computed, so refused origins learn the API's surface.",
        "credentialed.toml",
        Defect::DetailsToEveryone,
        &[DISCLOSED_TO_REFUSED],
        &[],
    ),
    server(
        "errors-without-cors",
        "Errors are answered by a handler that runs before the CORS middleware, so 404 and 500 \
         responses carry no CORS headers and the front end cannot read them.",
        "credentialed.toml",
        Defect::ErrorsBeforeCors,
        &[READ_DENIED],
        &[],
    ),
    server(
        "expose-wildcard",
        "`Access-Control-Expose-Headers: *` where the policy exposes only X-Request-Id, so \
         script reads internal headers too (a lazy framework setting).",
        "public.toml",
        Defect::ExposeWildcard,
        &[HEADER_EXPOSED],
        &[],
    ),
    server(
        "expose-missing",
        "No Access-Control-Expose-Headers at all, so the X-Request-Id the front end needs stays \
         hidden from script (the most frequent CORS question about custom headers).",
        "public.toml",
        Defect::ExposeMissing,
        &[HEADER_HIDDEN],
        &[],
    ),
    server(
        "path-prefix-without-slash",
        "The API's prefix is matched as flask-cors matches its documented `r\"/api/*\"` \
         (`re.match`: `*` repeats the slash, so every path starting with `/api` matches; \
         rack-cors, Tomcat and Jetty `/api/*` mappings alike): `/api`, `/apifoo` and \
         `/api.json` answer allowed origins with credentials where the policy makes them \
         same-origin only.",
        "credentialed.toml",
        Defect::PrefixWithoutSlash,
        TRUSTED,
        // Preflights on those paths pass too, cached for the route's max_age.
        &[
            SENT_FORBIDDEN,
            DISCLOSED_TO_REFUSED,
            CACHE_TOO_LONG,
            MAX_AGE_MISMATCH,
        ],
    ),
    server(
        "tomcat-cors-filter-defaults",
        "Tomcat's `CorsFilter` with its defaults next to the configured methods and headers: \
         preflights of the allowed origins also pass for `X-Requested-With`, `Accept` (with a \
         value that is not safelisted) and the `OPTIONS` method, which the policy does not \
         list.",
        "credentialed.toml",
        Defect::TomcatDefaults,
        &[SENT_FORBIDDEN],
        FORBIDDEN_ALSO,
    ),
];

/// Defective Private Network Access answers, judged under Chromium's profile (the only one
/// that sends PNA preflights).
const PNA: &[Deployment] = &[
    Deployment {
        browser: Some("chromium"),
        ..server(
            "pna-everywhere",
            "Access-Control-Allow-Private-Network: true is answered on every route, not only on \
             the device API meant for the public console (a blanket fix for Chromium's PNA \
             errors), so any allowed origin reaches the whole device from a public page.",
            "pna.toml",
            Defect::PnaEverywhere,
            &[SENT_FORBIDDEN],
            FORBIDDEN_ALSO,
        )
    },
    Deployment {
        browser: Some("chromium"),
        ..server(
            "pna-unanswered",
            "The device API answers CORS preflights but not Private Network Access ones \
             (firmware older than Chromium's PNA), so the console's requests are blocked.",
            "pna.toml",
            Defect::PnaUnanswered,
            &[SENT_BLOCKED],
            BLOCKED_ALSO,
        )
    },
];

/// The deliberately defective nginx configurations.
const NGINX: &[Deployment] = &[
    nginx_conf(
        "nginx-unanchored-regex",
        "`~app.example.com` in the origin map: unanchored with unescaped dots, as in countless \
         `if ($http_origin ~ ...)` snippets.",
        "unanchored-regex.conf",
        false,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    nginx_conf(
        "nginx-suffix-no-dot",
        "`~partner\\.example$` for all partner subdomains: no dot boundary, no scheme, so the \
         apex and https://evilpartner.example pass.",
        "suffix-no-dot.conf",
        false,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    nginx_conf(
        "nginx-https-optional",
        "`~^https?://app\\.example\\.com$` so that local http development works: a scheme \
         downgrade.",
        "https-optional.conf",
        false,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    nginx_conf(
        "nginx-reflect-origin",
        "`add_header Access-Control-Allow-Origin $http_origin` with credentials, the most copied \
         answer to a CORS error.",
        "reflect-origin.conf",
        false,
        TRUSTED,
        TRUSTED_ALSO,
    ),
    nginx_conf(
        "nginx-no-always",
        "`add_header` without `always`: nginx drops the CORS headers from the app's 404 and 500 \
         answers.",
        "no-always.conf",
        false,
        &[READ_DENIED],
        &[],
    ),
    nginx_conf(
        "nginx-upstream-also-cors",
        "nginx and the app's framework both add CORS headers (no `proxy_hide_header`), so \
         Access-Control-Allow-Origin arrives twice and no browser accepts it.",
        "upstream-also-cors.conf",
        true,
        &[DUPLICATE_HEADER, READ_DENIED],
        &[],
    ),
    nginx_conf(
        "nginx-no-vary",
        "The origin map is echoed without `add_header Vary Origin`, so caches mix origins.",
        "no-vary.conf",
        false,
        &[MISSING_VARY_DENIAL],
        &[],
    ),
    nginx_conf(
        "nginx-max-age-20-days",
        "`Access-Control-Max-Age 1728000` from the enable-cors.org snippet where the policy \
         says 600.",
        "max-age-20-days.conf",
        false,
        &[MAX_AGE_MISMATCH, CACHE_TOO_LONG],
        &[],
    ),
    nginx_conf(
        "nginx-if-drops-acao",
        "\"If is evil\": `add_header` lines inside `if ($request_method = OPTIONS)` replace the \
         inherited Access-Control-Allow-Origin, so every preflight fails.",
        "if-drops-acao.conf",
        false,
        &[SENT_BLOCKED],
        BLOCKED_ALSO,
    ),
    nginx_conf(
        "nginx-location-decoded-path",
        "The API is `location /api/`, matched against the percent-decoded path with slashes \
         merged: `/api%2Fx`, which the policy leaves same-origin only, gets the API's CORS \
         answers with credentials, and so does `/api` (redirected with the location's headers).",
        "location-decoded.conf",
        false,
        TRUSTED,
        // Preflights on those paths pass too, cached for the API's max_age.
        &[SENT_FORBIDDEN, DISCLOSED_TO_REFUSED, CACHE_TOO_LONG],
    ),
];

/// Correct deployments: zero findings.
const CORRECT_SERVERS: &[Deployment] = &[
    correct(
        "server-correct-credentialed",
        "credentialed.toml",
        Serve::Server(Defect::None),
    ),
    correct(
        "server-correct-public",
        "public.toml",
        Serve::Server(Defect::None),
    ),
    correct(
        "server-correct-pna",
        "pna.toml",
        Serve::Server(Defect::None),
    ),
    correct(
        "server-correct-mixed-routes",
        "corpus/policies/mixed-routes.toml",
        Serve::Server(Defect::None),
    ),
    correct(
        "server-correct-public-api",
        "corpus/policies/public-api.toml",
        Serve::Server(Defect::None),
    ),
    correct(
        "server-correct-spa",
        "corpus/policies/spa-credentialed.toml",
        Serve::Server(Defect::None),
    ),
    // Library behaviours that conform to the policy.
    correct(
        "refuse-unlisted-post-preflight",
        "credentialed.toml",
        Serve::Server(Defect::RefuseUnlistedPost),
    ),
    correct(
        "refused-preflight-with-details",
        "credentialed.toml",
        Serve::Server(Defect::RefusedPreflightWithDetails),
    ),
    correct(
        "forbidden-without-vary",
        "credentialed.toml",
        Serve::Server(Defect::ForbiddenWithoutVary),
    ),
    correct(
        "reject-repeated-lines",
        "credentialed.toml",
        Serve::Server(Defect::RejectRepeatedLines),
    ),
    correct(
        "length-required",
        "credentialed.toml",
        Serve::Server(Defect::LengthRequired),
    ),
    correct(
        "browser-headers-required",
        "credentialed.toml",
        Serve::Server(Defect::BrowserHeadersRequired),
    ),
];

const CORRECT_NGINX: &[Deployment] = &[
    correct(
        "nginx-correct-hand-written",
        "credentialed.toml",
        Serve::Nginx {
            conf: "correct.conf",
            app_cors: false,
        },
    ),
    correct(
        "nginx-emitted-credentialed",
        "credentialed.toml",
        Serve::EmittedNginx,
    ),
    correct("nginx-emitted-public", "public.toml", Serve::EmittedNginx),
    correct("nginx-emitted-pna", "pna.toml", Serve::EmittedNginx),
    correct(
        "nginx-emitted-mixed-routes",
        "corpus/policies/mixed-routes.toml",
        Serve::EmittedNginx,
    ),
    correct(
        "nginx-emitted-spa",
        "corpus/policies/spa-credentialed.toml",
        Serve::EmittedNginx,
    ),
];

// ---------------------------------------------------------------------------------------------
// The app and the hand-written CORS layer of the small servers
// ---------------------------------------------------------------------------------------------

/// One defect injected into the small server's CORS layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Defect {
    /// None: the policy, implemented exactly.
    None,
    /// Every origin is echoed.
    ReflectAnyOrigin,
    /// `null` is accepted too.
    TrustNull,
    /// Exact entries are matched as prefixes of the origin.
    PrefixMatch,
    /// `*.domain` patterns are matched as `ends_with(domain)`.
    SuffixMatch,
    /// `*.domain` patterns are matched as `contains(domain)`.
    SubstringMatch,
    /// `http://` origins are accepted where `https://` ones are.
    SchemeDowngrade,
    /// Same-origin-only routes answer with the first cross-origin route's configuration.
    CorsEverywhere,
    /// A static `*` with `Access-Control-Allow-Credentials: true` for every origin.
    WildcardWithCredentials,
    /// The origin is answered with a trailing slash.
    TrailingSlash,
    /// `Access-Control-Allow-Credentials: True`.
    CredentialsTitleCase,
    /// No `Vary` at all.
    NoVary,
    /// `Vary: Origin` only on answers to allowed origins.
    VaryOnlyWhenAllowed,
    /// Preflights are answered `405` (with the CORS headers).
    PreflightNotOk,
    /// Every preflight of an allowed origin passes, without Access-Control-Allow-Methods.
    PreflightWithoutAcam,
    /// `Access-Control-Allow-Methods: GET, POST, PUT`.
    AcamMissingMethod,
    /// The last of the policy's request headers is not allowed.
    AcahMissingHeader,
    /// `Access-Control-Allow-Methods` echoes the requested method.
    AcamReflects,
    /// `Access-Control-Allow-Headers` echoes the requested headers.
    AcahReflects,
    /// `Access-Control-Max-Age: 86400`.
    MaxAgeDay,
    /// Allow-Credentials, -Methods and -Headers are sent to refused origins too.
    DetailsToEveryone,
    /// 4xx and 5xx answers bypass the CORS layer.
    ErrorsBeforeCors,
    /// `Access-Control-Expose-Headers: *`.
    ExposeWildcard,
    /// No `Access-Control-Expose-Headers`.
    ExposeMissing,
    /// On `*` routes, `Access-Control-Allow-Origin: *` only when the request has an Origin.
    WildcardOnlyWithOrigin,
    /// `Access-Control-Allow-Private-Network: true` on every route.
    PnaEverywhere,
    /// No `Access-Control-Allow-Private-Network`, even on `private_network` routes.
    PnaUnanswered,
    /// `Access-Control-Allow-Origin: *` on every answer to a request without Origin (a static
    /// header meant for same-origin and server-to-server calls), the allowlisted origin
    /// otherwise, never `Vary`.
    WildcardForNoOrigin,
    /// A route covers every path that starts with its path less the trailing `/`.
    PrefixWithoutSlash,
    /// Preflights of allowed origins also pass for Tomcat's default headers and `OPTIONS`.
    TomcatDefaults,
    // The behaviours below conform to the policy: libraries do this, and `check` must not
    // report it.
    /// A preflight asking for a `POST` that `methods` does not list is refused with 403 and
    /// no CORS headers (gorilla/handlers, Tomcat `CorsFilter`, Jetty `CrossOriginFilter`,
    /// rack-cors, Starlette).
    RefuseUnlistedPost,
    /// A preflight of an allowed origin for a method or header the route does not allow is
    /// answered with Allow-Origin, -Credentials, -Methods and -Headers (the route's lists,
    /// without what was asked) but no Max-Age (flask-cors): the browser refuses it.
    RefusedPreflightWithDetails,
    /// Refused origins and failed preflights get 403 without CORS headers and without `Vary`:
    /// a response no shared cache may store (no explicit freshness, and 403 is not
    /// heuristically cacheable; Tomcat `CorsFilter`).
    ForbiddenWithoutVary,
    /// A request with two field lines of one name is answered 400 without CORS headers
    /// (nginx does so for several names, WAF rules for more): browsers send one line per name.
    RejectRepeatedLines,
    /// A `POST` or `PUT` without `Content-Length` is answered 411 without CORS headers
    /// (WEBrick): browsers send `Content-Length: 0` for an empty body.
    LengthRequired,
    /// A request without `User-Agent` or `Accept` is answered 403 without CORS headers, as
    /// bot-blocking WAF rules do: browsers always send both.
    BrowserHeadersRequired,
}

/// A parsed request: method, target, header lines in order.
#[derive(Debug)]
struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    keep_alive: bool,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// A response: status, header lines in order, body.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: &'static str,
}

impl Resp {
    fn add(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push((name.to_string(), value.into()));
    }
}

/// The app behind every deployment: JSON with a request id and an internal header, `404`
/// under paths containing `missing`, `500` under paths ending in `/error`.
fn app(req: &Req) -> Resp {
    let path = req.path();
    let (status, body) = if path.contains("missing") {
        (404, "{\"error\":\"not found\"}\n")
    } else if path.ends_with("/error") {
        (500, "{\"error\":\"internal\"}\n")
    } else {
        (200, "{\"ok\":true}\n")
    };
    Resp {
        status,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Request-Id".into(), "7".into()),
            ("X-Internal-Trace".into(), "db=primary;t=3ms".into()),
        ],
        body,
    }
}

/// A serialized origin split into scheme, host and port (default port filled in); `None`
/// for `null` and anything that is not `scheme://host[:port]`.
fn split_origin(origin: &str) -> Option<(&str, &str, u16)> {
    let (scheme, rest) = origin.split_once("://")?;
    let default = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    // An IPv6 host keeps its colons inside brackets.
    let (host, port) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains(']') => (&rest[..i], rest[i + 1..].parse().ok()?),
        _ => (rest, default),
    };
    Some((scheme, host, port))
}

/// The policy's origin matching, written for this test (neither the oracle's nor the
/// middleware's): exact entries, `*.domain` patterns (one or more labels, never the apex,
/// same scheme and port, no IP addresses), `null`.
fn entry_matches(entry: &OriginEntry, origin: &str) -> bool {
    match entry {
        OriginEntry::Null => origin == "null",
        OriginEntry::Exact { scheme, host, port } => {
            split_origin(origin).is_some_and(|(s, h, p)| {
                s == scheme.as_str() && h == host && p == port.unwrap_or(scheme.default_port())
            })
        }
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => split_origin(origin).is_some_and(|(s, h, p)| {
            let labels = h
                .strip_suffix(domain.as_str())
                .and_then(|l| l.strip_suffix('.'));
            let is_ip = h.starts_with('[') || h.parse::<std::net::Ipv4Addr>().is_ok();
            s == scheme.as_str()
                && p == port.unwrap_or(scheme.default_port())
                && !is_ip
                && labels.is_some_and(|l| {
                    !l.is_empty()
                        && l.split('.').all(|label| {
                            !label.is_empty()
                                && label.len() <= 63
                                && label.bytes().all(|b| {
                                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
                                })
                        })
                })
        }),
    }
}

/// `path` with every `%XX` that encodes an unreserved character (`A-Z a-z 0-9 - . _ ~`)
/// replaced by that character, written for this test; `%2F` and other triplets stay.
fn unreserved_decoded(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let byte = after
            .get(..2)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match byte {
            Some(b) if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => {
                out.push(char::from(b));
                rest = &after[2..];
            }
            _ => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The request headers Tomcat's `CorsFilter` allows by default (`cors.allowed.headers`).
const TOMCAT_HEADERS: [&str; 6] = [
    "Origin",
    "Accept",
    "X-Requested-With",
    "Content-Type",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
];

/// The small server: a CORS layer for `policy`, with `defect` injected, in front of [`app`].
#[derive(Debug)]
struct Site {
    policy: Policy,
    defect: Defect,
}

fn joined(names: &[String]) -> String {
    names.join(", ")
}

impl Site {
    /// The route covering `path`: the longest route path that is a prefix of it, both with
    /// percent-encoded unreserved characters decoded (the first of two equal ones). With
    /// [`Defect::PrefixWithoutSlash`], a route path's trailing `/` is left out.
    fn route(&self, path: &str) -> Option<&Route> {
        let path = unreserved_decoded(path);
        let mut best: Option<(&Route, usize)> = None;
        for r in &self.policy.routes {
            let mut prefix = unreserved_decoded(&r.path);
            if self.defect == Defect::PrefixWithoutSlash && prefix.len() > 1 {
                prefix = prefix.trim_end_matches('/').to_string();
            }
            if path.starts_with(&prefix) && best.is_none_or(|(_, len)| prefix.len() > len) {
                best = Some((r, prefix.len()));
            }
        }
        best.map(|(r, _)| r)
    }

    /// Whether the route's allowlist accepts `origin` (with the matching defects).
    fn allows(&self, route: &Route, origin: &str) -> bool {
        let entries = match &route.origins {
            Origins::Any => return true,
            Origins::List(entries) => entries,
        };
        let text = |e: &OriginEntry| e.to_string();
        match self.defect {
            Defect::ReflectAnyOrigin | Defect::WildcardWithCredentials => true,
            Defect::TrustNull if origin == "null" => true,
            Defect::PrefixMatch => entries.iter().any(|e| match e {
                OriginEntry::Exact { .. } => origin.starts_with(&text(e)),
                _ => entry_matches(e, origin),
            }),
            Defect::SuffixMatch | Defect::SubstringMatch => entries.iter().any(|e| match e {
                OriginEntry::Subdomain { domain, .. } => {
                    if self.defect == Defect::SuffixMatch {
                        origin.ends_with(domain.as_str())
                    } else {
                        origin.contains(domain.as_str())
                    }
                }
                _ => entry_matches(e, origin),
            }),
            Defect::SchemeDowngrade => entries.iter().any(|e| {
                let downgraded = origin.replacen("http://", "https://", 1);
                entry_matches(e, origin) || entry_matches(e, &downgraded)
            }),
            _ => entries.iter().any(|e| entry_matches(e, origin)),
        }
    }

    fn handle(&self, req: &Req) -> Resp {
        if let Some(refusal) = self.front_door(req) {
            return refusal;
        }
        let origin = req.header("origin");
        let acrm = req.header("access-control-request-method");
        let preflight = req.method == "OPTIONS" && origin.is_some() && acrm.is_some();
        let mut resp = if preflight {
            Resp {
                status: if self.defect == Defect::PreflightNotOk {
                    405
                } else {
                    204
                },
                headers: Vec::new(),
                body: "",
            }
        } else {
            app(req)
        };
        if self.defect == Defect::ErrorsBeforeCors && resp.status >= 400 {
            return resp;
        }
        let Some(mut route) = self.route(req.path()) else {
            return resp;
        };
        if self.defect == Defect::CorsEverywhere && route.origins.is_empty() {
            // The API's CORS configuration, mounted on every route.
            if let Some(api) = self.policy.routes.iter().find(|r| !r.origins.is_empty()) {
                route = api;
            }
        }
        if route.origins.is_empty() {
            return resp;
        }
        let allowed = origin.filter(|o| self.allows(route, o));
        let vary = match self.defect {
            Defect::NoVary => false,
            Defect::VaryOnlyWhenAllowed => allowed.is_some(),
            _ => matches!(route.origins, Origins::List(_)),
        };
        if vary {
            resp.add(
                "Vary",
                if preflight {
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
                } else {
                    "Origin"
                },
            );
        }
        if self.defect == Defect::WildcardForNoOrigin {
            resp.headers.retain(|(n, _)| n != "Vary");
            if origin.is_none() {
                resp.add("Access-Control-Allow-Origin", "*");
                return resp;
            }
        }
        if matches!(route.origins, Origins::Any) && origin.is_none() {
            // A public route answers the same with or without Origin (no Vary needed).
            if self.defect != Defect::WildcardOnlyWithOrigin {
                resp.add("Access-Control-Allow-Origin", "*");
                self.expose(route, &mut resp);
            }
            return resp;
        }
        let credentials = if self.defect == Defect::CredentialsTitleCase {
            "True"
        } else {
            "true"
        };
        // A preflight passes only for an allowed method and allowed headers: the server must
        // refuse the others itself, since a browser does not always (with no
        // Access-Control-Allow-Methods, an XHR upload's preflight allows its own method).
        let granted = allowed.filter(|_| !preflight || self.preflight_passes(route, req));
        let Some(origin) = granted else {
            match self.defect {
                Defect::RefuseUnlistedPost if preflight => resp.status = 403,
                Defect::ForbiddenWithoutVary if origin.is_some() => {
                    resp.status = 403;
                    resp.headers.retain(|(n, _)| n != "Vary");
                }
                Defect::RefusedPreflightWithDetails if preflight => {
                    if let Some(o) = allowed {
                        resp.add("Access-Control-Allow-Origin", o);
                        if route.credentials {
                            resp.add("Access-Control-Allow-Credentials", credentials);
                        }
                        self.preflight_details(route, req, &mut resp);
                    }
                }
                _ => {}
            }
            if self.defect == Defect::WildcardWithCredentials {
                // Static headers: requests without Origin get them too.
                resp.add("Access-Control-Allow-Origin", "*");
                resp.add("Access-Control-Allow-Credentials", "true");
            }
            if self.defect == Defect::DetailsToEveryone && origin.is_some() {
                if route.credentials {
                    resp.add("Access-Control-Allow-Credentials", credentials);
                }
                if preflight {
                    self.preflight_details(route, req, &mut resp);
                }
            }
            return resp;
        };
        let acao = match (&route.origins, self.defect) {
            (_, Defect::WildcardWithCredentials) | (Origins::Any, _) => "*".to_string(),
            (_, Defect::TrailingSlash) => format!("{origin}/"),
            _ => origin.to_string(),
        };
        resp.add("Access-Control-Allow-Origin", acao);
        if route.credentials {
            resp.add("Access-Control-Allow-Credentials", credentials);
        }
        if preflight {
            self.preflight_details(route, req, &mut resp);
            let max_age = if self.defect == Defect::MaxAgeDay {
                Some(86400)
            } else {
                route.max_age
            };
            if let Some(m) = max_age {
                resp.add("Access-Control-Max-Age", m.to_string());
            }
        } else {
            self.expose(route, &mut resp);
        }
        resp
    }

    /// What a server in front of the CORS layer refuses before it (the behaviours that judge
    /// the request's shape), as a bare error answer.
    fn front_door(&self, req: &Req) -> Option<Resp> {
        let refuse = |status| Resp {
            status,
            headers: Vec::new(),
            body: "",
        };
        match self.defect {
            Defect::RejectRepeatedLines => {
                let mut names: Vec<String> = req
                    .headers
                    .iter()
                    .map(|(n, _)| n.to_ascii_lowercase())
                    .collect();
                names.sort();
                let before = names.len();
                names.dedup();
                (names.len() != before).then(|| refuse(400))
            }
            Defect::LengthRequired => (matches!(req.method.as_str(), "POST" | "PUT")
                && req.header("content-length").is_none()
                && req.header("transfer-encoding").is_none())
            .then(|| refuse(411)),
            Defect::BrowserHeadersRequired => (req.header("user-agent").is_none()
                || req.header("accept").is_none())
            .then(|| refuse(403)),
            _ => None,
        }
    }

    /// Access-Control-Expose-Headers of an actual response.
    fn expose(&self, route: &Route, resp: &mut Resp) {
        let expose = match (&route.expose_headers, self.defect) {
            (_, Defect::ExposeMissing) => None,
            (_, Defect::ExposeWildcard) | (HeaderNames::Any, _) => Some("*".to_string()),
            (HeaderNames::List(l), _) if l.is_empty() => None,
            (HeaderNames::List(l), _) => Some(joined(l)),
        };
        if let Some(e) = expose {
            resp.add("Access-Control-Expose-Headers", e);
        }
    }

    /// Whether a preflight asks for a method and headers the route allows (with the defects
    /// that skip the check).
    fn preflight_passes(&self, route: &Route, req: &Req) -> bool {
        if matches!(
            self.defect,
            Defect::WildcardWithCredentials | Defect::PreflightWithoutAcam
        ) {
            return true;
        }
        let method = req.header("access-control-request-method").unwrap_or("");
        let tomcat = self.defect == Defect::TomcatDefaults;
        let method_ok = self.defect == Defect::AcamReflects
            || matches!(method, "GET" | "HEAD")
            || (method == "POST" && self.defect != Defect::RefuseUnlistedPost)
            || (tomcat && method == "OPTIONS")
            || route.methods.iter().any(|m| m == method);
        let names = req.header("access-control-request-headers").unwrap_or("");
        let headers_ok = self.defect == Defect::AcahReflects
            || names
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .all(|n| match &route.request_headers {
                    _ if tomcat && TOMCAT_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(n)) => true,
                    HeaderNames::Any => !n.eq_ignore_ascii_case("authorization"),
                    HeaderNames::List(l) => l.iter().any(|h| h.eq_ignore_ascii_case(n)),
                });
        method_ok && headers_ok
    }

    /// Allow-Methods, Allow-Headers and Allow-Private-Network of a preflight answer.
    fn preflight_details(&self, route: &Route, req: &Req, resp: &mut Resp) {
        let mut methods = route.methods.clone();
        if self.defect == Defect::AcamMissingMethod {
            methods = vec!["GET".into(), "POST".into(), "PUT".into()];
        }
        if self.defect == Defect::TomcatDefaults {
            methods.push("OPTIONS".into());
        }
        let acam = match (self.defect, req.header("access-control-request-method")) {
            (Defect::AcamReflects, Some(m)) => m.to_string(),
            _ => joined(&methods),
        };
        if !acam.is_empty() && self.defect != Defect::PreflightWithoutAcam {
            resp.add("Access-Control-Allow-Methods", acam);
        }
        let acah = match (
            self.defect,
            &route.request_headers,
            req.header("access-control-request-headers"),
        ) {
            (Defect::AcahReflects, _, Some(h)) => h.to_string(),
            (_, HeaderNames::Any, _) => "*".to_string(),
            (Defect::AcahMissingHeader, HeaderNames::List(l), _) => {
                joined(&l[..l.len().saturating_sub(1)])
            }
            (Defect::TomcatDefaults, HeaderNames::List(l), _) => {
                let mut all = l.clone();
                all.extend(TOMCAT_HEADERS.iter().map(|h| h.to_string()));
                joined(&all)
            }
            (_, HeaderNames::List(l), _) => joined(l),
        };
        if !acah.is_empty() {
            resp.add("Access-Control-Allow-Headers", acah);
        }
        let asks_pna = req
            .header("access-control-request-private-network")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let answers_pna = match self.defect {
            Defect::PnaEverywhere => true,
            Defect::PnaUnanswered => false,
            _ => route.private_network,
        };
        if asks_pna && answers_pna {
            resp.add("Access-Control-Allow-Private-Network", "true");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A small HTTP/1.1 server (loopback, keep-alive, bounded)
// ---------------------------------------------------------------------------------------------

/// Bytes of a request's header section.
const MAX_HEAD: usize = 16 * 1024;
/// Bytes of a request body (read and discarded).
const MAX_BODY: usize = 64 * 1024;
/// Requests on one connection.
const MAX_REQUESTS_PER_CONNECTION: usize = 100_000;
/// Connections open at once.
const MAX_CONNECTIONS: usize = 64;
/// How long a connection may stay silent.
const IDLE: Duration = Duration::from_secs(10);

/// A running small server; dropping it aborts the accept loop, which drops (aborts) every
/// connection task it started.
struct Server {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts `handler` on a free loopback port in the current runtime.
async fn serve(handler: Arc<dyn Fn(&Req) -> Resp + Send + Sync>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            while connections.try_join_next().is_some() {}
            let Ok((stream, _)) = listener.accept().await else {
                // Out of descriptors, say: wait a little instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            if connections.len() >= MAX_CONNECTIONS {
                continue; // dropped: closed
            }
            let handler = handler.clone();
            connections.spawn(async move {
                let _ = connection(stream, handler).await;
            });
        }
    });
    Server { port, task }
}

/// Serves one connection: requests in sequence until close, idle timeout or a bad request.
async fn connection(
    mut stream: TcpStream,
    handler: Arc<dyn Fn(&Req) -> Resp + Send + Sync>,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_HEAD {
                stream
                    .write_all(
                        b"HTTP/1.1 431 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await?;
                return Ok(());
            }
            let mut chunk = [0u8; 4096];
            let n = match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
                Ok(r) => r?,
                Err(_) => return Ok(()),
            };
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let Some((req, body_len)) = parse_request(&buf[..head_end]) else {
            stream
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await?;
            return Ok(());
        };
        if body_len > MAX_BODY {
            stream
                .write_all(
                    b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await?;
            return Ok(());
        }
        // Read and discard the body.
        while buf.len() < head_end + body_len {
            let mut chunk = [0u8; 4096];
            let n = match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
                Ok(r) => r?,
                Err(_) => return Ok(()),
            };
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..head_end + body_len);
        let resp = handler(&req);
        stream.write_all(&encode(&req, &resp)).await?;
        if !req.keep_alive {
            return Ok(());
        }
    }
    Ok(())
}

/// Parses a request head; `None` when it is not HTTP/1.x or uses a transfer coding.
fn parse_request(head: &[u8]) -> Option<(Req, usize)> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut start = lines.next()?.split(' ');
    let (method, target, version) = (start.next()?, start.next()?, start.next()?);
    if start.next().is_some() || !version.starts_with("HTTP/1.") {
        return None;
    }
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (n, v) = line.split_once(':')?;
        headers.push((n.to_string(), v.trim().to_string()));
    }
    let mut req = Req {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        keep_alive: false,
    };
    if req.header("transfer-encoding").is_some() {
        return None;
    }
    let connection = req.header("connection").unwrap_or("").to_ascii_lowercase();
    req.keep_alive = if version == "HTTP/1.1" {
        !connection.contains("close")
    } else {
        connection.contains("keep-alive")
    };
    let body_len = match req.header("content-length") {
        Some(v) => v.parse().ok()?,
        None => 0,
    };
    Some((req, body_len))
}

fn encode(req: &Req, resp: &Resp) -> Vec<u8> {
    let reason = match resp.status {
        200 => "OK",
        204 => "No Content",
        405 => "Method Not Allowed",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Other",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", resp.status);
    for (n, v) in &resp.headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    let has_body = resp.status != 204;
    if has_body {
        out.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    if !req.keep_alive {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    if has_body && req.method != "HEAD" {
        out.push_str(resp.body);
    }
    out.into_bytes()
}

// ---------------------------------------------------------------------------------------------
// nginx: a launcher for hand-written configurations
// ---------------------------------------------------------------------------------------------

/// The standalone main configuration around the site configuration `conf` (placeholder
/// `@LISTEN@`) for `listen`: no daemon, one process, every path inside the prefix, and the
/// upstream `app` at `app_port`.
fn nginx_main_conf(conf: &str, listen: &str, app_port: u16) -> String {
    let site = conf.replace("@LISTEN@", listen);
    // Kept-alive upstream connections: a new connection per proxied request would leave
    // thousands of sockets in TIME_WAIT (and as many conntrack entries) per deployment.
    format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid nginx.pid;\n\
         error_log error.log warn;\nevents {{\n    worker_connections 256;\n}}\nhttp {{\n\
         access_log off;\nserver_tokens off;\ndefault_type text/plain;\n\
         client_body_temp_path tmp/body;\nproxy_temp_path tmp/proxy;\n\
         fastcgi_temp_path tmp/fastcgi;\nuwsgi_temp_path tmp/uwsgi;\nscgi_temp_path tmp/scgi;\n\
         upstream app {{\n    server 127.0.0.1:{app_port};\n    keepalive 16;\n}}\n\
         proxy_http_version 1.1;\nproxy_set_header Connection \"\";\n\
         {site}\n}}\n"
    )
}

/// The last lines of a running nginx's `error.log`.
fn error_log_tail(nginx: &launch::Running) -> String {
    let log = nginx
        .dir()
        .and_then(|d| std::fs::read_to_string(d.join("error.log")).ok())
        .unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

// ---------------------------------------------------------------------------------------------
// Running a deployment
// ---------------------------------------------------------------------------------------------

fn data(dir: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/deployments")
        .join(dir)
        .join(file)
}

/// A policy: `corpus/...` from the repository's bundled policies, else a file under
/// `tests/deployments/policies/`.
fn policy(file: &str) -> Policy {
    let path = if file.starts_with("corpus/") {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(file)
    } else {
        data("policies", file)
    };
    Policy::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixed seed of every run (`CORSPROOF_DEPLOYMENTS_SEED` overrides it).
const SEED: u64 = 20_240_604;

/// A bound on one deployment's check.
const CHECK_DEADLINE: Duration = Duration::from_secs(60);

/// `name`'s value from the environment, or `default`.
fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// One deployment's result: the kinds found, or why it could not be checked.
struct Outcome {
    name: &'static str,
    found: Result<Report, String>,
    seconds: f64,
}

async fn run_check(d: &Deployment, policy: &Policy, port: u16) -> Result<Report, String> {
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/")).map_err(|e| e.to_string())?;
    let profiles = match d.browser {
        Some(b) => vec![Profile::by_name(b).ok_or_else(|| format!("no profile {b}"))?],
        None => CheckConfig::default().profiles,
    };
    // Generated cases per deployment, on top of `check`'s deterministic baseline: `check`'s
    // default (`CORSPROOF_DEPLOYMENTS_CASES` overrides it for exploration). The baseline alone
    // (`CORSPROOF_DEPLOYMENTS_CASES=0`) shows every expected kind of this suite: it crosses
    // every origin class with every method and header class, unlisted ones included, and
    // probes every route's boundary paths; the generated cases explore beyond it.
    let config = CheckConfig {
        cases: setting("CORSPROOF_DEPLOYMENTS_CASES", CheckConfig::default().cases),
        seed: setting("CORSPROOF_DEPLOYMENTS_SEED", SEED),
        profiles,
        concurrency: 4,
        timeout: Duration::from_secs(5),
        deadline: CHECK_DEADLINE,
        ..Default::default()
    };
    let generated = cases(
        &Generator::new(policy, &url),
        policy,
        config.cases,
        config.seed,
    )
    .len();
    match tokio::time::timeout(
        CHECK_DEADLINE + Duration::from_secs(10),
        check(policy, d.policy, &url, &config),
    )
    .await
    {
        // Every case judged, every exchange answered: a failed exchange silently drops its
        // case, and a run cut short by the deadline skips cases.
        Ok(Ok(report)) if report.stats.errors > 0 || report.stats.cases != generated as u64 => {
            Err(format!(
                "{} failed exchanges, {} of {generated} cases judged",
                report.stats.errors, report.stats.cases
            ))
        }
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(format!("check failed: {e}")),
        Err(_) => Err("check did not finish in time".to_string()),
    }
}

/// What serves a deployment; dropping it stops everything it started.
#[allow(dead_code)] // The handles are held only to be dropped.
enum Running {
    Server(Server),
    Nginx(launch::Running, Server),
    Emitted(launch::Running),
}

/// Serves `d` (nginx: with `bin`): the handle, the port, and what to add to an error
/// (nginx's error log).
async fn start(
    d: &'static Deployment,
    policy: &Policy,
    nginx: Option<&Path>,
) -> Result<(Running, u16), String> {
    match d.serve {
        Serve::Server(defect) => {
            let site = Arc::new(Site {
                policy: policy.clone(),
                defect,
            });
            let server = serve(Arc::new(move |r: &Req| site.handle(r))).await;
            let port = server.port;
            Ok((Running::Server(server), port))
        }
        Serve::Nginx { conf, app_cors } => {
            let text = std::fs::read_to_string(data("nginx", conf)).expect("an nginx conf");
            let app_server = if app_cors {
                let site = Arc::new(Site {
                    policy: policy.clone(),
                    defect: Defect::None,
                });
                serve(Arc::new(move |r: &Req| site.handle(r))).await
            } else {
                serve(Arc::new(app)).await
            };
            let bin = nginx
                .expect("nginx deployments run with a binary")
                .to_path_buf();
            let app_port = app_server.port;
            // The launcher waits for the port synchronously: off the runtime's thread.
            let started = tokio::task::spawn_blocking(move || {
                launch::nginx_with_config(&bin, |listen| nginx_main_conf(&text, listen, app_port))
            })
            .await;
            match started {
                Ok(Ok(nginx)) => match nginx.url().port() {
                    Some(port) => Ok((Running::Nginx(nginx, app_server), port)),
                    None => Err(format!("no port in {}", nginx.url())),
                },
                Ok(Err(e)) => Err(format!("cannot start {}: {e}", d.name)),
                Err(e) => Err(format!("the nginx launcher failed: {e}")),
            }
        }
        Serve::EmittedNginx => {
            let bin = nginx
                .expect("nginx deployments run with a binary")
                .to_path_buf();
            // The launcher waits for the port synchronously: off the runtime's thread.
            let emitted = policy.clone();
            match tokio::task::spawn_blocking(move || launch::nginx(&bin, &emitted)).await {
                Ok(Ok(running)) => match running.url().port() {
                    Some(port) => Ok((Running::Emitted(running), port)),
                    None => Err(format!("no port in {}", running.url())),
                },
                Ok(Err(e)) => Err(format!("cannot start the emitted configuration: {e}")),
                Err(e) => Err(format!("the nginx launcher failed: {e}")),
            }
        }
    }
}

/// Serves `d` and checks it: the handle (kept for `--confirm`) and the report.
async fn serve_and_check(
    d: &'static Deployment,
    nginx: Option<&Path>,
) -> (Option<Running>, Result<Report, String>) {
    let policy = policy(d.policy);
    let (running, port) = match start(d, &policy, nginx).await {
        Ok(started) => started,
        Err(e) => return (None, Err(e)),
    };
    let found = run_check(d, &policy, port)
        .await
        .map_err(|e| match &running {
            Running::Nginx(nginx, _) => {
                format!("{e}; nginx error.log ends with:\n{}", error_log_tail(nginx))
            }
            _ => e,
        });
    (Some(running), found)
}

/// Serves `d` (nginx: with `bin`), checks it, stops what it started.
async fn run(d: &'static Deployment, nginx: Option<&Path>) -> Outcome {
    let started = Instant::now();
    let (running, found) = serve_and_check(d, nginx).await;
    drop(running);
    Outcome {
        name: d.name,
        found,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Runs `list`, two deployments at a time, and fails with every departure from the expected
/// kinds (missing or unexpected), with the findings' evidence.
fn run_all(list: &'static [Deployment], nginx: Option<&Path>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let outcomes = rt.block_on(async {
        let mut out = Vec::new();
        for pair in list.chunks(2) {
            let mut runs = JoinSet::new();
            for d in pair {
                let nginx = nginx.map(Path::to_path_buf);
                runs.spawn(async move { run(d, nginx.as_deref()).await });
            }
            while let Some(r) = runs.join_next().await {
                out.push(r.expect("a deployment's run"));
            }
        }
        out
    });
    let mut failures = Vec::new();
    for d in list {
        let Some(o) = outcomes.iter().find(|o| o.name == d.name) else {
            failures.push(format!("{}: not run", d.name));
            continue;
        };
        let report = match &o.found {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: {e}", d.name));
                continue;
            }
        };
        let findings = &report.findings;
        let found: BTreeSet<Kind> = findings.iter().map(|f| f.kind).collect();
        let missing: Vec<Kind> = d
            .kinds
            .iter()
            .map(|k| Kind::Check(*k))
            .filter(|k| !found.contains(k))
            .collect();
        let unexpected: Vec<Kind> = found
            .iter()
            .copied()
            .filter(|k| !d.kinds.iter().chain(d.also).any(|e| k == e))
            .collect();
        for f in findings {
            let cited = match f.kind {
                Kind::Check(k) => f.rule.is_some_and(|r| k.rules().contains(&r)),
                Kind::Audit(_) => false,
            };
            if !cited {
                failures.push(format!("{}: {} cites {:?}", d.name, f.kind, f.rule));
            }
        }
        let join = |v: &mut dyn Iterator<Item = Kind>| {
            v.map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
        };
        println!(
            "{:<28} {:>4.1} s {:>5} requests  found [{}]",
            d.name,
            o.seconds,
            report.stats.requests,
            join(&mut found.iter().copied()),
        );
        let evidence: Vec<String> = findings
            .iter()
            .map(|f| {
                let exchanges: Vec<String> = f
                    .exchanges
                    .iter()
                    .map(|(sent, seen)| {
                        let headers: Vec<String> = seen
                            .headers
                            .iter()
                            .map(|(n, v)| {
                                format!(
                                    "{}: {}",
                                    String::from_utf8_lossy(n),
                                    String::from_utf8_lossy(v)
                                )
                            })
                            .collect();
                        format!(
                            "{} {} -> {} [{}]",
                            sent.method,
                            sent.url,
                            seen.status,
                            headers.join(" | ")
                        )
                    })
                    .collect();
                format!(
                    "  - {} on {:?} ({}): expected {}, observed {}\n    {}\n    {}\n    request: {}\n    {}",
                    f.kind,
                    f.route,
                    f.profiles.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(","),
                    f.expected,
                    f.observed,
                    f.reproduce.replace('\n', "\n    "),
                    exchanges.join("\n    "),
                    serde_json::to_string(&f.request).unwrap_or_default(),
                    f.explanation
                )
            })
            .collect();
        if std::env::var_os("CORSPROOF_DEPLOYMENTS_VERBOSE").is_some() {
            println!("{}", evidence.join("\n"));
        }
        if missing.is_empty() && unexpected.is_empty() {
            continue;
        }
        failures.push(format!(
            "{} ({}): missing [{}], unexpected [{}]\n{}",
            d.name,
            d.defect
                .unwrap_or("a correct deployment: no finding allowed"),
            join(&mut missing.into_iter()),
            join(&mut unexpected.into_iter()),
            evidence.join("\n")
        ));
    }
    assert!(
        failures.is_empty(),
        "{} deployment(s) departed from their expected findings:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[test]
fn defective_small_servers_are_flagged() {
    run_all(SERVERS, None);
}

/// Private Network Access answers, under Chromium's profile: the baseline sends every route
/// PNA requests from every origin class, credentialed and not, so a wrong or missing
/// `Access-Control-Allow-Private-Network` shows on a route with `credentials = false` (like the
/// device API of `corpus/policies/pna.toml`) too, on every seed.
#[test]
fn defective_private_network_answers_are_flagged() {
    run_all(PNA, None);
}

#[test]
fn correct_small_servers_pass() {
    run_all(CORRECT_SERVERS, None);
}

#[test]
fn defective_nginx_configurations_are_flagged() {
    let Some(bin) = nginx() else {
        return;
    };
    run_all(NGINX, Some(&bin));
}

#[test]
fn correct_nginx_configurations_pass() {
    let Some(bin) = nginx() else {
        return;
    };
    run_all(CORRECT_NGINX, Some(&bin));
}

/// The nginx binary; the test skips without one, saying why (and fails under CI).
fn nginx() -> Option<PathBuf> {
    let bin = launch::find_nginx();
    let found = bin
        .as_ref()
        .map(|_| ())
        .ok_or_else(|| "not installed".to_string());
    corsproof_testkit::tool::require_that("nginx", found, "serves the nginx deployments")
        .then_some(bin)
        .flatten()
}

/// The suite's promise: at least 20 defective deployments, every kind but `differential`
/// expected somewhere, unique names, every data file used.
#[test]
fn the_suite_covers_every_kind() {
    let defective: Vec<&Deployment> = SERVERS.iter().chain(PNA).chain(NGINX).collect();
    assert!(defective.len() >= 20, "{} defective", defective.len());
    for d in &defective {
        assert!(d.defect.is_some() && !d.kinds.is_empty(), "{}", d.name);
    }
    for d in CORRECT_SERVERS.iter().chain(CORRECT_NGINX) {
        assert!(d.defect.is_none() && d.kinds.is_empty(), "{}", d.name);
    }
    for kind in CheckKind::ALL {
        if *kind == CheckKind::Differential {
            continue; // needs two targets; `check` does not produce it
        }
        assert!(
            defective.iter().any(|d| d.kinds.contains(kind)),
            "no deployment expects {kind}"
        );
    }
    let mut names = BTreeSet::new();
    for d in SERVERS
        .iter()
        .chain(PNA)
        .chain(NGINX)
        .chain(CORRECT_SERVERS)
        .chain(CORRECT_NGINX)
    {
        assert!(names.insert(d.name), "duplicate name {}", d.name);
    }
    let confs: BTreeSet<&str> = NGINX
        .iter()
        .chain(CORRECT_NGINX)
        .filter_map(|d| match d.serve {
            Serve::Nginx { conf, .. } => Some(conf),
            _ => None,
        })
        .collect();
    let dir = data("nginx", "");
    for entry in std::fs::read_dir(&dir).expect("tests/deployments/nginx") {
        let file = entry.expect("an entry").file_name();
        let file = file.to_string_lossy();
        assert!(confs.contains(file.as_ref()), "{file} is not used");
    }
}

#[test]
fn the_hand_written_origin_matching_follows_the_policy_format() {
    let pattern: OriginEntry = "https://*.partner.example".parse().expect("a pattern");
    for (origin, ok) in [
        ("https://a.partner.example", true),
        ("https://a.b.partner.example", true),
        ("https://partner.example", false),
        ("https://evilpartner.example", false),
        ("http://a.partner.example", false),
        ("https://a.partner.example:8443", false),
        ("https://a.partner.example.evil.test", false),
        ("null", false),
    ] {
        assert_eq!(entry_matches(&pattern, origin), ok, "{origin}");
    }
    let exact: OriginEntry = "https://app.example.com".parse().expect("an origin");
    assert!(entry_matches(&exact, "https://app.example.com"));
    assert!(entry_matches(&exact, "https://app.example.com:443"));
    assert!(!entry_matches(&exact, "https://app.example.com:8443"));
    assert!(!entry_matches(&exact, "http://app.example.com"));
    assert!(!entry_matches(&exact, "https://app.example.com.evil.test"));
    assert_eq!(
        split_origin("http://[::1]:8080"),
        Some(("http", "[::1]", 8080))
    );
    assert_eq!(split_origin("http://[::1]"), Some(("http", "[::1]", 80)));
}

// ---------------------------------------------------------------------------------------------
// `infer` on the self-test deployments
// ---------------------------------------------------------------------------------------------

/// What [`infer_and_check`] found.
type Inferred = (
    corsproof_engine::infer::Inferred,
    corsproof_diff::Diff,
    Option<Report>,
);

/// The candidate origins that name every entry of `policy`: exact origins, a host of one
/// label under each pattern.
fn candidate_origins(policy: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    for route in &policy.routes {
        let Origins::List(list) = &route.origins else {
            continue;
        };
        for entry in list {
            match entry {
                OriginEntry::Null => {}
                OriginEntry::Exact { .. } => out.push(entry.to_string()),
                OriginEntry::Subdomain { .. } => {
                    out.push(entry.to_string().replacen('*', "app", 1))
                }
            }
        }
    }
    out
}

/// Infers the policy of deployment `d` (probing its policy's route paths and origins; nginx
/// deployments with `nginx`), and checks the same deployment against it: the gaps, the
/// difference from the intended policy, the check's findings (`None` when `check_shown` is
/// false and a gap or difference already shows a defect).
async fn infer_and_check(
    d: &'static Deployment,
    nginx: Option<&Path>,
    check_shown: bool,
) -> Result<Inferred, String> {
    let intended = policy(d.policy);
    let (running, port) = start(d, &intended, nginx).await?;
    let options = corsproof_engine::infer::Options {
        paths: intended.routes.iter().map(|r| r.path.clone()).collect(),
        origins: candidate_origins(&intended),
        timeout: Duration::from_secs(5),
        max_requests: Some(5_000),
        ..Default::default()
    };
    let url = format!("http://127.0.0.1:{port}");
    let inferred = corsproof_engine::infer::infer(&url, &options)
        .await
        .map_err(|e| format!("{}: infer failed: {e}", d.name))?;
    let diff = corsproof_diff::diff(&intended, &inferred.policy);
    let shown = !inferred.gaps.is_empty() || !diff.changes.is_empty();
    let report = if check_shown || !shown {
        Some(run_check(d, &inferred.policy, port).await?)
    } else {
        None
    };
    drop(running);
    Ok((inferred, diff, report))
}

/// The deployments of `servers`, and of `with_nginx` where nginx is installed (the test
/// says why it skips them otherwise, and fails under CI), with the binary.
fn with_nginx(
    servers: &[&'static [Deployment]],
    with_nginx: &'static [Deployment],
) -> (Vec<&'static Deployment>, Option<PathBuf>) {
    let bin = nginx();
    let mut list: Vec<&'static Deployment> = servers.iter().flat_map(|l| l.iter()).collect();
    if bin.is_some() {
        list.extend(with_nginx);
    }
    (list, bin)
}

/// `infer` on every correct deployment (small servers and nginx) writes a valid policy, with
/// no gap, that the same deployment passes with zero findings.
#[test]
fn infer_on_correct_deployments_writes_a_policy_they_pass() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (list, bin) = with_nginx(&[CORRECT_SERVERS], CORRECT_NGINX);
    for d in list {
        let (inferred, _, report) = rt
            .block_on(infer_and_check(d, bin.as_deref(), true))
            .unwrap_or_else(|e| panic!("{}: {e}", d.name));
        let report = report.expect("a check");
        let written = inferred.policy.to_toml_string();
        assert!(inferred.policy.validate().is_ok(), "{}: {written}", d.name);
        assert!(inferred.gaps.is_empty(), "{}: {:?}", d.name, inferred.gaps);
        let kinds: Vec<&str> = report.findings.iter().map(|f| f.kind.as_str()).collect();
        assert!(kinds.is_empty(), "{}: {kinds:?}\n{written}", d.name);
    }
}

/// `infer` on every defective deployment (small servers and nginx): the defect shows, as a
/// gap, as a difference from the intended policy (what it grants), or as a finding of `check`
/// against the inferred policy (what a policy does not describe: `Vary`, details disclosed,
/// error responses).
#[test]
fn infer_on_defective_deployments_reports_the_defect() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut unseen = Vec::new();
    let (list, bin) = with_nginx(&[SERVERS, PNA], NGINX);
    for d in list {
        let (inferred, diff, report) = rt
            .block_on(infer_and_check(d, bin.as_deref(), false))
            .unwrap_or_else(|e| panic!("{}: {e}", d.name));
        let found = report.is_some_and(|r| !r.findings.is_empty());
        if inferred.gaps.is_empty() && diff.changes.is_empty() && !found {
            unseen.push(d.name);
        }
    }
    assert!(unseen.is_empty(), "defects infer does not show: {unseen:?}");
}

// ---------------------------------------------------------------------------------------------
// In real browsers (`--confirm`)
// ---------------------------------------------------------------------------------------------

/// The defective deployments whose findings CI replays in Chromium and Firefox: one or more
/// of each way a read or a request goes wrong (an origin wrongly trusted, credentials
/// refused, a preflight refused, a header hidden or exposed, nginx's own defects).
/// `CORSPROOF_CONFIRM_ALL=1` replays every defective deployment.
const CONFIRMED_IN_CI: &[&str] = &[
    "reflect-any-origin",
    "null-trusted",
    "wildcard-with-credentials",
    "credentials-title-case",
    "acam-missing-method",
    "preflight-405",
    "acah-reflects-request",
    "expose-wildcard",
    "expose-missing",
    "errors-without-cors",
    "nginx-reflect-origin",
    "nginx-no-always",
    "nginx-if-drops-acao",
];

/// Every violation and breakage finding of defective deployments, replayed in both browsers
/// against the deployment itself (one browser start each for the whole batch), is confirmed
/// by each browser or not replayable with a reason; a contradiction (the browser did
/// something else than the oracle predicted) fails the test. Prints the table of
/// deployment, kind and each browser's result, and the time per finding.
#[test]
fn defective_deployments_are_confirmed_in_real_browsers() {
    let chromium = corsproof_testkit::tool::require_any(
        &["chromium", "chromium-browser"],
        "replays findings in a real browser (--confirm)",
    );
    let firefox = corsproof_testkit::tool::require_any(
        &["firefox-esr", "firefox"],
        "replays findings in a real browser (--confirm)",
    );
    let certutil = corsproof_testkit::tool::require(
        "certutil",
        "gives Firefox's profile the run's certificate authority (--confirm)",
    );
    if chromium.is_none() || firefox.is_none() || certutil.is_none() {
        return;
    }
    let all = std::env::var_os("CORSPROOF_CONFIRM_ALL").is_some_and(|v| v == "1");
    let nginx = nginx();
    let list: Vec<&'static Deployment> = SERVERS
        .iter()
        .chain(PNA)
        .chain(NGINX)
        .filter(|d| all || CONFIRMED_IN_CI.contains(&d.name))
        .filter(|d| nginx.is_some() || matches!(d.serve, Serve::Server(_)))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (owners, findings, run) = rt.block_on(async {
        let mut held = Vec::new();
        let (mut owners, mut findings) = (Vec::new(), Vec::new());
        for d in &list {
            let (running, found) = serve_and_check(d, nginx.as_deref()).await;
            let report = found.unwrap_or_else(|e| panic!("{}: {e}", d.name));
            for f in report.findings {
                owners.push(d.name);
                findings.push(f);
            }
            held.push(running);
        }
        // The browsers reach the deployments, served by this runtime, while it waits.
        let confirmed = tokio::task::spawn_blocking(move || {
            let options = corsproof_browser::confirm::Options {
                timeout: Duration::from_secs(5),
                deadline: Duration::from_secs(240),
            };
            let run = corsproof_browser::confirm::confirm(
                &mut findings,
                &[ConfirmBrowser::Chromium, ConfirmBrowser::Firefox],
                &options,
            );
            (findings, run)
        })
        .await
        .expect("the confirm step");
        drop(held);
        let (findings, run) = confirmed;
        (owners, findings, run.expect("the browsers ran"))
    });
    let failures = confirmation_table(&owners, &findings);
    println!(
        "{} findings of {} deployments replayed in {:.1} s: {:.2} s per finding and browser",
        findings.len(),
        list.len(),
        run.seconds,
        run.seconds / (findings.len().max(1) * 2) as f64
    );
    for b in &run.browsers {
        println!("{}: {}; cookies: {}", b.browser, b.version, b.cookies);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Prints one line per finding (deployment, kind, severity, each browser's result) and
/// returns what fails the test: a violation or breakage contradicted or without a result, a
/// deployment with a replayable violation or breakage none of which a browser confirmed.
fn confirmation_table(
    owners: &[&'static str],
    findings: &[corsproof_report::Finding],
) -> Vec<String> {
    use corsproof_report::{Confirmation, Severity};
    let mut failures = Vec::new();
    let mut confirmed: BTreeSet<(&str, ConfirmBrowser)> = BTreeSet::new();
    println!("| deployment | finding | severity | chromium | firefox |");
    println!("|---|---|---|---|---|");
    for (owner, f) in owners.iter().zip(findings) {
        let result = |b: ConfirmBrowser| {
            f.confirmed
                .get(&b)
                .map_or("(none)".into(), |c| c.describe())
        };
        println!(
            "| {owner} | {} | {} | {} | {} |",
            f.kind,
            f.severity.as_str(),
            result(ConfirmBrowser::Chromium),
            result(ConfirmBrowser::Firefox)
        );
        if f.severity == Severity::Hygiene {
            continue;
        }
        for b in [ConfirmBrowser::Chromium, ConfirmBrowser::Firefox] {
            match f.confirmed.get(&b) {
                Some(Confirmation::Confirmed { .. }) => {
                    confirmed.insert((owner, b));
                }
                Some(Confirmation::NotReplayable(why)) => {
                    if matches!(why, corsproof_report::NotReplayable::NoResult(_)) {
                        failures.push(format!("{owner}: {} in {b}: {why}", f.kind));
                    }
                }
                Some(c @ Confirmation::Contradicted { .. }) => failures.push(format!(
                    "{owner}: {} contradicted in {b}: {}",
                    f.kind,
                    serde_json::to_string(c).unwrap_or_default()
                )),
                None => failures.push(format!("{owner}: {} has no result in {b}", f.kind)),
            }
        }
    }
    for owner in owners.iter().collect::<BTreeSet<_>>() {
        for b in [ConfirmBrowser::Chromium, ConfirmBrowser::Firefox] {
            let replayable = findings.iter().zip(owners).any(|(f, o)| {
                o == owner
                    && f.severity != Severity::Hygiene
                    && !matches!(f.confirmed.get(&b), Some(Confirmation::NotReplayable(_)))
            });
            if replayable && !confirmed.contains(&(*owner, b)) {
                failures.push(format!(
                    "{owner}: no violation or breakage confirmed in {b}"
                ));
            }
        }
    }
    failures
}
