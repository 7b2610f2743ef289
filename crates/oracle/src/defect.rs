//! What is wrong with a CORS response header's field lines by the grammar a browser reads them
//! with, and the rule that makes a browser reject them. The algorithms of the other modules
//! decide what a browser *does* with a response; this module names *why* a header cannot mean
//! what the server presumably meant, for reports (`check`'s `malformed-header` and
//! `duplicate-header` findings cite [`Defect::rule`]).
//!
//! | header | grammar | several field lines |
//! |---|---|---|
//! | `Access-Control-Allow-Origin` | `*`, `null` or a serialized origin, compared byte for byte (R33) | combined with `, `: no origin matches (R31, R33) |
//! | `Access-Control-Allow-Credentials` | exactly `true` (R35) | `true, true` is not `true` (R35) |
//! | `Access-Control-Allow-Methods`, `-Headers` | a list of tokens (R38) | concatenated: fine (R38) |
//! | `Access-Control-Expose-Headers` | a list of tokens (R53) | concatenated: fine (R53) |
//! | `Access-Control-Max-Age` | `delta-seconds`, digits only (R43) | `600, 600` is not delta-seconds (R43) |
//! | `Access-Control-Allow-Private-Network` | exactly `true` (R67) | `true, true` is not `true` (R67) |

use crate::error::RuleId;
use crate::grammar::{is_token, parse_delta_seconds};
use crate::origin::Origin;
use crate::response::{Cors, Response};

/// One defect of a CORS response header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defect<'r> {
    /// The header.
    pub header: Cors,
    /// What is wrong.
    pub kind: DefectKind<'r>,
    /// The rule by which a browser rejects it.
    pub rule: RuleId,
}

/// What is wrong with a header's field lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefectKind<'r> {
    /// `lines` field lines of a header whose lines combine into a value its grammar rejects.
    Repeated {
        /// How many field lines.
        lines: usize,
    },
    /// A field line whose value the grammar rejects; for a list header, `element` is the first
    /// element that is not a token.
    Malformed {
        /// The field line's value.
        value: &'r [u8],
        /// The offending list element, for list headers.
        element: Option<&'r [u8]>,
    },
}

impl Cors {
    /// The rule that states this header's grammar (see the module's table); `None` for
    /// `Location`, which is not a CORS header.
    ///
    /// ```
    /// use corsproof_oracle::{response::Cors, RuleId};
    /// assert_eq!(Cors::AllowOrigin.grammar_rule(), Some(RuleId::R33));
    /// assert_eq!(Cors::MaxAge.grammar_rule(), Some(RuleId::R43));
    /// ```
    pub fn grammar_rule(self) -> Option<RuleId> {
        match self {
            Cors::AllowOrigin => Some(RuleId::R33),
            Cors::AllowCredentials => Some(RuleId::R35),
            Cors::AllowMethods | Cors::AllowHeaders => Some(RuleId::R38),
            Cors::ExposeHeaders => Some(RuleId::R53),
            Cors::MaxAge => Some(RuleId::R43),
            Cors::AllowPrivateNetwork => Some(RuleId::R67),
            Cors::Location => None,
        }
    }

    /// Whether several field lines of this header are concatenated into one list (R38, R53),
    /// rather than combined into one value its grammar rejects.
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Cors::AllowMethods | Cors::AllowHeaders | Cors::ExposeHeaders
        )
    }
}

/// The defects of `header` in `response`: a repetition (for a header that is not a list),
/// else every malformed field line.
///
/// ```
/// use corsproof_oracle::defect::{defects, DefectKind};
/// use corsproof_oracle::{response::Cors, Response, RuleId};
/// let r = Response::new(200, [
///     ("Access-Control-Allow-Origin", "https://a.test/"),
///     ("Access-Control-Allow-Headers", "x-a, x b"),
///     ("Access-Control-Allow-Headers", "x-c"),
/// ]);
/// let acao = defects(&r, Cors::AllowOrigin);
/// assert_eq!(acao[0].rule, RuleId::R33);
/// let acah = defects(&r, Cors::AllowHeaders);
/// assert_eq!(acah.len(), 1); // two lines of a list are fine; `x b` is not a token
/// assert!(matches!(acah[0].kind, DefectKind::Malformed { element: Some(b"x b"), .. }));
/// ```
pub fn defects(response: &Response, header: Cors) -> Vec<Defect<'_>> {
    let Some(rule) = header.grammar_rule() else {
        return Vec::new();
    };
    if response.has_several(header) && !header.is_list() {
        let lines = response.cors_values(header).count();
        return vec![Defect {
            header,
            kind: DefectKind::Repeated { lines },
            rule,
        }];
    }
    response
        .cors_values(header)
        .filter_map(|value| {
            let kind = malformed(header, value)?;
            Some(Defect { header, kind, rule })
        })
        .collect()
}

