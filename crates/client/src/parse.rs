//! The pure, incremental HTTP/1.1 response parser.

use crate::request::is_tchar;
use crate::Error;

/// Size bounds on a response. A response beyond any of them is refused with
/// [`ParseError::TooLarge`] as soon as the excess is seen, so memory stays bounded whatever
/// the server sends.
///
/// ```
/// use corsproof_client::Limits;
/// let l = Limits::default();
/// assert_eq!((l.max_header_bytes, l.max_headers, l.max_body), (64 * 1024, 256, 1024 * 1024));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the header section: status line and fields, including any 1xx interim
    /// responses before the final one (default 64 KiB). Also bounds a chunked body's trailers.
    pub max_header_bytes: usize,
    /// Header fields in one response (default 256). Also bounds a chunked body's trailers.
    pub max_headers: usize,
    /// Bytes of the (decoded) body (default 1 MiB).
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 64 * 1024,
            max_headers: 256,
            max_body: 1024 * 1024,
        }
    }
}

/// Longest accepted chunk-size line (size and extensions).
const MAX_CHUNK_LINE: usize = 4096;
/// At most this many interim (1xx) responses are skipped before the final one.
const MAX_INTERIM: usize = 32;

/// A response exactly as the server sent it.
///
/// ```
/// use corsproof_client::{parse_response, Limits};
/// let wire = b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\naccess-control-allow-origin:  https://a.test \r\nContent-Length: 0\r\n\r\n";
/// let (res, used) = parse_response(wire, Limits::default()).unwrap();
/// assert_eq!(used, wire.len());
/// let acao: Vec<&[u8]> = res.header_values(b"Access-Control-Allow-Origin").collect();
/// assert_eq!(acao, [&b"*"[..], b"https://a.test"]);
/// assert_eq!(res.headers[1].0, b"access-control-allow-origin"); // original case kept
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The reason phrase (possibly empty).
    pub reason: Vec<u8>,
    /// Header fields in order, duplicates and original name case kept; values trimmed of
    /// leading and trailing SP/HT.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The body, de-chunked when sent with chunked transfer-encoding.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The values of every field named `name` (ASCII case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The value of the first field named `name` (ASCII case-insensitive).
    pub fn header<'a>(&'a self, name: &'a [u8]) -> Option<&'a [u8]> {
        self.header_values(name).next()
    }
}

/// What the parser must know about the exchange beyond the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseContext {
    /// The request was `HEAD`: the response has no body whatever its fields say.
    pub head_request: bool,
    /// The connection is closed after these bytes: a body delimited by the close ends here.
    pub eof: bool,
}

/// Why bytes are not (yet) a complete response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// More bytes are needed.
    #[error("incomplete response")]
    Incomplete,
    /// The bytes are not a valid HTTP/1.1 response.
    #[error("malformed response: {what}")]
    Malformed {
        /// What is wrong, with an escaped excerpt of the offending bytes.
        what: String,
    },
    /// A part of the response exceeds its limit.
    #[error("response too large: {what} exceeds {limit}")]
    TooLarge {
        /// The part: `header section`, `header count`, `body`, `chunk size line`,
        /// `chunk framing`, `trailer section`, `trailer count`.
        what: &'static str,
        /// The limit it exceeded.
        limit: usize,
    },
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::Incomplete => Error::Closed { during: "response" },
            ParseError::Malformed { what } => Error::Malformed { what },
            ParseError::TooLarge { what, limit } => Error::TooLarge { what, limit },
        }
    }
}

/// Parses one response (after skipping any 1xx interim responses other than 101) from the
/// start of `bytes`, as the answer to a non-`HEAD` request on a connection still open.
/// Returns the response and how many bytes it took; [`ParseError::Incomplete`] when more
/// bytes are needed. Never panics, whatever the input.
///
/// ```
/// use corsproof_client::{parse_response, Limits, ParseError};
/// let wire = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n\
///              HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
/// let (res, used) = parse_response(wire, Limits::default()).unwrap();
/// assert_eq!((res.status, &res.body[..], used), (200, &b"hi"[..], wire.len()));
/// assert_eq!(parse_response(&wire[..wire.len() - 1], Limits::default()), Err(ParseError::Incomplete));
/// ```
pub fn parse_response(bytes: &[u8], limits: Limits) -> Result<(RawResponse, usize), ParseError> {
    parse_response_with(bytes, limits, ResponseContext::default())
}

