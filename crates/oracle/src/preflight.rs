//! The CORS-preflight fetch (R29, R30, R37–R43, `#cors-preflight-fetch-0`): validating the
//! preflight response against the actual request, and the max-age it grants.

use crate::error::RuleId;
use smallvec::SmallVec;

use crate::cors_check::cors_check;
use crate::error::{ErrorKind, Reason};
use crate::grammar::{eq_bytes, eq_ignore_case, parse_delta_seconds};
use crate::headers::UnsafeNames;
use crate::method;
use crate::profile::{MaxAgeParsing, Profile};
use crate::request::CredentialsMode;
use crate::response::{Cors, Response};

/// What the preflight validation needs to know of the actual request.
#[derive(Debug, Clone, Copy)]
pub struct ActualRequest<'a, 'n> {
    /// The byte-serialized request origin (R4).
    pub serialized_origin: &'a str,
    /// Whether the response gets the CORS check (R37); Firefox skips it for a preflight to
    /// the request's own origin (D28).
    pub cors_check: bool,
    /// The method (normalized).
    pub method: &'a str,
    /// The actual request's credentials mode: the preflight is checked against it (R37).
    pub credentials: CredentialsMode,
    /// The CORS-unsafe request-header names (R18).
    pub unsafe_names: &'n UnsafeNames<'a>,
    /// Whether the header list has `Authorization` (R41).
    pub has_authorization: bool,
    /// The use-CORS-preflight flag (R39).
    pub use_cors_preflight: bool,
    /// A Private Network Access preflight (R67).
    pub private_network: bool,
    /// Only PNA asked for this preflight: Chromium skips the method and header checks (R67).
    pub private_network_only: bool,
}

/// A passed preflight: what the cache is written with (R44).
#[derive(Debug, Clone, Default)]
pub struct Passed<'a> {
    /// The methods list (R38, R39): ACAM's elements, or the request's method when ACAM is
    /// absent and the use-CORS-preflight flag is set.
    pub methods: SmallVec<[&'a [u8]; 8]>,
    /// ACAH's elements (R38).
    pub header_names: SmallVec<[&'a [u8]; 16]>,
    /// The max-age to cache for, `None` when the profile does not cache this result.
    pub max_age: Option<u64>,
    /// Deviation ids that changed the outcome.
    pub deviations: SmallVec<[RuleId; 2]>,
}

/// Fetch "extract header list values" for a `#method` / `#field-name` list (R38): every
/// element of every field line of `header`, in order, appended to `list`; `Err(())` if one is
/// not a token; `Ok(false)` if the header is absent. The response split and checked its
/// elements once, at construction.
fn extract_token_list<'a, const N: usize>(
    response: &'a Response,
    header: Cors,
    list: &mut SmallVec<[&'a [u8]; N]>,
) -> Result<bool, ()>
where
    [&'a [u8]; N]: smallvec::Array<Item = &'a [u8]>,
{
    if !response.cors_list_is_tokens(header) {
        return Err(());
    }
    for element in response.cors_list(header) {
        list.push(element);
    }
    Ok(response.has(header))
}

/// Validates a preflight response (R30, R37–R43) for `request`, under `profile`.
///
/// ```
/// use corsproof_oracle::preflight::{validate, ActualRequest};
/// use corsproof_oracle::{headers::UnsafeNames, CredentialsMode, ErrorKind, Profile, Response};
/// let headers = vec![(b"X-Test".to_vec(), b"1".to_vec())];
/// let names = UnsafeNames::of(headers.iter(), &Profile::fetch());
/// let req = ActualRequest {
///     serialized_origin: "https://app.test", cors_check: true, method: "PUT",
///     credentials: CredentialsMode::Include,
///     unsafe_names: &names, has_authorization: false, use_cors_preflight: false,
///     private_network: false, private_network_only: false,
/// };
/// let resp = Response::new(204, [
///     ("Access-Control-Allow-Origin", "https://app.test"), ("Access-Control-Allow-Credentials", "true"),
///     ("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "*"),
/// ]);
/// // With credentials, `*` in ACAH is only a header literally named `*` (R42).
/// assert_eq!(validate(&req, &resp, &Profile::fetch()).unwrap_err().error, Some(ErrorKind::HeaderNotAllowed));
/// ```
pub fn validate<'a, 'r: 'a>(
    request: &ActualRequest<'r, '_>,
    response: &'a Response,
    profile: &Profile,
) -> Result<Passed<'a>, Reason> {
    let mut passed = Passed::default();
    validate_into(request, response, profile, &mut passed)?;
    Ok(passed)
}

