//! Browser profiles: the Fetch Standard (`fetch`) and the documented deviations of Chromium
//! and Firefox (D1–D15 known from their source, D16–D32 found by the browser differential,
//! D33 by `--confirm`),
//! expressed as data. Every deviation has an entry in [`DEVIATIONS`] saying whether and how
//! the oracle models it.

use crate::error::RuleId;

/// How a profile parses `Access-Control-Max-Age` (R43, D6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxAgeParsing {
    /// The standard: `delta-seconds`; failure or absent → 5 s (R43).
    Standard,
    /// Chromium (D6): a signed 64-bit integer (`-?[0-9]+`); failure or absent → 5 s;
    /// negative → 0 (not cached).
    ChromiumInt64,
    /// Firefox (D6): absent or empty → 5 s; any non-digit byte → not cached.
    FirefoxDigits,
}

/// How a profile's preflight cache is shaped (R44–R50, D7, D8, D31, D32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheRules {
    /// Entries accumulate across preflights (R48); `false`: a new preflight replaces every
    /// entry of its key (Chromium, D7).
    pub union: bool,
    /// A credentialed entry also serves uncredentialed requests (R46); Firefox keeps them
    /// apart (D8).
    pub credentialed_serves_uncredentialed: bool,
    /// How `*` entries match at lookup time.
    pub wildcard_entries: WildcardEntries,
    /// The cache key's origin is the request origin as serialized with redirect taint (R45,
    /// `null` after a tainting redirect); Chromium keys by the initiator origin (D7), and so
    /// does Firefox, whose preflight is made for the requesting origin (D28).
    pub key_uses_tainted_origin: bool,
    /// URLs this long or longer are never cached (Chromium: 1024, D7).
    pub max_url_len: Option<usize>,
    /// Once an entry exists for the key, the lookup skips the method check for these methods
    /// (Firefox: GET, POST; D8). With `entries_outlive_items`, an entry exists while the
    /// table stores it, live items or not (D32).
    pub lookup_skips_method: &'static [&'static str],
    /// An actual response that fails the CORS check clears the key's entries (R49);
    /// Chromium keeps them (D18, observed by the browser differential).
    pub clear_on_actual_failure: bool,
    /// A `*` header entry covers `Authorization` at lookup; the standard says never (R47),
    /// and Chromium, although its preflight check lets `*` cover it (D1), does not at
    /// lookup (D20, observed by the browser differential).
    pub wildcard_covers_authorization: bool,
    /// How many entries the cache stores and which go when it is full (D31). The standard
    /// sets no bound (R45: a user agent may clear entries early, but the standard does not
    /// say when).
    pub capacity: Capacity,
    /// What one stored entry is, for the capacity: one per (origin, URL, credentials mode)
    /// (Firefox), or one per (origin, URL) whatever the credentials (Chromium, whose new
    /// result replaces the key's, D7).
    pub entry_per_credentials: bool,
    /// A lookup that does not answer for the request removes the stored entry: Chromium
    /// erases a stale or insufficient entry when it looks it up (D7). What the capacity
    /// counts depends on it; the standard keeps entries until they are cleared (R49).
    pub failed_lookup_erases: bool,
    /// A passed preflight whose max-age is 0 is written (R44: its items are created or
    /// refreshed to expire at once); Firefox stores nothing, neither creating nor refreshing
    /// an item (D32, observed).
    pub zero_max_age_stored: bool,
    /// A stored entry stays after every item of it has expired, and still answers a lookup
    /// that skips the method check (`lookup_skips_method`) when no name needs an item:
    /// Firefox (D32, observed); the standard has items only.
    pub entries_outlive_items: bool,
}

impl CacheRules {
    /// Whether the cache keeps the browser's table of stored entries: it has a capacity
    /// (D31), or its entries outlive their items (D32).
    ///
    /// ```
    /// use corsproof_oracle::Profile;
    /// assert!(!Profile::fetch().cache.keeps_table());
    /// assert!(Profile::chromium().cache.keeps_table() && Profile::firefox().cache.keeps_table());
    /// ```
    pub fn keeps_table(&self) -> bool {
        self.capacity != Capacity::Unbounded || self.entries_outlive_items
    }
}

