//! What a finding is about: its kind (`check`'s [`CheckKind`], `audit`'s [`AuditKind`]) and
//! how bad it is ([`Severity`]). Each kind has a stable word (its serde name, its `--allow`
//! value), a one-line meaning, and, for `check`, its severity and the rules that can decide it.

use corsproof_oracle::RuleId;
use serde::{Deserialize, Serialize};

/// How bad a finding is.
///
/// ```
/// use corsproof_report::Severity;
/// assert_eq!(serde_json::to_string(&Severity::Violation).unwrap(), "\"violation\"");
/// assert!(Severity::Violation < Severity::Hygiene); // most severe first
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The browser grants what the policy forbids (or, for `audit`, what no sane policy allows).
    Violation,
    /// The browser denies what the policy grants.
    Breakage,
    /// Malformed, duplicated or needlessly disclosed CORS headers, or a cache hazard that can
    /// only replay a denial.
    Hygiene,
}

impl Severity {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Violation => "violation",
            Severity::Breakage => "breakage",
            Severity::Hygiene => "hygiene",
        }
    }
}

/// Declares a kind enum with its words, meanings and the word table, from one list.
macro_rules! kinds {
    (
        $(#[$doc:meta])*
        $name:ident {
            $($(#[$vdoc:meta])* $variant:ident = $word:literal: $meaning:literal,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[serde(rename = $word)]
                #[cfg_attr(feature = "clap", value(name = $word))]
                $variant,
            )*
        }

        impl $name {
            /// Every kind, in the order reports list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable word.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)*
                }
            }

            /// A one-line meaning, for people.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $($name::$variant => $meaning,)*
                }
            }

            /// The kind spelled `word`.
            pub fn parse(word: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|k| k.as_str() == word)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

kinds! {
    /// A finding kind of `check`: how the browser's outcome on the target's real answers
    /// departs from the policy's intent, or what else is wrong with the answers.
    ///
    /// ```
    /// use corsproof_report::{CheckKind, Severity};
    /// assert_eq!(CheckKind::ReadDenied.as_str(), "read-denied");
    /// assert_eq!(CheckKind::ReadDenied.severity(), Severity::Breakage);
    /// assert_eq!(CheckKind::parse("missing-vary"), Some(CheckKind::MissingVary));
    /// assert_eq!(serde_json::to_string(&CheckKind::SentForbidden).unwrap(), "\"sent-forbidden\"");
    /// ```
    CheckKind {
        /// Readable though the intent says must not.
        ReadGranted = "read-granted": "script can read a response the policy does not grant",
        /// Sent though the intent says must not.
        SentForbidden = "sent-forbidden": "a non-simple request the policy refuses passes its preflight and is sent",
        /// A header visible that must not be.
        HeaderExposed = "header-exposed": "script can see a response header the policy does not expose",
        /// A preflight cached beyond `max_age`.
        CacheTooLong = "cache-too-long": "the browser caches a preflight longer than the policy's max_age",
        /// A storable answer without `Vary: Origin`, replayed by a cache to another origin,
        /// grants a read the policy refuses.
        MissingVary = "missing-vary": "a cached answer without Vary: Origin would let a refused origin read",
        /// Not readable though the intent says must.
        ReadDenied = "read-denied": "script cannot read a response the policy grants",
        /// A storable answer without `Vary: Origin`, replayed by a cache to another origin,
        /// denies a read the policy grants.
        MissingVaryDenial = "missing-vary-denial": "a cached answer without Vary: Origin would deny an allowed origin its read",
        /// Not sent though the intent says must.
        SentBlocked = "sent-blocked": "a request the policy allows is blocked (its preflight fails)",
        /// A header hidden that must be visible.
        HeaderHidden = "header-hidden": "a header the policy exposes is hidden from script",
        /// An ill-formed CORS header value.
        MalformedHeader = "malformed-header": "a CORS response header with an invalid value",
        /// A CORS header repeated where its lines combine into an invalid value.
        DuplicateHeader = "duplicate-header": "a CORS response header sent more than once",
        /// CORS details sent to an origin the policy refuses.
        DisclosedToRefused = "disclosed-to-refused": "CORS headers sent to an origin the policy refuses",
        /// `Access-Control-Max-Age` other than the policy's.
        MaxAgeMismatch = "max-age-mismatch": "Access-Control-Max-Age differs from the policy's max_age",
        /// Two targets of one policy disagree.
        Differential = "differential": "two targets of one policy give different browser outcomes",
    }
}

impl CheckKind {
    /// The severity of every finding of this kind.
    pub const fn severity(self) -> Severity {
        match self {
            CheckKind::ReadGranted
            | CheckKind::SentForbidden
            | CheckKind::HeaderExposed
            | CheckKind::CacheTooLong
            | CheckKind::MissingVary
            | CheckKind::Differential => Severity::Violation,
            CheckKind::ReadDenied
            | CheckKind::MissingVaryDenial
            | CheckKind::SentBlocked
            | CheckKind::HeaderHidden => Severity::Breakage,
            CheckKind::MalformedHeader
            | CheckKind::DuplicateHeader
            | CheckKind::DisclosedToRefused
            | CheckKind::MaxAgeMismatch => Severity::Hygiene,
        }
    }

    /// The rules (spec/SPEC.md) a finding of this kind can cite: the policy rule whose intent
    /// the browser departed from, the deployment property, or the grammar of the header.
    /// [`CheckKind::Differential`] cites the decisive browser rule of the first target's
    /// outcome, any rule.
    ///
    /// ```
    /// use corsproof_oracle::RuleId;
    /// use corsproof_report::CheckKind;
    /// assert_eq!(CheckKind::SentBlocked.rules(), [RuleId::P7]);
    /// assert!(CheckKind::MalformedHeader.rules().contains(&RuleId::R33));
    /// ```
    pub fn rules(self) -> &'static [RuleId] {
        const READ: &[RuleId] = &[
            RuleId::P3,
            RuleId::P4,
            RuleId::P5,
            RuleId::P6,
            RuleId::P8,
            RuleId::P11,
        ];
        const GRAMMAR: &[RuleId] = &[
            RuleId::R33,
            RuleId::R35,
            RuleId::R38,
            RuleId::R43,
            RuleId::R53,
            RuleId::R67,
        ];
        match self {
            CheckKind::ReadGranted | CheckKind::ReadDenied => READ,
            CheckKind::SentForbidden | CheckKind::SentBlocked => &[RuleId::P7],
            CheckKind::HeaderExposed | CheckKind::HeaderHidden => &[RuleId::P9],
            CheckKind::CacheTooLong => &[RuleId::P10],
            CheckKind::MissingVary | CheckKind::MissingVaryDenial => &[RuleId::H1],
            CheckKind::DisclosedToRefused => &[RuleId::H2],
            CheckKind::MaxAgeMismatch => &[RuleId::H3],
            CheckKind::MalformedHeader | CheckKind::DuplicateHeader => GRAMMAR,
            CheckKind::Differential => RuleId::ALL,
        }
    }
}