/// [`parse_response`] for a given [`ResponseContext`] (a `HEAD` request, or end of stream).
///
/// ```
/// use corsproof_client::{parse_response_with, Limits, ResponseContext};
/// let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
/// let ctx = ResponseContext { head_request: true, eof: false };
/// let (res, used) = parse_response_with(wire, Limits::default(), ctx).unwrap();
/// assert!(res.body.is_empty());
/// assert_eq!(used, wire.len());
/// ```
pub fn parse_response_with(
    bytes: &[u8],
    limits: Limits,
    ctx: ResponseContext,
) -> Result<(RawResponse, usize), ParseError> {
    parse(bytes, limits, ctx, &mut 0).map(|p| (p.response, p.consumed))
}

/// A parsed response with what the connection needs to know.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) response: RawResponse,
    pub(crate) consumed: usize,
    /// The connection may carry another request after this response.
    pub(crate) keep_alive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(usize),
    Chunked,
    UntilClose,
}

struct Head {
    minor: u8,
    status: u16,
    reason: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    end: usize,
}

/// [`parse_response_with`], also telling the caller, when the response is incomplete, how many
/// bytes the buffer must hold before another attempt can make progress (`need`), so that a
/// large body is not re-parsed on every read.
pub(crate) fn parse(
    bytes: &[u8],
    limits: Limits,
    ctx: ResponseContext,
    need: &mut usize,
) -> Result<Parsed, ParseError> {
    *need = bytes.len().saturating_add(1);
    let mut start = 0;
    let mut interim = 0;
    let head = loop {
        let head = parse_head(bytes, start, limits)?;
        if (100..200).contains(&head.status) && head.status != 101 {
            interim += 1;
            if interim > MAX_INTERIM {
                return Err(malformed("more than 32 interim (1xx) responses", b""));
            }
            start = head.end;
            continue;
        }
        break head;
    };
    let (framing, ambiguous) = framing(&head, limits, ctx)?;
    let (body, consumed) = match framing {
        Framing::Empty => (Vec::new(), head.end),
        Framing::Length(n) => {
            if bytes.len() - head.end < n {
                *need = head.end + n;
                return Err(ParseError::Incomplete);
            }
            (bytes[head.end..head.end + n].to_vec(), head.end + n)
        }
        Framing::Chunked => parse_chunked(bytes, head.end, limits, need)?,
        Framing::UntilClose => {
            let rest = &bytes[head.end..];
            if rest.len() > limits.max_body {
                return Err(too_large("body", limits.max_body));
            }
            if !ctx.eof {
                return Err(ParseError::Incomplete);
            }
            (rest.to_vec(), bytes.len())
        }
    };
    let keep_alive =
        framing != Framing::UntilClose && !ambiguous && head.status != 101 && persistent(&head);
    Ok(Parsed {
        response: RawResponse {
            status: head.status,
            reason: head.reason,
            headers: head.headers,
            body,
        },
        consumed,
        keep_alive,
    })
}