/// How many entries a preflight cache stores, and which go to make room for a new one (D31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// No bound (the standard, R45).
    Unbounded,
    /// At most `entries`; to store one more, first every entry none of whose items is live
    /// goes (when `expired_first`), then, if the table is still full, the least recently
    /// used (a lookup or a write uses an entry): Firefox, 100, observed.
    LeastRecentlyUsed {
        /// The capacity.
        entries: usize,
        /// Entries without a live item go before the least recently used one.
        expired_first: bool,
    },
    /// At most `entries`; storing one more in a full table first removes `purge` entries
    /// adjacent in key order (origin, then URL) from a random position. An expired entry
    /// stays stored until a lookup or the purge removes it. Chromium: 1024 and 10, observed.
    RandomPurge {
        /// The capacity.
        entries: usize,
        /// How many entries one purge removes.
        purge: usize,
    },
}

/// How a `*` cache entry matches later requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WildcardEntries {
    /// As written in the standard (R47): `*` matches any method / any header but
    /// Authorization, whatever the credentials (R50 notes the gap).
    Standard,
    /// Only entries created by an uncredentialed preflight act as wildcards (Chromium, D7).
    UncredentialedOnly,
    /// `*` entries are literal tokens at lookup (Firefox, D8).
    Literal,
}

/// Which profile: the standard or one of the browsers the oracle models.
///
/// ```
/// use corsproof_oracle::profile::ProfileId;
/// assert_eq!(ProfileId::parse("firefox"), Some(ProfileId::Firefox));
/// assert_eq!(ProfileId::Chromium.profile().id, ProfileId::Chromium);
/// assert_eq!(serde_json::to_string(&ProfileId::Fetch).unwrap(), "\"fetch\"");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ProfileId {
    /// The Fetch Standard as written, no deviation.
    Fetch,
    /// Chromium, with its observed and documented deviations.
    Chromium,
    /// Firefox ESR, with its observed and documented deviations.
    Firefox,
}

impl ProfileId {
    /// Every profile, in the order reports list them.
    pub const ALL: [ProfileId; 3] = [ProfileId::Fetch, ProfileId::Chromium, ProfileId::Firefox];

    /// `fetch`, `chromium` or `firefox`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProfileId::Fetch => "fetch",
            ProfileId::Chromium => "chromium",
            ProfileId::Firefox => "firefox",
        }
    }

    /// The profile spelled `name`.
    pub fn parse(name: &str) -> Option<ProfileId> {
        ProfileId::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The profile's rules.
    pub fn profile(self) -> Profile {
        match self {
            ProfileId::Fetch => Profile::fetch(),
            ProfileId::Chromium => Profile::chromium(),
            ProfileId::Firefox => Profile::firefox(),
        }
    }
}

