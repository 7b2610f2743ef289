//! What a server answers a browser: status and header lines near the answer that grants a
//! request ([`Grant`]) or anywhere, with every CORS header in its variants.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use crate::responses::{
    acao_forms, ACAC, ACAH_ELEMENTS, ACAM_ELEMENTS, ACAO_FIXED, ACEH_ELEMENTS, LIST_SEPARATORS,
    LOCATIONS, MAX_AGE_VALUES, OTHER, VARY,
};
use crate::strategy::request::pair_from;

/// What a server that means to allow a request names: its method as Fetch normalizes it and
/// the lowercase names of its headers. The caller fills it in (the normalization is the
/// oracle's, never the test kit's).
///
/// ```
/// let g = corsproof_testkit::strategy::response::Grant { method: "PUT".into(), headers: vec!["x-a".into()] };
/// assert_eq!(g.headers.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// The method.
    pub method: String,
    /// Header names, lowercase.
    pub headers: Vec<String>,
}

/// Which answer a response is.
///
/// ```
/// assert_ne!(corsproof_testkit::strategy::response::Answer::Preflight,
///            corsproof_testkit::strategy::response::Answer::Request);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The answer to a preflight.
    Preflight,
    /// The answer to the request itself.
    Request,
}

/// A status and header lines, in order, as a server sends them.
///
/// ```
/// let r = corsproof_testkit::strategy::response::ResponseHead { status: 204, headers: vec![] };
/// assert_eq!(r.status, 204);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The header lines.
    pub headers: Vec<(String, String)>,
}

/// One to three elements of `pool` joined by one of [`LIST_SEPARATORS`].
///
/// ```
/// use proptest::prelude::*;
/// let v = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::response::list_value(&corsproof_testkit::responses::ACEH_ELEMENTS), 1).remove(0);
/// assert!(v.len() < 100);
/// ```
pub fn list_value(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    (vec(select(pool), 1..4), select(&LIST_SEPARATORS[..])).prop_map(|(items, sep)| items.join(sep))
}

/// An `Access-Control-Allow-Origin` value for a page of `origin`: the origin itself (most of
/// the time when `near`), `*`, [`ACAO_FIXED`] and [`acao_forms`].
///
/// ```
/// use proptest::prelude::*;
/// let v = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::response::acao_value("https://a.example".into(), true), 1).remove(0);
/// assert!(v.len() < 100);
/// ```
pub fn acao_value(origin: String, near: bool) -> impl Strategy<Value = String> {
    let exact = if near { 40 } else { 8 };
    let mut others: Vec<String> = ACAO_FIXED.iter().map(|s| s.to_string()).collect();
    others.extend(acao_forms(&origin));
    prop_oneof![
        exact => Just(origin),
        4 => Just("*".to_string()),
        others.len() as u32 => select(others),
    ]
}

/// An `Access-Control-Allow-Methods` value: the granting one (possibly after extras, or in
/// the other case), or a random list.
///
/// ```
/// use corsproof_testkit::strategy::response::{acam_value, Grant};
/// use proptest::prelude::*;
/// let g = Grant { method: "PUT".into(), headers: vec![] };
/// let _ = corsproof_testkit::strategy::sample(&acam_value(&g, true), 1).remove(0);
/// ```
pub fn acam_value(grant: &Grant, near: bool) -> impl Strategy<Value = String> {
    let exact = grant.method.clone();
    let other_case = if exact.chars().any(|c| c.is_ascii_lowercase()) {
        exact.to_ascii_uppercase()
    } else {
        exact.to_ascii_lowercase()
    };
    prop_oneof![
        if near { 20 } else { 4 } => Just(exact.clone()),
        2 => list_value(&ACAM_ELEMENTS).prop_map(move |l| format!("{l}, {exact}")),
        1 => Just(other_case),
        if near { 1 } else { 3 } => list_value(&ACAM_ELEMENTS),
    ]
}

/// An `Access-Control-Allow-Headers` value: the granting one (possibly with extras), all but
/// one of its names, `*`, or a random list.
///
/// ```
/// use corsproof_testkit::strategy::response::{acah_value, Grant};
/// use proptest::prelude::*;
/// let g = Grant { method: "PUT".into(), headers: vec!["x-a".into()] };
/// let _ = corsproof_testkit::strategy::sample(&acah_value(&g, false), 1).remove(0);
/// ```
pub fn acah_value(grant: &Grant, near: bool) -> impl Strategy<Value = String> {
    let all = grant.headers.join(", ");
    let names = grant.headers.clone();
    prop_oneof![
        if near { 20 } else { 4 } => Just(all.clone()),
        2 => list_value(&ACAH_ELEMENTS).prop_map(move |l| format!("{all},{l}")),
        1 => Just(names).prop_shuffle().prop_map(|mut n| {
            n.pop();
            n.join(",")
        }),
        1 => Just("*".to_string()),
        if near { 1 } else { 3 } => list_value(&ACAH_ELEMENTS),
    ]
}

