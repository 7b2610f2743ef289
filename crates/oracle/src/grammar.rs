//! Byte-level grammar shared by the oracle's algorithms: HTTP tokens, whitespace, the
//! isomorphic encoding, and the header-list value extraction of Fetch
//! (`#extract-header-list-values`, `#header-value-get-decode-and-split`).
//!
//! Everything here works on bytes, as the Fetch Standard does: header names and values are
//! byte sequences, compared byte-case-insensitively where the standard says so.

/// An RFC 9110 `tchar`: the bytes a token (header name, method) may contain.
///
/// ```
/// use corsproof_oracle::grammar::is_tchar;
/// assert!(is_tchar(b'!') && is_tchar(b'a') && !is_tchar(b' ') && !is_tchar(b','));
/// ```
#[inline]
pub fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// `tchar` as a table: ALPHA / DIGIT / one of ``!#$%&'*+-.^_`|~``.
const TCHAR: [bool; 256] = byte_table(b"!#$%&'*+-.^_`|~", true);

/// A table of the bytes in `listed`, plus ASCII letters and digits when `alphanumeric`.
pub(crate) const fn byte_table(listed: &[u8], alphanumeric: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = alphanumeric && (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < listed.len() {
        table[listed[i] as usize] = true;
        i += 1;
    }
    table
}

/// True when `bytes` is a non-empty token (RFC 9110 `token`).
///
/// ```
/// use corsproof_oracle::grammar::is_token;
/// assert!(is_token(b"X-Request-Id"));
/// assert!(!is_token(b"Bad value") && !is_token(b""));
/// ```
pub fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_tchar(b))
}

/// HTTP tab or space (0x09, 0x20).
pub fn is_tab_or_space(b: u8) -> bool {
    b == b'\t' || b == b' '
}

/// HTTP whitespace: tab, LF, CR, space.
pub fn is_http_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r' | b' ')
}

/// Strips leading and trailing bytes for which `pred` holds.
///
/// ```
/// use corsproof_oracle::grammar::{trim, is_tab_or_space};
/// assert_eq!(trim(b" \t*  ", is_tab_or_space), b"*");
/// ```
pub fn trim(bytes: &[u8], pred: fn(u8) -> bool) -> &[u8] {
    let start = bytes.iter().position(|&b| !pred(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !pred(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Byte-case-insensitive equality (ASCII letters only fold).
///
/// ```
/// assert!(corsproof_oracle::grammar::eq_ignore_case(b"Content-Type", b"content-type"));
/// ```
#[inline]
pub fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Eight bytes at a time, each word lowercased as a whole ([`ascii_lower_word`]). Both
    // sides have the same length, so the same bytes go into the same lanes: the last word
    // overlaps the one before, a short string is read as overlapping halves.
    if n < 8 {
        return ascii_lower_word(short_word(a)) == ascii_lower_word(short_word(b));
    }
    let mut i = 0;
    while i + 8 < n {
        if ascii_lower_word(word_at(a, i)) != ascii_lower_word(word_at(b, i)) {
            return false;
        }
        i += 8;
    }
    ascii_lower_word(word_at(a, n - 8)) == ascii_lower_word(word_at(b, n - 8))
}

/// Byte-for-byte equality, inlined and a word at a time: for the short strings of the hot
/// path (origins, URLs, header names), cheaper than a call to `memcmp`.
#[inline]
pub(crate) fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return short_word(a) == short_word(b);
    }
    let mut i = 0;
    while i + 8 < n {
        if word_at(a, i) != word_at(b, i) {
            return false;
        }
        i += 8;
    }
    word_at(a, n - 8) == word_at(b, n - 8)
}

/// The 8 bytes from `at` as a little-endian word (0 past the end).
#[inline]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..)
        .and_then(<[u8]>::first_chunk::<8>)
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// Every byte of a string shorter than 8 bytes in one word: its first and last 4 (or 2)
/// bytes, overlapping in the middle; two strings of one length are laid out alike.
#[inline]
fn short_word(bytes: &[u8]) -> u64 {
    if let (Some(head), Some(tail)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        u64::from(u32::from_le_bytes(*head)) | u64::from(u32::from_le_bytes(*tail)) << 32
    } else if let (Some(head), Some(tail)) = (bytes.first_chunk::<2>(), bytes.last_chunk::<2>()) {
        u64::from(u16::from_le_bytes(*head)) | u64::from(u16::from_le_bytes(*tail)) << 16
    } else {
        bytes.first().map_or(0, |&b| u64::from(b))
    }
}

/// `u8::to_ascii_lowercase` of each byte of a word at once: a byte from `A` to `Z` gains
/// 0x20, every other byte (non-ASCII included) is left as it is.
#[inline]
fn ascii_lower_word(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Each byte's low seven bits, plus a bias that carries into the byte's top bit exactly
    // when it is at least `A` (resp. more than `Z`); no sum crosses into the next byte.
    let low = w & (0x7f * ONES);
    let at_least_a = low + (0x80 - u64::from(b'A')) * ONES;
    let above_z = low + (0x80 - u64::from(b'Z') - 1) * ONES;
    // Bytes with the top bit set are not ASCII: never letters.
    let upper = at_least_a & !above_z & !w & (0x80 * ONES);
    w | (upper >> 2)
}

/// Compares two byte strings by their byte-lowercased form: the sort order Fetch uses for
/// `Access-Control-Request-Headers` (R18).
pub fn cmp_lowercase(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.iter()
        .map(u8::to_ascii_lowercase)
        .cmp(b.iter().map(u8::to_ascii_lowercase))
}

/// Isomorphic encoding of a string whose code points are all at most U+00FF, as the web
/// platform turns a JavaScript `ByteString` into bytes. `None` if a code point is larger.
///
/// ```
/// use corsproof_oracle::grammar::isomorphic_encode;
/// assert_eq!(isomorphic_encode("bb-8\u{ff}"), Some(b"bb-8\xff".to_vec()));
/// assert_eq!(isomorphic_encode("\u{100}"), None);
/// ```
pub fn isomorphic_encode(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Isomorphic decoding: every byte becomes the code point of the same value.
///
/// ```
/// assert_eq!(corsproof_oracle::grammar::isomorphic_decode(b"a\xff"), "a\u{ff}");
/// ```
pub fn isomorphic_decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The elements of a comma-separated header list value (RFC 9110 `#rule`) as Fetch's
/// "extract header list values" sees them, across every field line of one name: each
/// element trimmed of tab/space; empty elements skipped (R38, R53).
///
/// The iterator yields each element; callers validate them (`#method` / `#field-name`
/// elements must be tokens, and one invalid element makes the whole extraction fail).
///
/// ```
/// use corsproof_oracle::grammar::list_elements;
/// let lines: [&[u8]; 2] = [b",,PUT , GET", b" x"];
/// let v: Vec<&[u8]> = list_elements(lines.iter().copied()).collect();
/// assert_eq!(v, [&b"PUT"[..], b"GET", b"x"]);
/// ```
pub fn list_elements<'a, I>(lines: I) -> ListElements<'a, I>
where
    I: Iterator<Item = &'a [u8]>,
{
    ListElements { lines, rest: None }
}

/// The iterator of [`list_elements`]: a plain scan for commas, line after line.
#[derive(Debug, Clone)]
pub struct ListElements<'a, I> {
    lines: I,
    /// What is left of the current line, after the last comma taken.
    rest: Option<&'a [u8]>,
}

impl<'a, I> Iterator for ListElements<'a, I>
where
    I: Iterator<Item = &'a [u8]>,
{
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let rest = match self.rest {
                Some(rest) => rest,
                None => self.lines.next()?,
            };
            let (element, after) = match rest.iter().position(|&b| b == b',') {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            self.rest = after;
            let element = trim(element, is_tab_or_space);
            if !element.is_empty() {
                return Some(element);
            }
        }
    }
}