impl std::fmt::Display for ProfileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A browser profile: the standard plus a set of deviations.
///
/// ```
/// use corsproof_oracle::Profile;
/// let p = Profile::by_name("chromium").unwrap();
/// assert!(p.authorization_covered_by_wildcard);
/// assert_eq!(p.max_age_cap, Some(7200));
/// assert!(Profile::by_name("safari").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Which profile these rules are.
    pub id: ProfileId,
    /// D1: ACAH `*` also covers `Authorization` (violates R41).
    pub authorization_covered_by_wildcard: bool,
    /// D2: client-hint headers and `intervention` are safelisted request headers.
    pub client_hints_safelisted: bool,
    /// D3: the Range value is lower-cased before it is parsed for safelisting.
    pub range_lowercased_before_parse: bool,
    /// D6: how ACMA is parsed.
    pub max_age_parsing: MaxAgeParsing,
    /// D6: the imposed limit on max-age (R43); `None`: no limit.
    pub max_age_cap: Option<u64>,
    /// D7, D8: the cache's shape.
    pub cache: CacheRules,
    /// R67: Private Network Access preflights are sent for requests to a more private
    /// address space (Chromium legacy behaviour).
    pub private_network_access: bool,
    /// D16: duplicate request headers are judged on their combined value (`a, b`) when
    /// computing the CORS-unsafe names (R18 judges each header line); observed in Chromium
    /// and Firefox, whose request header lists hold one value per name.
    pub combined_request_header_values: bool,
    /// D17: for `fetch()`, a redirect to a URL with credentials is a network error in every
    /// mode (R57 only refuses it for CORS requests; XHR follows it); observed in Chromium.
    pub redirect_credentials_always_fail: bool,
    /// R39: with the use-CORS-preflight flag, an absent ACAM counts as the request's
    /// method; Chromium and Firefox do not (D19, observed).
    pub use_cors_preflight_implies_method: bool,
    /// R29: the ACRH value is a sorted-lowercase *set*; Firefox lists a name once per header
    /// line (D21, observed).
    pub acrh_deduplicated: bool,
    /// R18 step 3.2: more than 1024 bytes of safelisted values make them unsafe; Firefox
    /// has no such total (D22, observed).
    pub safelisted_total_limit: bool,
    /// R13 (xhr.spec `send()`): upload listeners set use-CORS-preflight only for a non-null
    /// body; Firefox sets it whatever the body, GET and HEAD included (D23, observed).
    pub upload_listeners_need_body: bool,
    /// After a redirect, a hop is preflighted when an earlier hop was, or when the request
    /// as first made had unsafe header names, even when the request has since become simple
    /// (method changed to GET, body headers or Authorization dropped; the preflight then
    /// lists only the names still present): Firefox (D24, observed); the standard decides
    /// each hop afresh on its current method and headers (R21).
    pub repreflight_after_redirect: bool,
    /// At a redirect-tainted hop (R5) the CORS preflight is made for the request's own
    /// origin: it carries that origin in `Origin`, its `Access-Control-Allow-Origin` is
    /// checked against it and its cache entry is keyed by it, while the actual request
    /// carries `Origin: null` and is checked against `null` (R24, R39). Firefox (D28,
    /// observed); the standard uses the tainted `null` for both.
    pub preflight_for_request_origin: bool,
    /// A non-CORS request that carries `Origin` (a no-cors or same-origin POST) sends
    /// `Origin: null` after any cross-origin redirect; the standard keeps the origin unless
    /// the redirect taint (R5) says otherwise. Chromium (D25, observed).
    pub origin_null_after_cross_origin_redirect: bool,
    /// A non-CORS request that carries `Origin` (a no-cors POST) from an https origin to a
    /// URL that is not https sends `Origin: null`, as the default referrer policy says (R25):
    /// the standard and Firefox. Chromium sends the request's origin (D33, observed).
    pub origin_null_on_downgrade: bool,
    /// Client-hint request headers set by script (`DPR`, `Device-Memory`, `Viewport-Width`,
    /// `Width`, `RTT`, `Downlink`, `ECT`; not `Save-Data` or `Intervention`) are gone after a
    /// redirect to an origin other than the requester's: Chromium (D26, observed).
    pub client_hints_dropped_on_redirect: bool,
    /// The request on the wire: which lines the browser writes, in which order, with which
    /// default values (W1–W12, D29, D30; module [`crate::wire`]).
    pub wire: crate::wire::WireRules,
}

impl Profile {
    /// The Fetch Standard as written (@586cd2a), no deviation.
    pub fn fetch() -> Profile {
        Profile {
            id: ProfileId::Fetch,
            authorization_covered_by_wildcard: false,
            client_hints_safelisted: false,
            range_lowercased_before_parse: false,
            max_age_parsing: MaxAgeParsing::Standard,
            max_age_cap: None,
            cache: CacheRules {
                union: true,
                credentialed_serves_uncredentialed: true,
                wildcard_entries: WildcardEntries::Standard,
                key_uses_tainted_origin: true,
                max_url_len: None,
                lookup_skips_method: &[],
                clear_on_actual_failure: true,
                wildcard_covers_authorization: false,
                capacity: Capacity::Unbounded,
                entry_per_credentials: true,
                failed_lookup_erases: false,
                zero_max_age_stored: true,
                entries_outlive_items: false,
            },
            private_network_access: false,
            combined_request_header_values: false,
            redirect_credentials_always_fail: false,
            use_cors_preflight_implies_method: true,
            acrh_deduplicated: true,
            safelisted_total_limit: true,
            upload_listeners_need_body: true,
            repreflight_after_redirect: false,
            preflight_for_request_origin: false,
            origin_null_after_cross_origin_redirect: false,
            origin_null_on_downgrade: true,
            client_hints_dropped_on_redirect: false,
            wire: crate::wire::WireRules::fetch(),
        }
    }

