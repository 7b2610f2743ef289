//! Header bytes in JSON. A header line is bytes; JSON holds text. The report spells each byte as
//! the Unicode code point of the same number (Latin-1, the isomorphic decoding of Fetch), so
//! that every byte string has exactly one spelling and every spelling one byte string; a code
//! point above U+00FF in a report being read back is an error naming it.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The text of `bytes`, one character per byte.
///
/// ```
/// assert_eq!(corsproof_report::latin1::decode(b"caf\xe9"), "café");
/// ```
pub fn decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The bytes of `text`, or the first character above U+00FF.
///
/// ```
/// assert_eq!(corsproof_report::latin1::encode("café"), Ok(b"caf\xe9".to_vec()));
/// assert_eq!(corsproof_report::latin1::encode("€"), Err('€'));
/// ```
pub fn encode(text: &str) -> Result<Vec<u8>, char> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| c))
        .collect()
}

fn from_text<'de, D: Deserializer<'de>>(text: &str) -> Result<Vec<u8>, D::Error> {
    encode(text).map_err(|c| {
        D::Error::custom(format!(
            "{c:?} (U+{:04X}) in {text:?} is not a byte: header text holds characters up to U+00FF",
            u32::from(c)
        ))
    })
}

/// Serde for `Vec<u8>` as Latin-1 text (`#[serde(with = "latin1::bytes")]`).
pub mod bytes {
    use super::*;

    /// Serializes `bytes` as text.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&decode(bytes))
    }

    /// Deserializes text as bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        from_text::<D>(&text)
    }
}

/// Header lines: (name, value) byte pairs, in order.
pub type Lines = Vec<(Vec<u8>, Vec<u8>)>;

/// Serde for header lines ([`Lines`]) as `[[name, value], ...]` of Latin-1
/// text (`#[serde(with = "latin1::lines")]`).
pub mod lines {
    use super::*;

    /// Serializes header lines as pairs of text.
    pub fn serialize<S: Serializer>(lines: &[(Vec<u8>, Vec<u8>)], s: S) -> Result<S::Ok, S::Error> {
        let text: Vec<(String, String)> =
            lines.iter().map(|(n, v)| (decode(n), decode(v))).collect();
        text.serialize(s)
    }

    /// Deserializes pairs of text as header lines.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Lines, D::Error> {
        let text = Vec::<(String, String)>::deserialize(d)?;
        text.iter()
            .map(|(n, v)| Ok((from_text::<D>(n)?, from_text::<D>(v)?)))
            .collect()
    }
}