/// Fetch "get, decode, and split" (`#header-value-get-decode-and-split`) of one value:
/// splits on commas outside quoted strings and trims tab/space around each piece. A quoted
/// string is kept as written, quotes and backslashes included (the algorithm collects it
/// without extracting its value).
///
/// ```
/// use corsproof_oracle::grammar::decode_and_split;
/// assert_eq!(decode_and_split(b"GET,track "), vec![b"GET".to_vec(), b"track".to_vec()]);
/// assert_eq!(decode_and_split(b"\",TRACE\","), vec![b"\",TRACE\"".to_vec(), b"".to_vec()]);
/// ```
pub fn decode_and_split(value: &[u8]) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    let mut temporary = Vec::new();
    let mut i = 0;
    loop {
        // Step 5.1: collect code points that are not U+0022 (") or U+002C (,).
        while i < value.len() && value[i] != b'"' && value[i] != b',' {
            temporary.push(value[i]);
            i += 1;
        }
        // Step 5.2: a quoted string is collected as is (extract-value is false).
        if i < value.len() && value[i] == b'"' {
            let start = i;
            i += 1;
            while i < value.len() {
                match value[i] {
                    b'\\' => i = (i + 2).min(value.len()),
                    b'"' => {
                        i += 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
            temporary.extend_from_slice(&value[start..i]);
            if i < value.len() {
                continue;
            }
        }
        // Steps 5.3-5.5.
        values.push(trim(&temporary, is_tab_or_space).to_vec());
        temporary.clear();
        // Step 5.6.
        if i >= value.len() {
            return values;
        }
        // Steps 5.7-5.8: the code point at position is a comma.
        i += 1;
    }
}

/// Parses `delta-seconds` (`1*DIGIT`), saturating at `u64::MAX`. `None` on anything else
/// (empty, sign, whitespace inside, decimal point).
///
/// ```
/// use corsproof_oracle::grammar::parse_delta_seconds;
/// assert_eq!(parse_delta_seconds(b"600"), Some(600));
/// assert_eq!(parse_delta_seconds(b"-1"), None);
/// assert_eq!(parse_delta_seconds(b""), None);
/// ```
pub fn parse_delta_seconds(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::eq_bytes;

    /// `eq_bytes` agrees with `==` for every single-byte difference at every position of
    /// strings of the lengths that exercise its short, whole-word and overlapping-tail paths.
    #[test]
    fn eq_bytes_is_slice_equality() {
        for len in 0..=25usize {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(eq_bytes(&base, &base.clone()));
            assert!(!eq_bytes(&base, &base[..len.saturating_sub(1)]) || len == 0);
            for at in 0..len {
                for b in [0u8, b'A', b'z' ^ 0x20, 0x80, 0xff] {
                    let mut other = base.clone();
                    other[at] = b;
                    assert_eq!(eq_bytes(&base, &other), base == other, "{len} {at} {b:#x}");
                }
            }
        }
    }
}
