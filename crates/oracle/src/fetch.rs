//! The fetch algorithm, sans I/O (R21–R30, R36, R49, R56–R64): main fetch's mode dispatch,
//! HTTP fetch with its CORS-preflight, the CORS check of every response, and redirects with
//! origin tainting. The caller performs the exchanges: [`Fetch::start`] says what to send,
//! [`Fetch::on_preflight_response`] and [`Fetch::on_response`] take the server's answers,
//! until [`Next::Done`]; [`Fetch::outcome`] then says what the browser sent, let script read
//! and exposed, with the reason for each decision.

use crate::error::RuleId;
use smallvec::SmallVec;
use url::Url;

use crate::cache::{CacheKey, Lookup, PreflightCache, Query, Seconds};
use crate::cors_check::cors_check;
use crate::error::{ErrorKind, Reason};
use crate::expose::ResponseType;
use crate::grammar::{eq_ignore_case, isomorphic_decode};
use crate::headers::UnsafeNames;
use crate::method;
use crate::origin::Origin;
use crate::preflight::{self, ActualRequest, Passed};
use crate::profile::Profile;
use crate::request::{Body, CredentialsMode, RedirectMode, Request, RequestMode};
use crate::response::{Cors, Response};

/// What the caller must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send the preflight described by [`Fetch::current_hop`] and pass its response to
    /// [`Fetch::on_preflight_response`].
    Preflight,
    /// Send the actual request to [`Fetch::current_url`] and pass its response to
    /// [`Fetch::on_response`].
    Request,
    /// The fetch is over: read [`Fetch::outcome`].
    Done,
}

/// The `Origin` header of a request (R24–R27).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginHeader {
    /// No `Origin` header.
    Absent,
    /// `Origin: null`.
    Null,
    /// `Origin: <the request origin's serialization>`.
    RequestOrigin,
}

/// The preflight sent at one hop, and how it was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightOutcome<'r> {
    /// The `Access-Control-Request-Method` value (R29).
    pub method: &'r str,
    /// The `Access-Control-Request-Headers` names (R29); empty: no such header.
    pub headers: UnsafeNames<'r>,
    /// `Access-Control-Request-Private-Network: true` (R67).
    pub private_network: bool,
    /// Whether it has been answered yet, and passed.
    pub ok: bool,
    /// The reason of the verdict (`R37` when it passed).
    pub reason: Reason,
    /// How long its entries live in the cache, in seconds (0 when failed or not cached).
    pub cache_seconds: u64,
}

/// One URL requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop<'r> {
    /// The `Origin` header of the requests sent to this URL.
    pub origin_header: OriginHeader,
    /// The preflight sent here, if any.
    pub preflight: Option<PreflightOutcome<'r>>,
    /// A preflight was needed here but the preflight cache answered for it (R28).
    pub preflight_cached: bool,
    /// What the preflight cache said here, when a CORS preflight was needed (R28): `None`
    /// when none was. [`Lookup::Unknown`]: the browser may have evicted the entry (D31); the
    /// hop's other fields then follow the assumption made ([`Fetch::assume_evicted`]).
    pub cache_lookup: Option<Lookup>,
    /// Whether the actual request went out to this URL.
    pub sent: bool,
}

/// What the browser did, decided by the end of a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<'r> {
    /// One entry per URL requested.
    pub hops: SmallVec<[Hop<'r>; 2]>,
    /// Whether script can read the final response.
    pub readable: bool,
    /// The reason: the error and rule, or the rule that granted.
    pub reason: Reason,
    /// The filtered response's type.
    pub response_type: ResponseType,
    /// Whether the last actual request carried credentials (R23).
    pub credentials_sent: bool,
    /// Browser deviations that changed this outcome.
    pub deviations: SmallVec<[RuleId; 4]>,
}

impl<'r> Outcome<'r> {
    /// Whether the actual request went out at the last hop reached.
    pub fn sent(&self) -> bool {
        self.hops.last().is_some_and(|h| h.sent)
    }

