//! The CORS check (R31–R35, `#concept-cors-check`), applied to actual responses, to every
//! redirect hop of a CORS request (R36) and to preflight responses (R37).

use crate::error::RuleId;
use crate::error::{ErrorKind, Reason};
use crate::grammar::eq_bytes;
use crate::request::CredentialsMode;
use crate::response::{Cors, Response};

/// Runs the CORS check of `response` for a request whose serialized origin (R4, `null` after
/// a tainting redirect) is `serialized_origin` and whose credentials mode is `credentials`.
///
/// ```
/// use corsproof_oracle::{cors_check::cors_check, CredentialsMode, ErrorKind, Response};
/// let r = Response::new(200, [("Access-Control-Allow-Origin", "https://app.test/")]);
/// let reason = cors_check(&r, "https://app.test", CredentialsMode::Omit);
/// assert_eq!(reason.error, Some(ErrorKind::AllowOriginMismatch)); // trailing slash (R33)
/// ```
pub fn cors_check(
    response: &Response,
    serialized_origin: &str,
    credentials: CredentialsMode,
) -> Reason {
    // R31: origin is the result of getting ACAO; null is failure.
    let Some(origin) = response.get_combined(Cors::AllowOrigin) else {
        return Reason::fail(ErrorKind::MissingAllowOrigin, RuleId::R31);
    };
    let origin: &[u8] = &origin;
    // R32: not include, and `*`: success.
    if credentials != CredentialsMode::Include && origin == b"*" {
        return Reason::ok(RuleId::R32);
    }
    // R33: the byte-serialized request origin must equal origin, byte for byte.
    if !eq_bytes(serialized_origin.as_bytes(), origin) {
        let several =
            response.cors_values(Cors::AllowOrigin).nth(1).is_some() || origin.contains(&b',');
        let kind = if several {
            ErrorKind::MultipleAllowOrigin
        } else if origin == b"*" {
            ErrorKind::WildcardWithCredentials
        } else {
            ErrorKind::AllowOriginMismatch
        };
        return Reason::fail(
            kind,
            if origin == b"null" {
                RuleId::R34
            } else {
                RuleId::R33
            },
        );
    }
    // R35: without credentials, success.
    if credentials != CredentialsMode::Include {
        return Reason::ok(RuleId::R33);
    }
    // A defect planted on purpose for the test that `--confirm` catches the oracle's
    // mistakes (the `planted-defect` feature, active only with CORSPROOF_PLANTED_DEFECT=1):
    // R35 skipped, so a credentialed read is granted without ACAC.
    #[cfg(feature = "planted-defect")]
    if crate::planted::active() {
        return Reason::ok(RuleId::R35);
    }
    // R35: with credentials, ACAC must be exactly `true`.
    match response.get_combined(Cors::AllowCredentials) {
        Some(v) if &*v == b"true" => Reason::ok(RuleId::R35),
        _ => Reason::fail(ErrorKind::AllowCredentialsNotTrue, RuleId::R35),
    }
}