/// RFC 9112 §9.3: whether the connection persists after this response.
fn persistent(head: &Head) -> bool {
    let mut close = false;
    let mut keep_alive = false;
    for v in values(&head.headers, b"connection") {
        for token in v.split(|&b| b == b',').map(trim) {
            close |= token.eq_ignore_ascii_case(b"close");
            keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    !close && (head.minor >= 1 || keep_alive)
}

/// RFC 9112 §6.3: how the body is delimited; `true` when both Transfer-Encoding and
/// Content-Length were sent (the connection must not be reused).
fn framing(
    head: &Head,
    limits: Limits,
    ctx: ResponseContext,
) -> Result<(Framing, bool), ParseError> {
    let te: Vec<&[u8]> = values(&head.headers, b"transfer-encoding").collect();
    let cl: Vec<&[u8]> = values(&head.headers, b"content-length").collect();
    let ambiguous = !te.is_empty() && !cl.is_empty();
    if ctx.head_request || head.status < 200 || head.status == 204 || head.status == 304 {
        return Ok((Framing::Empty, ambiguous));
    }
    if !te.is_empty() {
        let last = te
            .iter()
            .flat_map(|v| v.split(|&b| b == b','))
            .map(trim)
            .rfind(|t| !t.is_empty())
            .unwrap_or(b"");
        let framing = if last.eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::UntilClose
        };
        return Ok((framing, ambiguous));
    }
    if cl.is_empty() {
        return Ok((Framing::UntilClose, false));
    }
    let mut length: Option<u64> = None;
    for item in cl.iter().flat_map(|v| v.split(|&b| b == b',')).map(trim) {
        let n = parse_decimal(item).ok_or_else(|| malformed("Content-Length", item))?;
        if length.is_some_and(|l| l != n) {
            return Err(malformed(
                "conflicting Content-Length values",
                cl.join(&b","[..]).as_slice(),
            ));
        }
        length = Some(n);
    }
    let n = length.unwrap_or(0);
    if n > limits.max_body as u64 {
        return Err(too_large("body", limits.max_body));
    }
    Ok((Framing::Length(n as usize), false))
}

fn parse_head(bytes: &[u8], start: usize, limits: Limits) -> Result<Head, ParseError> {
    let cap = limits.max_header_bytes;
    // Refuse a stream that cannot be HTTP/1.x as soon as its first bytes are in.
    let avail = &bytes[start.min(bytes.len())..];
    let prefix = b"HTTP/1.";
    let n = avail.len().min(prefix.len());
    if avail[..n] != prefix[..n] {
        return Err(malformed("status line", avail));
    }
    let (line, mut pos) = next_line(bytes, start, cap, "header section", cap)?;
    let (minor, status, reason) = status_line(line)?;
    let mut headers = Vec::new();
    loop {
        let (line, next) = next_line(bytes, pos, cap, "header section", cap)?;
        pos = next;
        if line.is_empty() {
            break;
        }
        if headers.len() == limits.max_headers {
            return Err(too_large("header count", limits.max_headers));
        }
        headers.push(field(line)?);
    }
    Ok(Head {
        minor,
        status,
        reason,
        headers,
        end: pos,
    })
}

/// The line starting at `pos` (without its LF or CRLF) and the position after it, looking no
/// further than `cap`.
fn next_line<'a>(
    bytes: &'a [u8],
    pos: usize,
    cap: usize,
    what: &'static str,
    limit: usize,
) -> Result<(&'a [u8], usize), ParseError> {
    let end = bytes.len().min(cap);
    let window = bytes.get(pos..end).unwrap_or(b"");
    match window.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let line = &window[..i];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            Ok((line, pos + i + 1))
        }
        None if bytes.len() >= cap => Err(too_large(what, limit)),
        None => Err(ParseError::Incomplete),
    }
}

fn status_line(line: &[u8]) -> Result<(u8, u16, Vec<u8>), ParseError> {
    let bad = || malformed("status line", line);
    let rest = line.strip_prefix(b"HTTP/1.").ok_or_else(bad)?;
    let (&minor, rest) = rest.split_first().ok_or_else(bad)?;
    let rest = rest.strip_prefix(b" ").ok_or_else(bad)?;
    if !minor.is_ascii_digit() || rest.len() < 3 || !rest[..3].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let status = rest[..3]
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    if status < 100 {
        return Err(bad());
    }
    let reason = match &rest[3..] {
        [] => &[][..],
        [b' ', reason @ ..] => reason,
        _ => return Err(bad()),
    };
    if reason.iter().any(|&b| b == 0 || b == b'\r') {
        return Err(bad());
    }
    Ok((minor - b'0', status, reason.to_vec()))
}