/// Statuses of an answer: mostly success, some errors and redirects; `near` leans on success.
fn status(answer: Answer, near: bool) -> impl Strategy<Value = u16> {
    let pool: &'static [u16] = match (answer, near) {
        (Answer::Preflight, true) => &[
            204, 200, 204, 200, 204, 200, 204, 206, 200, 204, 200, 204, 404, 301,
        ],
        (Answer::Preflight, false) => &[204, 200, 204, 206, 404, 500, 301],
        (Answer::Request, true) => &[200, 200, 200, 204, 206, 200, 200, 404, 301, 302, 303, 307],
        (Answer::Request, false) => &[200, 204, 206, 404, 500, 301, 302, 303, 307],
    };
    select(pool)
}

/// An answer for a page of `origin`; `near`: most fields take the value that grants `grant`.
/// Header lines come shuffled; a `Location` only on a redirect.
///
/// ```
/// use corsproof_testkit::strategy::response::{response_near, Answer, Grant};
/// use proptest::prelude::*;
/// let r = corsproof_testkit::strategy::sample(&response_near("https://a.example".into(), Grant::default(), Answer::Request, true), 1).remove(0);
/// assert!(!r.headers.is_empty());
/// ```
pub fn response_near(
    origin: String,
    grant: Grant,
    answer: Answer,
    near: bool,
) -> BoxedStrategy<ResponseHead> {
    let aceh_weight = if answer == Answer::Request { 0.6 } else { 0.1 };
    let (one_acao, acac_true, p_acac) = if near { (40, 20, 0.9) } else { (10, 6, 0.6) };
    (
        status(answer, near),
        prop_oneof![
            1 => vec(acao_value(origin.clone(), near), 0..=0),
            one_acao => vec(acao_value(origin.clone(), near), 1..=1),
            1 => vec(acao_value(origin, near), 2..=2),
        ],
        option::weighted(
            p_acac,
            prop_oneof![acac_true => Just("true"), 3 => select(&ACAC[..])],
        ),
        option::weighted(0.85, acam_value(&grant, near)),
        option::weighted(0.85, acah_value(&grant, near)),
        option::weighted(aceh_weight, list_value(&ACEH_ELEMENTS)),
        option::weighted(0.5, select(&MAX_AGE_VALUES[..])),
        vec(pair_from(&OTHER), 1..5),
        option::weighted(0.8, select(&LOCATIONS[..])),
    )
        .prop_flat_map(
            |(status, acao, acac, acam, acah, aceh, acma, other, location)| {
                let mut headers: Vec<(String, String)> = Vec::new();
                let mut push = |n: &str, v: String| headers.push((n.to_string(), v));
                for v in acao {
                    push("Access-Control-Allow-Origin", v);
                }
                if let Some(v) = acac {
                    push("Access-Control-Allow-Credentials", v.to_string());
                }
                if let Some(v) = acam {
                    push("Access-Control-Allow-Methods", v);
                }
                if let Some(v) = acah {
                    push("Access-Control-Allow-Headers", v);
                }
                if let Some(v) = aceh {
                    push("Access-Control-Expose-Headers", v);
                }
                if let Some(v) = acma {
                    push("Access-Control-Max-Age", v.to_string());
                }
                if let (Some(l), true) = (location, (300..400).contains(&status)) {
                    push("Location", l.to_string());
                }
                headers.extend(other);
                (Just(status), Just(headers).prop_shuffle())
            },
        )
        .prop_map(|(status, headers)| ResponseHead { status, headers })
        .boxed()
}

/// An answer for a page of `origin`: three times in five near the one granting `grant`, else
/// anywhere.
///
/// ```
/// use corsproof_testkit::strategy::response::{response_for, Answer, Grant};
/// use proptest::prelude::*;
/// let r = corsproof_testkit::strategy::sample(&response_for("null".into(), Grant::default(), Answer::Preflight), 1).remove(0);
/// assert!(r.status >= 200);
/// ```
pub fn response_for(origin: String, grant: Grant, answer: Answer) -> BoxedStrategy<ResponseHead> {
    prop_oneof![
        3 => response_near(origin.clone(), grant.clone(), answer, true),
        2 => response_near(origin, grant, answer, false),
    ]
    .boxed()
}

/// The inner service's own `Vary`, 3 times in 10: mostly [`VARY`]'s first, the others once
/// in nine.
///
/// ```
/// use proptest::prelude::*;
/// let _ = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::response::inner_vary(), 1).remove(0);
/// ```
pub fn inner_vary() -> impl Strategy<Value = Option<&'static str>> {
    let vary = prop_oneof![
        6 => Just(VARY[0]),
        1 => Just(VARY[1]),
        1 => Just(VARY[2]),
        1 => Just(VARY[3]),
    ];
    option::weighted(0.3, vary)
}