/// [`validate`] writing what passed into `passed` (cleared first), so that a caller that
/// validates many preflights builds its lists in one place instead of moving them. On `Err`,
/// `passed` holds whatever was extracted before the failure.
///
/// ```
/// use corsproof_oracle::preflight::{validate_into, ActualRequest, Passed};
/// use corsproof_oracle::{headers::UnsafeNames, CredentialsMode, Profile, Response};
/// let names = UnsafeNames::default();
/// let req = ActualRequest {
///     serialized_origin: "https://app.test", cors_check: true, method: "PUT",
///     credentials: CredentialsMode::Omit, unsafe_names: &names, has_authorization: false,
///     use_cors_preflight: false,
///     private_network: false, private_network_only: false,
/// };
/// let resp = Response::new(204, [
///     ("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "PUT"),
/// ]);
/// let mut passed = Passed::default();
/// assert!(validate_into(&req, &resp, &Profile::fetch(), &mut passed).is_ok());
/// assert_eq!(passed.methods.as_slice(), [&b"PUT"[..]]);
/// assert_eq!(passed.max_age, Some(5)); // no Access-Control-Max-Age: the default (R43)
/// ```
pub fn validate_into<'a, 'r: 'a>(
    request: &ActualRequest<'r, '_>,
    response: &'a Response,
    profile: &Profile,
    passed: &mut Passed<'a>,
) -> Result<(), Reason> {
    passed.methods.clear();
    passed.header_names.clear();
    passed.max_age = None;
    passed.deviations.clear();
    // R30: a preflight is never followed through a redirect; a 3xx is not an ok status.
    if (300..=399).contains(&response.status) {
        return Err(Reason::fail(ErrorKind::PreflightRedirect, RuleId::R30));
    }
    // R37: ok status.
    if !response.is_ok_status() {
        return Err(Reason::fail(ErrorKind::PreflightStatus, RuleId::R37));
    }
    // R37: the CORS check, with the actual request's credentials mode.
    if request.cors_check {
        let check = cors_check(response, request.serialized_origin, request.credentials);
        if check.error.is_some() {
            return Err(check);
        }
    }
    passed.max_age = max_age_noting_deviation(response, profile, &mut passed.deviations);
    // R67: Private Network Access needs ACAPN `true` (exact).
    if request.private_network {
        match response.get_combined(Cors::AllowPrivateNetwork) {
            Some(v) if &*v == b"true" => {}
            _ => {
                return Err(Reason::fail(
                    ErrorKind::PrivateNetworkNotAllowed,
                    RuleId::R67,
                ))
            }
        }
        if request.private_network_only {
            return Ok(());
        }
    }
    // R38: extract ACAM as `#method` and ACAH as `#field-name`; any non-token fails.
    let acam_present = extract_token_list(response, Cors::AllowMethods, &mut passed.methods)
        .map_err(|()| Reason::fail(ErrorKind::InvalidAllowMethods, RuleId::R38))?;
    extract_token_list(response, Cors::AllowHeaders, &mut passed.header_names)
        .map_err(|()| Reason::fail(ErrorKind::InvalidAllowHeaders, RuleId::R38))?;
    let methods = &mut passed.methods;
    let header_names = &passed.header_names;
    // R39: ACAM absent and use-CORS-preflight: methods is the request's method.
    // D19: Chromium does not (fetch.rs notes the deviation when the method check fails).
    if !acam_present && request.use_cors_preflight && profile.use_cors_preflight_implies_method {
        methods.push(request.method.as_bytes());
    }
    let include = request.credentials == CredentialsMode::Include;
    // R40: the method must be listed exactly, or safelisted, or covered by `*` without credentials.
    let method = request.method.as_bytes();
    let has = |list: &[&[u8]], item: &[u8]| list.iter().any(|m| eq_bytes(m, item));
    if !has(methods, method)
        && !method::is_cors_safelisted(method)
        && (include || !has(methods, b"*"))
    {
        return Err(Reason::fail(ErrorKind::MethodNotAllowed, RuleId::R40));
    }
    let listed = |name: &[u8]| header_names.iter().any(|h| eq_ignore_case(h, name));
    let star = !include && has(header_names, b"*");
    // R41: Authorization must be named, whatever `*` says (D1: browsers let `*` cover it).
    if request.has_authorization && !listed(b"authorization") {
        if star && profile.authorization_covered_by_wildcard {
            passed.deviations.push(RuleId::D1);
        } else {
            return Err(Reason::fail(
                ErrorKind::AuthorizationNotAllowed,
                RuleId::R41,
            ));
        }
    }
    // R42: every unsafe name must be listed, or covered by `*` without credentials.
    if !star && request.unsafe_names.iter().any(|name| !listed(name)) {
        return Err(Reason::fail(ErrorKind::HeaderNotAllowed, RuleId::R42));
    }
    Ok(())
}