kinds! {
    /// A finding kind of `audit`, the policy-less scan: what no sane server grants.
    ///
    /// ```
    /// use corsproof_report::{AuditKind, Severity};
    /// assert_eq!(AuditKind::NullOrigin.as_str(), "null-origin");
    /// assert_eq!(AuditKind::AnySubdomain.ceiling(), Severity::Hygiene);
    /// assert_eq!(AuditKind::parse("read-granted"), None); // a `check` kind
    /// ```
    AuditKind {
        /// An unrelated origin is granted.
        OriginReflected = "origin-reflected": "any origin is trusted (the Origin is reflected)",
        /// `null` is granted.
        NullOrigin = "null-origin": "the `null` origin (sandboxed iframes, data: documents) is trusted",
        /// `https://SITE.evil.test` is granted.
        PrefixMatch = "prefix-match": "origins that only start with the site's origin are trusted",
        /// `https://evilDOMAIN` is granted.
        SuffixMatch = "suffix-match": "origins that only end with the site's domain are trusted",
        /// `https://evilHOST.evil.test` or a truncated host is granted.
        SubstringMatch = "substring-match": "origins that only contain (or are contained in) the site's host are trusted",
        /// A dot of the host replaced by `x` is granted.
        UnescapedDot = "unescaped-dot": "a dot of the site's host matches any character (unescaped regex dot)",
        /// `http://HOST` is granted to an https site.
        HttpOriginTrusted = "http-origin-trusted": "the https site's plain-http origin is trusted",
        /// `https://HOST_.evil.test` (or another special character) is granted.
        SpecialCharBypass = "special-char-bypass": "the site's host followed by a special character and another domain is trusted",
        /// A publish-anything platform origin is granted.
        ThirdPartyOrigin = "third-party-origin": "an origin on a platform where anyone can publish script is trusted",
        /// The attacker's preflight passes the CORS check.
        PreflightReflected = "preflight-reflected": "a preflight from an attacker's origin passes its CORS check",
        /// `https://evil.HOST` is granted.
        AnySubdomain = "any-subdomain": "any subdomain of the site is trusted",
        /// `Access-Control-Allow-Origin: *`.
        WildcardOrigin = "wildcard-origin": "Access-Control-Allow-Origin: * (every origin reads without credentials)",
        /// `*` with `Access-Control-Allow-Credentials: true`.
        WildcardWithCredentials = "wildcard-with-credentials": "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true",
        /// The answer varies with `Origin` without `Vary: Origin`.
        MissingVaryOrigin = "missing-vary-origin": "the CORS answer depends on Origin but the response lacks Vary: Origin",
        /// An origin outside the site's domain is named.
        UnrelatedOriginAllowed = "unrelated-origin-allowed": "an origin outside the site's domain is named in Access-Control-Allow-Origin",
        /// The preflight allows whatever method or header was asked for.
        PreflightEcho = "preflight-echo": "the preflight allows whatever method or header was asked for",
    }
}