/// Whether one field line's value fails `header`'s grammar.
fn malformed(header: Cors, value: &[u8]) -> Option<DefectKind<'_>> {
    let bad = DefectKind::Malformed {
        value,
        element: None,
    };
    match header {
        // R33: the value is compared byte for byte with the request's serialized origin, so
        // only `*`, `null` or a serialization (lowercase, no path, no default port) can match.
        Cors::AllowOrigin => {
            let serialized = std::str::from_utf8(value)
                .ok()
                .and_then(|v| Origin::parse_serialized(v).ok())
                .is_some_and(|o| o.serialization().as_bytes() == value);
            (value != b"*" && value != b"null" && !serialized).then_some(bad)
        }
        // R35, R67: exactly `true`, byte-case-sensitive.
        Cors::AllowCredentials | Cors::AllowPrivateNetwork => (value != b"true").then_some(bad),
        // R43: delta-seconds.
        Cors::MaxAge => parse_delta_seconds(value).is_none().then_some(bad),
        // R38, R53: every element a token; empty elements are allowed.
        Cors::AllowMethods | Cors::AllowHeaders | Cors::ExposeHeaders => value
            .split(|&b| b == b',')
            .map(<[u8]>::trim_ascii)
            .find(|e| !e.is_empty() && !is_token(e))
            .map(|element| DefectKind::Malformed {
                value,
                element: Some(element),
            }),
        Cors::Location => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(header: &str, value: &str) -> Vec<Defect<'static>> {
        let r: &'static Response = Box::leak(Box::new(Response::new(200, [(header, value)])));
        defects(r, Cors::of_name(header.as_bytes()).expect("a CORS header"))
    }

    #[test]
    fn grammar_per_header() {
        for (header, good, bad) in [
            (
                "Access-Control-Allow-Origin",
                "https://a.test",
                "https://a.test/",
            ),
            ("Access-Control-Allow-Origin", "*", "https://A.test"),
            ("Access-Control-Allow-Origin", "null", "https://a.test:443"),
            ("Access-Control-Allow-Credentials", "true", "True"),
            ("Access-Control-Allow-Methods", "GET, PUT,", "GET PUT"),
            ("Access-Control-Allow-Headers", ",x-a", "x-a, \"x\""),
            ("Access-Control-Expose-Headers", "x-a", "x a"),
            ("Access-Control-Max-Age", "600", "-1"),
            ("Access-Control-Allow-Private-Network", "true", "1"),
        ] {
            assert!(one(header, good).is_empty(), "{header}: {good}");
            let d = one(header, bad);
            assert_eq!(d.len(), 1, "{header}: {bad}");
            assert_eq!(
                Some(d[0].rule),
                Cors::of_name(header.as_bytes()).and_then(Cors::grammar_rule)
            );
        }
    }

    #[test]
    fn repeated_lines_are_a_defect_only_outside_lists() {
        for (header, rule) in [
            ("Access-Control-Allow-Origin", RuleId::R33),
            ("Access-Control-Allow-Credentials", RuleId::R35),
            ("Access-Control-Max-Age", RuleId::R43),
        ] {
            let r = Response::new(200, [(header, "true"), (header, "true")]);
            let h = Cors::of_name(header.as_bytes()).expect("a CORS header");
            let d = defects(&r, h);
            assert_eq!(d.len(), 1);
            assert_eq!(d[0].kind, DefectKind::Repeated { lines: 2 });
            assert_eq!(d[0].rule, rule);
        }
        let r = Response::new(
            200,
            [
                ("Access-Control-Expose-Headers", "x-a"),
                ("Access-Control-Expose-Headers", "x-b"),
            ],
        );
        assert!(defects(&r, Cors::ExposeHeaders).is_empty());
    }
}