    /// Chromium, as read from its network service source (D1, D2, D6, D7, R67) and observed
    /// by the browser differential in Chromium 156 (D16–D20, D31; D3 not observed).
    pub fn chromium() -> Profile {
        Profile {
            id: ProfileId::Chromium,
            authorization_covered_by_wildcard: true,
            client_hints_safelisted: true,
            range_lowercased_before_parse: false,
            max_age_parsing: MaxAgeParsing::ChromiumInt64,
            max_age_cap: Some(7200),
            cache: CacheRules {
                union: false,
                credentialed_serves_uncredentialed: true,
                wildcard_entries: WildcardEntries::UncredentialedOnly,
                key_uses_tainted_origin: false,
                max_url_len: Some(1024),
                lookup_skips_method: &[],
                clear_on_actual_failure: false,
                wildcard_covers_authorization: false,
                capacity: Capacity::RandomPurge {
                    entries: 1024,
                    purge: 10,
                },
                entry_per_credentials: false,
                failed_lookup_erases: true,
                zero_max_age_stored: true,
                entries_outlive_items: false,
            },
            private_network_access: true,
            combined_request_header_values: true,
            redirect_credentials_always_fail: true,
            use_cors_preflight_implies_method: false,
            acrh_deduplicated: true,
            safelisted_total_limit: true,
            upload_listeners_need_body: true,
            repreflight_after_redirect: false,
            preflight_for_request_origin: false,
            origin_null_after_cross_origin_redirect: true,
            origin_null_on_downgrade: false,
            client_hints_dropped_on_redirect: true,
            wire: crate::wire::WireRules::chromium(),
        }
    }

    /// Firefox, as read from `nsCORSListenerProxy.cpp` (D1, D6, D8) and observed by the
    /// browser differential in Firefox 153 ESR (D19, D21–D24, D28–D32; D27 is not modeled).
    pub fn firefox() -> Profile {
        Profile {
            id: ProfileId::Firefox,
            authorization_covered_by_wildcard: true,
            client_hints_safelisted: false,
            range_lowercased_before_parse: false,
            max_age_parsing: MaxAgeParsing::FirefoxDigits,
            max_age_cap: Some(86400),
            cache: CacheRules {
                union: true,
                credentialed_serves_uncredentialed: false,
                wildcard_entries: WildcardEntries::Literal,
                key_uses_tainted_origin: false,
                max_url_len: None,
                lookup_skips_method: &["GET", "POST"],
                clear_on_actual_failure: true,
                wildcard_covers_authorization: true,
                capacity: Capacity::LeastRecentlyUsed {
                    entries: 100,
                    expired_first: true,
                },
                entry_per_credentials: true,
                failed_lookup_erases: false,
                zero_max_age_stored: false,
                entries_outlive_items: true,
            },
            private_network_access: false,
            combined_request_header_values: false,
            redirect_credentials_always_fail: false,
            use_cors_preflight_implies_method: false,
            acrh_deduplicated: false,
            safelisted_total_limit: false,
            upload_listeners_need_body: false,
            repreflight_after_redirect: true,
            preflight_for_request_origin: true,
            origin_null_after_cross_origin_redirect: false,
            origin_null_on_downgrade: true,
            client_hints_dropped_on_redirect: false,
            wire: crate::wire::WireRules::firefox(),
        }
    }

    /// The profile of that name: `fetch`, `chromium`, `firefox`.
    pub fn by_name(name: &str) -> Option<Profile> {
        ProfileId::parse(name).map(ProfileId::profile)
    }

    /// `fetch`, `chromium` or `firefox`.
    pub fn name(&self) -> &'static str {
        self.id.as_str()
    }
}

/// How the oracle treats one documented deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modeled {
    /// Modeled by the named [`Profile`] field(s).
    Yes(&'static str),
    /// Not modeled: it cannot be observed in what a case describes (the reason).
    NotObservable(&'static str),
    /// Not modeled: the browser now follows the standard by default (the reason).
    Inactive(&'static str),
}

/// One entry of the deviation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deviation {
    /// `D1`–`D15`.
    pub id: RuleId,
    /// The browsers it applies to.
    pub browsers: &'static [&'static str],
    /// One line.
    pub summary: &'static str,
    /// How the oracle treats it.
    pub modeled: Modeled,
}