fn field(line: &[u8]) -> Result<(Vec<u8>, Vec<u8>), ParseError> {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return Err(malformed("obsolete line folding", line));
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(|| malformed("header line without a colon", line))?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(malformed("header name", line));
    }
    let value = trim(&line[colon + 1..]);
    if value.iter().any(|&b| b == 0 || b == b'\r') {
        return Err(malformed("header value", line));
    }
    Ok((name.to_vec(), value.to_vec()))
}

/// A chunked body starting at `start`: the decoded body and the position after the trailers.
fn parse_chunked(
    bytes: &[u8],
    start: usize,
    limits: Limits,
    need: &mut usize,
) -> Result<(Vec<u8>, usize), ParseError> {
    // Chunk-size lines and CRLFs may not cost more than the body itself plus some slack.
    let framing_limit = limits.max_body.saturating_mul(2).saturating_add(64 * 1024);
    let mut body = Vec::new();
    let mut pos = start;
    loop {
        if pos - start > framing_limit {
            return Err(too_large("chunk framing", framing_limit));
        }
        let cap = pos.saturating_add(MAX_CHUNK_LINE);
        let (line, next) = next_line(bytes, pos, cap, "chunk size line", MAX_CHUNK_LINE)?;
        let size_part = trim(line.split(|&b| b == b';').next().unwrap_or(b""));
        let size = parse_hex(size_part).ok_or_else(|| malformed("chunk size", line))?;
        pos = next;
        if size == 0 {
            return parse_trailers(bytes, pos, limits).map(|end| (body, end));
        }
        let room = (limits.max_body - body.len()) as u64;
        if size > room {
            return Err(too_large("body", limits.max_body));
        }
        let size = size as usize;
        let Some(data) = pos.checked_add(size).and_then(|end| bytes.get(pos..end)) else {
            *need = pos.saturating_add(size).saturating_add(1);
            return Err(ParseError::Incomplete);
        };
        body.extend_from_slice(data);
        pos += size;
        pos += match bytes.get(pos..(pos + 2).min(bytes.len())) {
            Some(b"\r\n") => 2,
            Some([b'\n', ..]) => 1,
            Some(b"\r") | Some([]) | None => return Err(ParseError::Incomplete),
            Some(other) => return Err(malformed("chunk data not followed by CRLF", other)),
        };
    }
}

/// The trailer section of a chunked body (fields are checked, then dropped).
fn parse_trailers(bytes: &[u8], mut pos: usize, limits: Limits) -> Result<usize, ParseError> {
    let cap = pos.saturating_add(limits.max_header_bytes);
    let mut count = 0;
    loop {
        let (line, next) = next_line(bytes, pos, cap, "trailer section", limits.max_header_bytes)?;
        pos = next;
        if line.is_empty() {
            return Ok(pos);
        }
        count += 1;
        if count > limits.max_headers {
            return Err(too_large("trailer count", limits.max_headers));
        }
        field(line)?;
    }
}

fn values<'a>(
    headers: &'a [(Vec<u8>, Vec<u8>)],
    name: &'a [u8],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 18 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |acc, d| acc * 10 + u64::from(d - b'0')))
}

fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 15 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &d| {
        let v = (d as char).to_digit(16)?;
        Some(acc * 16 + u64::from(v))
    })
}

fn malformed(what: &str, bytes: &[u8]) -> ParseError {
    ParseError::Malformed {
        what: format!("{what}: \"{}\"", excerpt(bytes)),
    }
}

fn too_large(what: &'static str, limit: usize) -> ParseError {
    ParseError::TooLarge { what, limit }
}

/// At most 48 bytes of `bytes`, escaped for an error message.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(48)];
    let mut s = shown.escape_ascii().to_string();
    if bytes.len() > shown.len() {
        s.push_str("...");
    }
    s
}