    /// The first hop's preflight, if one was sent.
    pub fn first_preflight(&self) -> Option<&PreflightOutcome<'r>> {
        self.hops.first().and_then(|h| h.preflight.as_ref())
    }

    /// How many of the preflight cache's answers the oracle could not decide (D31): the
    /// outcome is one of several the browser may show ([`Fetch::assume_evicted`]).
    pub fn unknown_lookups(&self) -> usize {
        self.hops
            .iter()
            .filter(|h| h.cache_lookup == Some(Lookup::Unknown))
            .count()
    }

    /// The `Origin` header of the last actual request sent (R24–R26).
    pub fn origin_header(&self) -> OriginHeader {
        match self.hops.last() {
            Some(h) if h.sent => h.origin_header,
            _ => OriginHeader::Absent,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tainting {
    Unset,
    Basic,
    Cors,
    Opaque,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    AwaitPreflight,
    AwaitResponse,
    Done,
}

/// One fetch in progress. See the module documentation.
///
/// ```
/// use corsproof_oracle::{Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit, Response};
/// let mut init = RequestInit::new(
///     url::Url::parse("https://api.test/items").unwrap(),
///     Origin::parse_serialized("https://app.test").unwrap(),
/// );
/// init.method = "PUT".into();
/// let profile = Profile::fetch();
/// let request = Request::construct(init, &profile).unwrap();
/// let mut cache = PreflightCache::default();
/// let mut fetch = Fetch::new(&request, &profile);
/// assert_eq!(fetch.start(&mut cache, 0.0), Next::Preflight);
/// let preflight = Response::new(204, [
///     ("Access-Control-Allow-Origin", "https://app.test"), ("Access-Control-Allow-Methods", "PUT"),
/// ]);
/// assert_eq!(fetch.on_preflight_response(&preflight, &mut cache, 0.0), Next::Request);
/// let response = Response::new(200, [("Access-Control-Allow-Origin", "*"), ("Content-Type", "text/plain")]);
/// assert_eq!(fetch.on_response(&response, &mut cache, 0.0), Next::Done);
/// assert!(fetch.outcome().readable);
/// ```
#[derive(Debug, Clone)]
pub struct Fetch<'r> {
    request: &'r Request,
    profile: &'r Profile,
    redirects: Vec<Url>,
    method: &'r str,
    body_headers_removed: bool,
    authorization_removed: bool,
    /// D24: what the latest redirect alone removed (Firefox lists the request's first
    /// unsafe names minus these).
    latest_removed_body_headers: bool,
    latest_removed_authorization: bool,
    /// D24: the latest redirect's status would turn the request's original method into GET
    /// (R58 on the method script asked for).
    latest_rewrites_original_method: bool,
    /// D26: script-set client hints are gone after a redirect to another origin.
    client_hints_removed: bool,
    tainting: Tainting,
    with_preflight: bool,
    any_with_preflight: bool,
    /// D24: this hop is preflighted because an earlier one was (Firefox).
    forced_preflight: bool,
    unsafe_names: UnsafeNames<'r>,
    /// How the [`Lookup::Unknown`] answers are settled: bit `i` set, the `i`-th is taken as
    /// evicted.
    assume_evicted: u32,
    /// The [`Lookup::Unknown`] answers so far.
    unknown_lookups: u32,
    state: State,
    outcome: Outcome<'r>,
}

/// Adds to `noted` each deviation id of `ids` it does not have yet.
#[inline]
fn note_deviations(noted: &mut SmallVec<[RuleId; 4]>, ids: &[RuleId]) {
    for id in ids {
        if !noted.contains(id) {
            noted.push(*id);
        }
    }
}

/// The request-body headers removed on a method-changing redirect (R58).
const REQUEST_BODY_HEADERS: [&[u8]; 4] = [
    b"content-encoding",
    b"content-language",
    b"content-location",
    b"content-type",
];

impl<'r> Fetch<'r> {
    /// A fetch of `request` under `profile`.
    pub fn new(request: &'r Request, profile: &'r Profile) -> Fetch<'r> {
        Fetch {
            request,
            profile,
            redirects: Vec::new(),
            method: &request.method,
            body_headers_removed: false,
            authorization_removed: false,
            latest_removed_body_headers: false,
            latest_removed_authorization: false,
            latest_rewrites_original_method: false,
            client_hints_removed: false,
            tainting: Tainting::Unset,
            with_preflight: false,
            any_with_preflight: false,
            forced_preflight: false,
            unsafe_names: UnsafeNames::default(),
            assume_evicted: 0,
            unknown_lookups: 0,
            state: State::Start,
            outcome: Outcome {
                hops: SmallVec::new(),
                readable: false,
                reason: Reason::ok(RuleId::R21),
                response_type: ResponseType::Error,
                credentials_sent: false,
                deviations: SmallVec::new(),
            },
        }
    }

    /// How to settle the preflight cache's [`Lookup::Unknown`] answers (D31), which the
    /// oracle cannot decide: bit `i` of `mask` set, the `i`-th such answer of this fetch is
    /// taken as an eviction (a preflight is sent), clear, as the entry still being there (no
    /// preflight). The default, 0, takes every entry as still there. Running a fetch under
    /// each mask up to `1 << n`, for the `n` unknown answers it meets
    /// ([`Outcome::unknown_lookups`]), gives every outcome the browser may show.
    ///
    /// ```
    /// use corsproof_oracle::cache::{CacheKey, Lookup};
    /// use corsproof_oracle::{Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit, Response};
    /// let p = Profile::chromium();
    /// let mut cache = PreflightCache::default();
    /// let urls: Vec<String> = (0..1025).map(|i| format!("https://api.test/{i}")).collect();
    /// for url in &urls {
    ///     let key = CacheKey { origin: "https://app.test", url };
    ///     cache.write(&key, false, [&b"PUT"[..]], [], Some(600), 0.0, &p);
    /// }
    /// let mut init = RequestInit::new(url::Url::parse(&urls[0]).unwrap(),
    ///     Origin::parse_serialized("https://app.test").unwrap());
    /// init.method = "PUT".into();
    /// let request = Request::construct(init, &p).unwrap();
    /// let mut fetch = Fetch::new(&request, &p);
    /// fetch.assume_evicted(1);
    /// assert_eq!(fetch.start(&mut cache, 1.0), Next::Preflight);
    /// assert_eq!(fetch.current_hop().unwrap().cache_lookup, Some(Lookup::Unknown));
    /// ```
    pub fn assume_evicted(&mut self, mask: u32) {
        self.assume_evicted = mask;
    }

    /// The outcome so far (final once [`Next::Done`] was returned).
    pub fn outcome(&self) -> &Outcome<'r> {
        &self.outcome
    }

    /// The URLs redirected to, in order (the first URL is the request's).
    pub fn redirect_urls(&self) -> &[Url] {
        &self.redirects
    }

    /// The URL of the current hop.
    pub fn current_url(&self) -> &Url {
        self.redirects.last().unwrap_or(&self.request.url)
    }

    /// The current hop (its preflight is the one to send on [`Next::Preflight`]).
    pub fn current_hop(&self) -> Option<&Hop<'r>> {
        self.outcome.hops.last()
    }

    /// The method of the actual request at the current hop (R58 may have changed it).
    pub fn method(&self) -> &'r str {
        self.method
    }

    /// The header list of the actual request at the current hop (R58, R59 may have removed
    /// some).
    pub fn headers(&self) -> impl Iterator<Item = &'r (Vec<u8>, Vec<u8>)> + '_ {
        self.request.headers().iter().filter(|h| self.keeps(h))
    }

    /// The request being fetched.
    pub fn request(&self) -> &'r Request {
        self.request
    }

    /// Whether the current hop is a CORS request: response tainting `cors` (R21), set by the
    /// first cross-origin URL of a request in mode `cors`.
    pub fn cors_tainted(&self) -> bool {
        self.tainting == Tainting::Cors
    }

    /// The profile the fetch runs under.
    pub fn profile(&self) -> &'r Profile {
        self.profile
    }

    /// What the caller has to do now: [`Next::Preflight`] while a preflight's answer is
    /// awaited, [`Next::Request`] while the actual request's answer is, [`Next::Done`] once
    /// the fetch is over (and [`Next::Preflight`] before [`Fetch::start`]).
    pub fn awaiting(&self) -> Next {
        self.pending()
    }

    /// The origin a preflight at the current hop is made for, serialized: the request's
    /// serialized origin (R4, R5), or under D28 (Firefox) the request's own origin even at a
    /// redirect-tainted hop. Its `Origin` header carries it (R24).
    pub fn preflight_serialized_origin(&self) -> &'r str {
        if self.profile.preflight_for_request_origin {
            self.request.origin.serialization()
        } else {
            self.serialized_origin()
        }
    }

    /// The header list the browser sends at the current hop: [`Fetch::headers`], except that
    /// under D24 (Firefox, [`Profile::repreflight_after_redirect`]) the request's own list
    /// goes out minus what the latest redirect removes (R59 for `Authorization`; R58's
    /// request-body headers when that redirect's status would rewrite the request's original
    /// method to GET): a header an earlier redirect removed is sent again (the body itself
    /// stays gone).
    pub fn sent_headers(&self) -> impl Iterator<Item = &'r (Vec<u8>, Vec<u8>)> + '_ {
        let latest_only = self.profile.repreflight_after_redirect;
        self.request.headers().iter().filter(move |h| {
            if !latest_only {
                return self.keeps(h);
            }
            let name = &h.0;
            let body = self.latest_rewrites_original_method
                && REQUEST_BODY_HEADERS.iter().any(|b| eq_ignore_case(b, name));
            let auth = self.latest_removed_authorization && eq_ignore_case(name, b"authorization");
            !(body || auth)
        })
    }

    /// The serialized request origin (R4): `null` when opaque or redirect-tainted (R5).
    #[inline]
    pub fn serialized_origin(&self) -> &'r str {
        if !self.redirects.is_empty() && self.redirect_tainted() {
            "null"
        } else {
            self.request.origin.serialization()
        }
    }

    /// Whether the request carries credentials at the current hop (R23).
    pub fn includes_credentials(&self) -> bool {
        match self.request.credentials {
            CredentialsMode::Include => true,
            CredentialsMode::SameOrigin => self.tainting == Tainting::Basic,
            CredentialsMode::Omit => false,
        }
    }

    /// R5: walk the URL list; a hop from lastURL to url taints when url's origin differs
    /// from lastURL's and the request's origin differs from lastURL's too.
    #[inline(never)]
    fn redirect_tainted(&self) -> bool {
        if self.redirects.is_empty() {
            return false;
        }
        let origins: Vec<Origin> = std::iter::once(&self.request.url)
            .chain(self.redirects.iter())
            .map(Origin::of_url)
            .collect();
        origins.windows(2).any(|pair| {
            !pair[1].same_origin(&pair[0]) && !self.request.origin.same_origin(&pair[0])
        })
    }

    /// Whether some redirect so far went from one origin to another (D25).
    fn any_cross_origin_redirect(&self) -> bool {
        let origins: Vec<Origin> = std::iter::once(&self.request.url)
            .chain(self.redirects.iter())
            .map(Origin::of_url)
            .collect();
        origins
            .windows(2)
            .any(|pair| !pair[1].same_origin(&pair[0]))
    }

    fn cache_key(&self) -> (&'r str, &Url) {
        let origin = if self.profile.cache.key_uses_tainted_origin {
            self.serialized_origin()
        } else {
            self.request.origin.serialization()
        };
        (origin, self.current_url())
    }

    fn finish(
        &mut self,
        reason: Reason,
        response_type: ResponseType,
        cache: &mut PreflightCache,
    ) -> Next {
        self.outcome.reason = reason;
        self.outcome.response_type = response_type;
        self.outcome.readable = matches!(response_type, ResponseType::Basic | ResponseType::Cors);
        // R49: a CORS-with-preflight fetch that ends in a network error clears the cache
        // entries of (serialized origin, current URL).
        let preflight_failed = self
            .outcome
            .hops
            .last()
            .and_then(|h| h.preflight.as_ref())
            .is_some_and(|p| !p.ok);
        // D18: Chromium clears nothing when the actual response fails (observed); a failed
        // preflight clears as in the standard.
        if response_type == ResponseType::Error
            && self.any_with_preflight
            && !preflight_failed
            && !self.profile.cache.clear_on_actual_failure
        {
            self.note_deviations(&[RuleId::D18]);
        }
        if response_type == ResponseType::Error
            && self.any_with_preflight
            && (preflight_failed || self.profile.cache.clear_on_actual_failure)
        {
            let (origin, url) = self.cache_key();
            cache.clear(
                &CacheKey {
                    origin,
                    url: url.as_str(),
                },
                self.profile,
            );
        }
        self.state = State::Done;
        Next::Done
    }

    fn note_deviations(&mut self, ids: &[RuleId]) {
        note_deviations(&mut self.outcome.deviations, ids);
    }

    /// Starts the fetch (or a hop after a redirect): main fetch's dispatch (R21) and HTTP
    /// fetch's preflight decision (R28).
    pub fn start(&mut self, cache: &mut PreflightCache, now: Seconds) -> Next {
        if self.state != State::Start {
            return if self.state == State::Done {
                Next::Done
            } else {
                self.pending()
            };
        }
        let request = self.request;
        let same_origin = match self.redirects.last() {
            Some(u) => request.origin.is_origin_of(u),
            None => request.url_origin.same_origin(&request.origin),
        };
        let scheme_is_data = self.current_url().scheme() == "data";
        let scheme_is_http = matches!(self.current_url().scheme(), "http" | "https");
        self.outcome.hops.push(Hop {
            origin_header: OriginHeader::Absent,
            preflight: None,
            preflight_cached: false,
            cache_lookup: None,
            sent: false,
        });
        // R21 / R63: the mode dispatch of main fetch.
        if (same_origin && matches!(self.tainting, Tainting::Unset | Tainting::Basic))
            || scheme_is_data
        {
            self.tainting = Tainting::Basic;
            self.with_preflight = false;
            if scheme_is_data {
                return self.finish(Reason::ok(RuleId::R63), ResponseType::Basic, cache);
            }
        } else if request.mode == RequestMode::SameOrigin {
            return self.finish(
                Reason::fail(ErrorKind::SameOriginMode, RuleId::R21),
                ResponseType::Error,
                cache,
            );
        } else if request.mode == RequestMode::NoCors {
            if request.redirect != RedirectMode::Follow {
                return self.finish(
                    Reason::fail(ErrorKind::NoCorsRequest, RuleId::R9),
                    ResponseType::Error,
                    cache,
                );
            }
            self.tainting = Tainting::Opaque;
            self.with_preflight = false;
        } else if !scheme_is_http {
            return self.finish(
                Reason::fail(ErrorKind::UnsupportedScheme, RuleId::R21),
                ResponseType::Error,
                cache,
            );
        } else {
            self.tainting = Tainting::Cors;
            // R18 on the header list at this hop: the request's own classification while no
            // redirect has removed a header (R58, R59, D26).
            if self.profile.repreflight_after_redirect && !self.redirects.is_empty() {
                // D24: Firefox takes the unsafe names the request had when it was made and
                // strips only what the latest redirect removed, even where an earlier one
                // removed the header itself.
                let (body, auth) = (
                    self.latest_removed_body_headers,
                    self.latest_removed_authorization,
                );
                self.unsafe_names = UnsafeNames::of(
                    request.headers().iter().filter(|(name, _)| {
                        !(body && REQUEST_BODY_HEADERS.iter().any(|h| eq_ignore_case(h, name))
                            || auth && eq_ignore_case(name, b"authorization"))
                    }),
                    self.profile,
                );
            } else if self.body_headers_removed
                || self.authorization_removed
                || self.client_hints_removed
            {
                self.unsafe_names = UnsafeNames::of(self.headers(), self.profile);
            } else {
                request.unsafe_names_into(self.profile, &mut self.unsafe_names);
            }
            note_deviations(&mut self.outcome.deviations, &self.unsafe_names.deviations);
            // R21(e): use-CORS-preflight, or an unsafe request with an unsafe method or header.
            let standard = request.use_cors_preflight
                || !method::is_cors_safelisted(self.method.as_bytes())
                || !self.unsafe_names.is_empty();
            // D24: Firefox preflights every hop after one that was preflighted, and every
            // hop of a request that had unsafe header names when it was made (it decides on
            // the names taken at the start; its preflight lists the names computed above).
            self.forced_preflight = self.profile.repreflight_after_redirect
                && (self.any_with_preflight
                    || (!self.redirects.is_empty()
                        && !request.unsafe_names(self.profile).is_empty()));
            if self.forced_preflight && !standard {
                self.note_deviations(&[RuleId::D24]);
            }
            self.with_preflight = standard || self.forced_preflight;
            self.any_with_preflight |= self.with_preflight;
        }
        // R24-R26: the Origin header of the requests to this URL.
        let origin_header = self.origin_header();
        if let Some(h) = self.outcome.hops.last_mut() {
            h.origin_header = origin_header;
        }
        // R67: a Private Network Access preflight (Chromium legacy).
        let pna = self.profile.private_network_access && request.target_more_private;
        // R28: a preflight unless the cache answers for the method and every unsafe name.
        let needs_cors_preflight = self.with_preflight && self.cors_preflight_needed(cache, now);
        if needs_cors_preflight || pna {
            let headers = if needs_cors_preflight {
                self.unsafe_names.clone()
            } else {
                UnsafeNames::default()
            };
            if let Some(h) = self.outcome.hops.last_mut() {
                h.preflight = Some(PreflightOutcome {
                    method: self.method,
                    headers,
                    private_network: pna,
                    ok: false,
                    reason: Reason::ok(RuleId::R28),
                    cache_seconds: 0,
                });
            }
            if pna && !needs_cors_preflight {
                self.note_deviations(&[RuleId::R67]);
            }
            self.state = State::AwaitPreflight;
            return Next::Preflight;
        }
        self.send_actual()
    }

    /// Whether a header of the request is still in the header list at this hop: R58 removes
    /// the request-body headers, R59 removes Authorization.
    fn keeps(&self, (name, _): &(Vec<u8>, Vec<u8>)) -> bool {
        let body_header = || REQUEST_BODY_HEADERS.iter().any(|h| eq_ignore_case(h, name));
        let client_hint_dropped = self.client_hints_removed
            && crate::headers::is_chromium_client_hint_name(name)
            && !eq_ignore_case(name, b"save-data")
            && !eq_ignore_case(name, b"intervention");
        let removed = (self.body_headers_removed && body_header())
            || (self.authorization_removed && eq_ignore_case(name, b"authorization"))
            || client_hint_dropped;
        !removed
    }

    fn pending(&self) -> Next {
        match self.state {
            State::AwaitPreflight => Next::Preflight,
            State::AwaitResponse => Next::Request,
            State::Start => Next::Preflight,
            State::Done => Next::Done,
        }
    }

    fn send_actual(&mut self) -> Next {
        self.outcome.credentials_sent = self.includes_credentials();
        if let Some(h) = self.outcome.hops.last_mut() {
            h.sent = true;
        }
        self.state = State::AwaitResponse;
        Next::Request
    }

    /// R24-R26: the Origin header, computed per hop with the current taint.
    fn origin_header(&self) -> OriginHeader {
        let serialized = if self.serialized_origin() == "null" {
            OriginHeader::Null
        } else {
            OriginHeader::RequestOrigin
        };
        if self.tainting == Tainting::Cors {
            return serialized;
        }
        if self.method != "GET" && self.method != "HEAD" {
            if self.request.mode != RequestMode::Cors {
                // The default referrer policy, strict-origin-when-cross-origin: an https
                // origin sending to a non-https URL sends `null` (R25).
                // Chromium keeps the origin (D33).
                if self.profile.origin_null_on_downgrade
                    && self.request.origin.scheme() == Some("https")
                    && self.current_url().scheme() != "https"
                {
                    return OriginHeader::Null;
                }
                // D25: Chromium turns Origin into `null` once the request has been redirected
                // from one origin to another, even when that hop left the requester's origin.
                if self.profile.origin_null_after_cross_origin_redirect
                    && serialized != OriginHeader::Null
                    && self.any_cross_origin_redirect()
                {
                    return OriginHeader::Null;
                }
            }
            return serialized;
        }
        OriginHeader::Absent
    }

    /// R28: whether a preflight is needed given the cache. Records the cache's answer in the
    /// hop; an answer the oracle cannot decide (D31) is settled by the assumption
    /// ([`Fetch::assume_evicted`]).
    fn cors_preflight_needed(&mut self, cache: &mut PreflightCache, now: Seconds) -> bool {
        let (mask, i) = (self.assume_evicted, self.unknown_lookups);
        let (answer, cached) = {
            let (origin, url) = self.cache_key();
            let key = CacheKey {
                origin,
                url: url.as_str(),
            };
            let credentials = self.request.credentials == CredentialsMode::Include;
            let method = self.method.as_bytes();
            let query = Query {
                credentials,
                method,
                method_exempt: method::is_cors_safelisted(method)
                    && !self.request.use_cors_preflight
                    && !self.forced_preflight,
            };
            let answer = cache.lookup(&key, &query, self.unsafe_names.iter(), now, self.profile);
            let cached = match answer.lookup {
                Lookup::Hit => true,
                Lookup::Miss => false,
                Lookup::Unknown => {
                    let evicted = i < u32::BITS && mask & (1 << i) != 0;
                    cache.assume(&key, credentials, evicted, self.profile);
                    !evicted
                }
            };
            (answer, cached)
        };
        if answer.lookup == Lookup::Unknown {
            self.unknown_lookups += 1;
        }
        if let Some(id) = answer.deviation {
            self.note_deviations(&[id]);
        }
        if let Some(h) = self.outcome.hops.last_mut() {
            h.cache_lookup = Some(answer.lookup);
            h.preflight_cached = cached;
        }
        !cached
    }

    /// Takes the preflight's response (R30, R37–R44).
    pub fn on_preflight_response(
        &mut self,
        response: &Response,
        cache: &mut PreflightCache,
        now: Seconds,
    ) -> Next {
        if self.state != State::AwaitPreflight {
            return self.pending();
        }
        let (pna, pna_only) = match self.current_hop().and_then(|h| h.preflight.as_ref()) {
            Some(p) => (
                p.private_network,
                p.headers.is_empty() && !self.with_preflight,
            ),
            None => (false, false),
        };
        // R41 on the header list; Firefox (D24) on the names its preflight lists.
        // Only R59 removes an Authorization header (R58 and D26 remove others).
        let has_authorization = if self.profile.repreflight_after_redirect {
            self.unsafe_names
                .iter()
                .any(|n| eq_ignore_case(n, b"authorization"))
        } else {
            self.request.has_authorization() && !self.authorization_removed
        };
        // D28: Firefox makes the preflight for the request's own origin even at a
        // redirect-tainted hop, where the standard uses `null` (R5, R24).
        let preflight_origin = self.preflight_serialized_origin();
        if preflight_origin != self.serialized_origin() {
            self.note_deviations(&[RuleId::D28]);
        }
        // D28: and a preflight to the request's own origin is a same-origin request to
        // Firefox: no CORS check of its ACAO and ACAC.
        let cors_check = !(self.profile.preflight_for_request_origin
            && self.request.origin.is_origin_of(self.current_url()));
        let actual = ActualRequest {
            serialized_origin: preflight_origin,
            cors_check,
            method: self.method,
            credentials: self.request.credentials,
            unsafe_names: &self.unsafe_names,
            has_authorization,
            use_cors_preflight: self.request.use_cors_preflight,
            private_network: pna,
            private_network_only: pna_only,
        };
        let mut passed = Passed::default();
        match preflight::validate_into(&actual, response, self.profile, &mut passed) {
            Err(reason) => {
                // D19: the method check failed where the standard would have taken the
                // request's method for the absent ACAM.
                if reason.error == Some(ErrorKind::MethodNotAllowed)
                    && self.request.use_cors_preflight
                    && !self.profile.use_cors_preflight_implies_method
                    && !response.has(crate::response::Cors::AllowMethods)
                {
                    self.note_deviations(&[RuleId::D19]);
                }
                if let Some(p) = self
                    .outcome
                    .hops
                    .last_mut()
                    .and_then(|h| h.preflight.as_mut())
                {
                    p.ok = false;
                    p.reason = reason;
                }
                self.finish(reason, ResponseType::Error, cache)
            }
            Ok(()) => {
                self.note_deviations(&passed.deviations);
                // R44: write the cache.
                let (origin, url) = self.cache_key();
                let key = CacheKey {
                    origin,
                    url: url.as_str(),
                };
                let include = self.request.credentials == CredentialsMode::Include;
                // D32: Firefox stores nothing for a zero max-age, so the items the standard
                // would refresh to expire at once stay as they were.
                let zero_kept = passed.max_age == Some(0)
                    && !self.profile.cache.zero_max_age_stored
                    && cache.has_live_entry(&key, include, now, self.profile);
                let url_cacheable = self
                    .profile
                    .cache
                    .max_url_len
                    .is_none_or(|n| key.url.len() < n);
                cache.write(
                    &key,
                    include,
                    passed.methods.iter().copied(),
                    passed.header_names.iter().copied(),
                    passed.max_age,
                    now,
                    self.profile,
                );
                let cache_seconds = if url_cacheable {
                    passed.max_age.unwrap_or(0)
                } else {
                    0
                };
                if zero_kept {
                    self.note_deviations(&[RuleId::D32]);
                }
                if let Some(p) = self
                    .outcome
                    .hops
                    .last_mut()
                    .and_then(|h| h.preflight.as_mut())
                {
                    p.ok = true;
                    p.reason = Reason::ok(RuleId::R37);
                    p.cache_seconds = cache_seconds;
                }
                self.send_actual()
            }
        }
    }

    /// Takes the actual request's response (R36, R51, R56–R62).
    pub fn on_response(
        &mut self,
        response: &Response,
        cache: &mut PreflightCache,
        now: Seconds,
    ) -> Next {
        if self.state != State::AwaitResponse {
            return self.pending();
        }
        // R36: a CORS request's every response, redirects included, must pass the CORS check.
        let mut granted = Reason::ok(match self.tainting {
            Tainting::Basic => RuleId::R21,
            Tainting::Opaque => RuleId::R21,
            _ => RuleId::R33,
        });
        if self.tainting == Tainting::Cors {
            let check = cors_check(response, self.serialized_origin(), self.request.credentials);
            if check.error.is_some() {
                return self.finish(check, ResponseType::Error, cache);
            }
            granted = check;
        }
        if response.is_redirect_status() {
            if let Some(next) = self.redirect(response, cache, now) {
                return next;
            }
        }
        let ty = match self.tainting {
            Tainting::Basic | Tainting::Unset => ResponseType::Basic,
            Tainting::Cors => ResponseType::Cors,
            Tainting::Opaque => ResponseType::Opaque,
        };
        self.finish(granted, ty, cache)
    }

    /// HTTP fetch's redirect handling and HTTP-redirect fetch (R56–R62). `None`: no
    /// `Location`, the response is final.
    fn redirect(
        &mut self,
        response: &Response,
        cache: &mut PreflightCache,
        now: Seconds,
    ) -> Option<Next> {
        let fail = |s: &mut Self, kind, rule, cache: &mut PreflightCache| {
            Some(s.finish(Reason::fail(kind, rule), ResponseType::Error, cache))
        };
        match self.request.redirect {
            RedirectMode::Error => {
                return fail(self, ErrorKind::RedirectModeError, RuleId::R62, cache)
            }
            RedirectMode::Manual => {
                return Some(self.finish(
                    Reason::ok(RuleId::R62),
                    ResponseType::OpaqueRedirect,
                    cache,
                ));
            }
            RedirectMode::Follow => {}
        }
        // R56: Location parsed relative to the current URL.
        let location = response.get_combined(Cors::Location)?;
        let Ok(location) = Url::options()
            .base_url(Some(self.current_url()))
            .parse(&isomorphic_decode(&location))
        else {
            return fail(self, ErrorKind::RedirectLocationInvalid, RuleId::R56, cache);
        };
        if location.scheme() != "http" && location.scheme() != "https" {
            return fail(self, ErrorKind::RedirectScheme, RuleId::R56, cache);
        }
        if self.redirects.len() >= 20 {
            return fail(self, ErrorKind::TooManyRedirects, RuleId::R56, cache);
        }
        // R57: credentials in the Location of a CORS request.
        let has_credentials = !location.username().is_empty() || location.password().is_some();
        let location_origin = Origin::of_url(&location);
        if self.request.mode == RequestMode::Cors
            && has_credentials
            && !self.request.origin.same_origin(&location_origin)
        {
            return fail(self, ErrorKind::RedirectCredentials, RuleId::R57, cache);
        }
        if self.tainting == Tainting::Cors && has_credentials {
            return fail(self, ErrorKind::RedirectCredentials, RuleId::R57, cache);
        }
        // D17: Chromium's fetch() refuses a redirect to a URL with credentials in every mode
        // (XHR follows it where the standard does).
        if has_credentials && self.profile.redirect_credentials_always_fail && !self.request.xhr {
            self.note_deviations(&[RuleId::D17]);
            return fail(self, ErrorKind::RedirectCredentials, RuleId::D17, cache);
        }
        // R62: a stream body cannot be replayed except through a 303.
        if response.status != 303 && self.request.body == Some(Body::Stream) {
            return fail(self, ErrorKind::RedirectStreamBody, RuleId::R62, cache);
        }
        // R58: 301/302 with POST, or 303 with anything but GET/HEAD, become GET without body.
        self.latest_removed_body_headers = ((response.status == 301 || response.status == 302)
            && self.method == "POST")
            || (response.status == 303 && self.method != "GET" && self.method != "HEAD");
        let original = self.request.method.as_str();
        self.latest_rewrites_original_method = ((response.status == 301 || response.status == 302)
            && original == "POST")
            || (response.status == 303 && original != "GET" && original != "HEAD");
        if self.latest_removed_body_headers {
            self.method = "GET";
            self.body_headers_removed = true;
        }
        // R59: a cross-origin hop removes Authorization.
        self.latest_removed_authorization = !location_origin.is_origin_of(self.current_url());
        if self.latest_removed_authorization {
            self.authorization_removed = true;
        }
        // D26: Chromium drops script-set Accept-CH client hints when a redirect leads to an
        // origin other than the requester's.
        if self.profile.client_hints_dropped_on_redirect
            && !self.request.origin.same_origin(&location_origin)
        {
            let had_hints = !self.client_hints_removed
                && self.request.headers().iter().any(|(name, _)| {
                    crate::headers::is_chromium_client_hint_name(name)
                        && !eq_ignore_case(name, b"save-data")
                        && !eq_ignore_case(name, b"intervention")
                });
            self.client_hints_removed = true;
            if had_hints {
                self.note_deviations(&[RuleId::D26]);
            }
        }
        // R60: main fetch again, recursively, at the new URL.
        self.redirects.push(location);
        self.state = State::Start;
        Some(self.start(cache, now))
    }
}