/// D1–D15 known from the browsers' source, D16–D32 found by the browser differential
/// (`crates/browser`) and D33 by `--confirm`, each with how the oracle treats it.
pub const DEVIATIONS: [Deviation; 33] = [
    Deviation { id: RuleId::D1, browsers: &["chromium", "firefox"], summary: "ACAH `*` covers Authorization", modeled: Modeled::Yes("authorization_covered_by_wildcard") },
    Deviation { id: RuleId::D2, browsers: &["chromium"], summary: "client hints and `intervention` are safelisted request headers", modeled: Modeled::Yes("client_hints_safelisted") },
    Deviation { id: RuleId::D3, browsers: &["chromium"], summary: "Range is lower-cased before parsing", modeled: Modeled::Inactive("not observed: Chromium 156 preflights `Range: BYTES=0-` (ACRH `range`) like the standard (browser differential, seed 2); the profile field stays for older builds") },
    Deviation { id: RuleId::D4, browsers: &["chromium"], summary: "UA-added and revalidation headers are not CORS-unsafe", modeled: Modeled::NotObservable("cases hold only script-set headers; script cannot set UA-added ones") },
    Deviation { id: RuleId::D5, browsers: &["chromium"], summary: "methods upper-cased before matching ACAM", modeled: Modeled::Inactive("AccessControlAllowMethodsInCORSPreflightSpecConformant is enabled by default: exact match as in the standard") },
    Deviation { id: RuleId::D6, browsers: &["chromium", "firefox"], summary: "ACMA parsing, defaults and caps", modeled: Modeled::Yes("max_age_parsing, max_age_cap") },
    Deviation { id: RuleId::D7, browsers: &["chromium"], summary: "cache entry per key replaced (no union), keyed by initiator origin, `*` respects credentials, an entry that does not answer a lookup erased, URLs of 1024+ characters not cached", modeled: Modeled::Yes("cache") },
    Deviation { id: RuleId::D8, browsers: &["firefox"], summary: "credentialed entries separate, `*` literal at lookup, GET/POST skip method lookup", modeled: Modeled::Yes("cache") },
    Deviation { id: RuleId::D9, browsers: &["firefox"], summary: "rejects repeated raw ACAO fields", modeled: Modeled::NotObservable("same outcome as the standard's combined value (R33)") },
    Deviation { id: RuleId::D10, browsers: &["chromium", "firefox"], summary: "ACEH empty-element tolerance differs between builds", modeled: Modeled::NotObservable("current sources tolerate empty elements as the standard does; grounded by the browser differential") },
    Deviation { id: RuleId::D11, browsers: &["chromium", "firefox"], summary: "Origin header with referrer policy (stale WPT)", modeled: Modeled::NotObservable("cases carry no referrer policy; the default policy is modeled as in the standard") },
    Deviation { id: RuleId::D12, browsers: &["chromium", "firefox"], summary: "TLS client certificates on preflights", modeled: Modeled::NotObservable("not visible in headers") },
    Deviation { id: RuleId::D13, browsers: &["chromium"], summary: "ACAO `*` with credentials tolerated for non-HTTP(S) responses", modeled: Modeled::NotObservable("network cases are HTTP(S)") },
    Deviation { id: RuleId::D14, browsers: &["firefox"], summary: "Content-Type safelisting computed separately", modeled: Modeled::NotObservable("same outcome as the standard") },
    Deviation { id: RuleId::D15, browsers: &["firefox"], summary: "preflight `Accept: */*` not set explicitly", modeled: Modeled::NotObservable("preflight request_headers list only Access-Control-Request-* headers") },
    Deviation { id: RuleId::D16, browsers: &["chromium"], summary: "duplicate request headers are safelisted on their combined value (`bytes=0-, bytes=0-` is not a Range; the 1024-byte total counts combined values)", modeled: Modeled::Yes("combined_request_header_values") },
    Deviation { id: RuleId::D17, browsers: &["chromium"], summary: "fetch() refuses a redirect to a URL with credentials in every mode, not only for CORS requests (XHR follows it)", modeled: Modeled::Yes("redirect_credentials_always_fail") },
    Deviation { id: RuleId::D18, browsers: &["chromium"], summary: "an actual response failing the CORS check does not clear the preflight cache entries", modeled: Modeled::Yes("cache.clear_on_actual_failure") },
    Deviation { id: RuleId::D19, browsers: &["chromium", "firefox"], summary: "with use-CORS-preflight (XHR upload listeners), an absent ACAM does not allow the request's method", modeled: Modeled::Yes("use_cors_preflight_implies_method") },
    Deviation { id: RuleId::D20, browsers: &["chromium"], summary: "a cached `*` header entry does not cover Authorization (the preflight check itself does, D1)", modeled: Modeled::Yes("cache.wildcard_covers_authorization") },
    Deviation { id: RuleId::D21, browsers: &["firefox"], summary: "Access-Control-Request-Headers lists a name once per header line (`x-a,x-a`), not as a set", modeled: Modeled::Yes("acrh_deduplicated") },
    Deviation { id: RuleId::D22, browsers: &["firefox"], summary: "no 1024-byte total over safelisted request-header values", modeled: Modeled::Yes("safelisted_total_limit") },
    Deviation { id: RuleId::D23, browsers: &["firefox"], summary: "XHR upload listeners force a preflight whatever the body (GET, HEAD, no body)", modeled: Modeled::Yes("upload_listeners_need_body") },
    Deviation { id: RuleId::D24, browsers: &["firefox"], summary: "after a redirect, a hop is preflighted when an earlier hop was or when the request as first made had unsafe header names, even once it has become simple", modeled: Modeled::Yes("repreflight_after_redirect") },
    Deviation { id: RuleId::D25, browsers: &["chromium"], summary: "a non-CORS request carrying Origin (no-cors POST) sends `Origin: null` after any cross-origin redirect, even one leaving the requester's origin", modeled: Modeled::Yes("origin_null_after_cross_origin_redirect") },
    Deviation { id: RuleId::D26, browsers: &["chromium"], summary: "script-set Accept-CH client hints (DPR, Device-Memory, Viewport-Width, ...; not Save-Data) are gone after a redirect to an origin other than the requester's", modeled: Modeled::Yes("client_hints_dropped_on_redirect") },
    Deviation { id: RuleId::D27, browsers: &["firefox"], summary: "in a fresh browser session, the first one or two lookups that should find an entry for a URL whose host is an IP address miss; from then on IP-address hosts are cached like host names", modeled: Modeled::NotObservable("depends on what the browser session did before the case, not on the exchange") },
    Deviation { id: RuleId::D28, browsers: &["firefox"], summary: "at a redirect-tainted hop the preflight carries, is checked against and is cached for the request's own origin; only the actual request uses `null`", modeled: Modeled::Yes("preflight_for_request_origin") },
    Deviation { id: RuleId::D29, browsers: &["firefox"], summary: "fetch() sends a repeated Authorization or Content-Type once, with the last value (the first Content-Type when the request has a body), not the combined value (XHR combines)", modeled: Modeled::Yes("wire.single_value_names, wire.body_content_type_first") },
    Deviation { id: RuleId::D30, browsers: &["chromium", "firefox"], summary: "a preflight's Sec-Fetch-Site is judged on its own URL, not on the redirect chain (both); Firefox's actual request is `cross-site` after any redirect unless every URL is same-origin with the request's origin", modeled: Modeled::Yes("wire.site_after_redirect, wire.preflight_site_own_url") },
    Deviation { id: RuleId::D31, browsers: &["chromium", "firefox"], summary: "the preflight cache has a capacity: Chromium 1024 entries per (origin, URL), purging 10 adjacent ones at random when full; Firefox 100 per (origin, URL, credentials), dropping entries without a live item, then the least recently used", modeled: Modeled::Yes("cache.capacity, cache.entry_per_credentials, cache.failed_lookup_erases") },
    Deviation { id: RuleId::D32, browsers: &["firefox"], summary: "a zero max-age stores nothing (no item created or refreshed); a stored entry outlives its items and still answers GET and POST lookups that need no header item", modeled: Modeled::Yes("cache.zero_max_age_stored, cache.entries_outlive_items") },
    Deviation { id: RuleId::D33, browsers: &["chromium"], summary: "a non-CORS request carrying Origin (no-cors POST) from an https origin to an http URL sends the origin, not `null`", modeled: Modeled::Yes("origin_null_on_downgrade") },
];