impl AuditKind {
    /// The most severe a finding of this kind can be: [`Severity::Violation`] for a kind that
    /// is one when a credentialed read is granted to an origin outside the site (hygiene
    /// otherwise), [`Severity::Hygiene`] for the others.
    pub const fn ceiling(self) -> Severity {
        match self {
            AuditKind::AnySubdomain
            | AuditKind::WildcardOrigin
            | AuditKind::WildcardWithCredentials
            | AuditKind::MissingVaryOrigin
            | AuditKind::UnrelatedOriginAllowed
            | AuditKind::PreflightEcho => Severity::Hygiene,
            _ => Severity::Violation,
        }
    }

    /// The rules (spec/SPEC.md) a finding of this kind can cite: the CORS check's rule that
    /// grants the probe origin a read (R33, with credentials R35), `*` (R32) or refuses it
    /// with credentials (R33), the preflight's method or header check an echo satisfies (R40,
    /// R42), or cache safety (H1).
    ///
    /// ```
    /// use corsproof_oracle::RuleId;
    /// use corsproof_report::AuditKind;
    /// assert_eq!(AuditKind::MissingVaryOrigin.rules(), [RuleId::H1]);
    /// ```
    pub fn rules(self) -> &'static [RuleId] {
        match self {
            AuditKind::WildcardOrigin => &[RuleId::R32],
            AuditKind::WildcardWithCredentials | AuditKind::UnrelatedOriginAllowed => {
                &[RuleId::R33]
            }
            AuditKind::PreflightEcho => &[RuleId::R40, RuleId::R42],
            AuditKind::MissingVaryOrigin => &[RuleId::H1],
            _ => &[RuleId::R33, RuleId::R35],
        }
    }
}

/// A finding's kind: one of `check`'s or one of `audit`'s. Serialized as its word.
///
/// ```
/// use corsproof_report::{AuditKind, CheckKind, Kind};
/// let k: Kind = serde_json::from_str("\"null-origin\"").unwrap();
/// assert_eq!(k, Kind::Audit(AuditKind::NullOrigin));
/// assert_eq!(Kind::from(CheckKind::ReadGranted).as_str(), "read-granted");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A `check` kind.
    Check(CheckKind),
    /// An `audit` kind.
    Audit(AuditKind),
}

impl Kind {
    /// The stable word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Check(k) => k.as_str(),
            Kind::Audit(k) => k.as_str(),
        }
    }

    /// A one-line meaning, for people.
    pub const fn meaning(self) -> &'static str {
        match self {
            Kind::Check(k) => k.meaning(),
            Kind::Audit(k) => k.meaning(),
        }
    }

    /// The kind spelled `word` (`check`'s words first; the two sets do not overlap).
    pub fn parse(word: &str) -> Option<Kind> {
        CheckKind::parse(word)
            .map(Kind::Check)
            .or_else(|| AuditKind::parse(word).map(Kind::Audit))
    }
}

impl From<CheckKind> for Kind {
    fn from(k: CheckKind) -> Kind {
        Kind::Check(k)
    }
}

impl From<AuditKind> for Kind {
    fn from(k: AuditKind) -> Kind {
        Kind::Audit(k)
    }
}

impl PartialEq<CheckKind> for Kind {
    fn eq(&self, other: &CheckKind) -> bool {
        *self == Kind::Check(*other)
    }
}

impl PartialEq<AuditKind> for Kind {
    fn eq(&self, other: &AuditKind) -> bool {
        *self == Kind::Audit(*other)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Kind::parse(&word)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding kind {word:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_unique_across_both_sets() {
        let mut seen = std::collections::BTreeSet::new();
        for word in CheckKind::ALL
            .iter()
            .map(|k| k.as_str())
            .chain(AuditKind::ALL.iter().map(|k| k.as_str()))
        {
            assert!(seen.insert(word), "{word} twice");
            assert_eq!(Kind::parse(word).map(Kind::as_str), Some(word));
        }
    }

    #[test]
    fn serde_names_are_the_words() {
        for k in CheckKind::ALL {
            assert_eq!(
                serde_json::to_string(k).expect("serializes"),
                format!("\"{k}\"")
            );
            assert_eq!(
                serde_json::to_string(&Kind::from(*k)).expect("serializes"),
                format!("\"{k}\"")
            );
        }
        for k in AuditKind::ALL {
            assert_eq!(
                serde_json::to_string(k).expect("serializes"),
                format!("\"{k}\"")
            );
        }
    }
}