/// [`max_age`] under `profile`, noting D6 when the profile's parsing or cap changed it.
fn max_age_noting_deviation(
    response: &Response,
    profile: &Profile,
    deviations: &mut SmallVec<[RuleId; 2]>,
) -> Option<u64> {
    let granted = max_age(response, profile);
    if profile.max_age_parsing != MaxAgeParsing::Standard || profile.max_age_cap.is_some() {
        let standard = max_age(response, &Profile::fetch());
        if granted != standard {
            deviations.push(RuleId::D6);
        }
    }
    granted
}

/// The max-age a preflight response grants under `profile` (R43, D6): `None` when the
/// profile does not cache it at all. The profile's cap applies.
///
/// ```
/// use corsproof_oracle::{preflight::max_age, Profile, Response};
/// let r = |v: &str| Response::new(204, [("Access-Control-Max-Age", v)]);
/// assert_eq!(max_age(&r("-1"), &Profile::fetch()), Some(5));
/// assert_eq!(max_age(&r("-1"), &Profile::chromium()), Some(0));
/// assert_eq!(max_age(&r("-1"), &Profile::firefox()), None);
/// assert_eq!(max_age(&r("86400"), &Profile::chromium()), Some(7200));
/// ```
pub fn max_age(response: &Response, profile: &Profile) -> Option<u64> {
    let parsed = match profile.max_age_parsing {
        // R43: extract as `delta-seconds` (a single value); failure or null → 5.
        MaxAgeParsing::Standard => Some(match response.first_value(Cors::MaxAge) {
            Some(v) if !response.has_several(Cors::MaxAge) => parse_delta_seconds(v).unwrap_or(5),
            _ => 5,
        }),
        // D6 Chromium: the combined value as a signed 64-bit integer; failure → 5;
        // negative → 0.
        MaxAgeParsing::ChromiumInt64 => Some(match response.get_combined(Cors::MaxAge) {
            None => 5,
            // base::StringToInt64: an optional sign, then digits, within the int64 range;
            // anything else (overflow included) fails and the default applies. Observed by the
            // browser differential: `+3` expires after 3 s, `99999999999999999999` after 5 s.
            Some(v) => {
                let (negative, digits) = match v.first() {
                    Some(b'-') => (true, &v[1..]),
                    Some(b'+') => (false, &v[1..]),
                    _ => (false, &v[..]),
                };
                let parsed = std::str::from_utf8(digits)
                    .ok()
                    .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|d| d.parse::<i64>().ok());
                match parsed {
                    None => 5,
                    Some(_) if negative => 0,
                    Some(n) => n.unsigned_abs(),
                }
            }
        }),
        // D6 Firefox: the combined value; empty or absent → 5; any non-digit → not cached.
        MaxAgeParsing::FirefoxDigits => match response.get_combined(Cors::MaxAge) {
            None => Some(5),
            Some(v) if v.is_empty() => Some(5),
            Some(v) => parse_delta_seconds(&v),
        },
    };
    parsed.map(|s| profile.max_age_cap.map_or(s, |cap| s.min(cap)))
}
