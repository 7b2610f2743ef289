//! The raw HTTP/1.1 side of the scripted server: request heads read with bounds, answers
//! written byte for byte as a case prescribes (duplicate lines, odd whitespace and odd
//! statuses survive, unlike with an HTTP library that normalizes them).

use std::io::{self, BufRead, Read, Write};

/// Longest request head accepted (request line and header lines).
pub const MAX_HEAD: usize = 64 * 1024;
/// Longest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// An answer exactly as written on the wire.
///
/// ```
/// use corsproof_browser::wire::RawAnswer;
/// let a = RawAnswer::new(204, vec![("ACAO".into(), " * ".into()), ("ACAO".into(), "x".into())]);
/// let mut out = Vec::new();
/// a.write_to(&mut out).unwrap();
/// assert_eq!(out, b"HTTP/1.1 204 No Content\r\nACAO:  * \r\nACAO: x\r\n\r\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAnswer {
    /// Status code (three digits).
    pub status: u16,
    /// Header lines in order: name and value (characters up to U+00FF, written as bytes).
    pub headers: Vec<(String, String)>,
}

impl RawAnswer {
    /// An answer; `Content-Length: 0` is appended unless the status has no body (204, 304)
    /// or the headers frame the body themselves.
    pub fn new(status: u16, mut headers: Vec<(String, String)>) -> RawAnswer {
        let framed = headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding")
        });
        if !framed && !no_body(status) {
            headers.push(("Content-Length".into(), "0".into()));
        }
        RawAnswer { status, headers }
    }

    /// The headers as an HTTP/1.1 parser (a browser's) delivers them: values without leading
    /// and trailing spaces and tabs (RFC 9110 §5.5 OWS).
    pub fn parsed_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.clone(), v.trim_matches([' ', '\t']).to_string()))
            .collect()
    }

    /// The body that honours the answer's own framing: `Content-Length: N` (a number up to
    /// [`MAX_BODY`]) gets N bytes, `Transfer-Encoding: chunked` the last chunk; else empty.
    pub fn body(&self) -> Vec<u8> {
        if no_body(self.status) {
            return Vec::new();
        }
        for (n, v) in &self.headers {
            if n.eq_ignore_ascii_case("transfer-encoding")
                && v.to_ascii_lowercase().contains("chunked")
            {
                return b"0\r\n\r\n".to_vec();
            }
        }
        for (n, v) in &self.headers {
            if n.eq_ignore_ascii_case("content-length") {
                if let Ok(len) = v.trim().parse::<usize>() {
                    return vec![b'x'; len.min(MAX_BODY)];
                }
            }
        }
        Vec::new()
    }

    /// Writes the status line, the header lines as given (one space after the colon), the
    /// blank line and [`RawAnswer::body`].
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(
            format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).as_bytes(),
        );
        for (n, v) in &self.headers {
            latin1(n, &mut buf);
            buf.extend_from_slice(b": ");
            latin1(v, &mut buf);
            buf.extend_from_slice(b"\r\n");
        }
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(&self.body());
        out.write_all(&buf)
    }
}

/// Statuses whose responses never carry a body.
pub fn no_body(status: u16) -> bool {
    status == 204 || status == 304 || (100..200).contains(&status)
}

fn latin1(s: &str, out: &mut Vec<u8>) {
    // Characters above U+00FF were refused when the case was built; `?` keeps the line
    // well-formed should one slip through.
    out.extend(
        s.chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
    );
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        _ => "Scripted",
    }
}

/// A request as it reached the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRequest {
    /// The method, as sent.
    pub method: String,
    /// The request target.
    pub target: String,
    /// Header lines in order (values decoded as Latin-1, trimmed).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The request line and every header line exactly as received (bytes decoded as
    /// Latin-1, line ends removed), in order.
    pub raw_lines: Vec<String>,
}

impl RawRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The connection ended cleanly before a request started.
    #[error("connection closed")]
    Closed,
    /// An I/O error or timeout.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Not an HTTP/1.1 request the server accepts.
    #[error("malformed request: {0}")]
    Malformed(String),
}

/// Reads one request (head bounded by [`MAX_HEAD`], body by `Content-Length` up to
/// [`MAX_BODY`]; chunked bodies are refused).
///
/// ```
/// use corsproof_browser::wire::read_request;
/// let mut input: &[u8] = b"OPTIONS /c/1 HTTP/1.1\r\nHost: x\r\nAccess-Control-Request-Method: PUT\r\n\r\n";
/// let r = read_request(&mut input).unwrap();
/// assert_eq!(r.method, "OPTIONS");
/// assert_eq!(r.header("access-control-request-method"), Some("PUT"));
/// assert_eq!(r.raw_lines, ["OPTIONS /c/1 HTTP/1.1", "Host: x", "Access-Control-Request-Method: PUT"]);
/// assert!(read_request(&mut &b"GET /\r\n\r\n"[..]).is_err());
/// ```
pub fn read_request(r: &mut impl BufRead) -> Result<RawRequest, ReadError> {
    let head = read_head(r)?;
    let mut req = parse_head(&head)?;
    if req.header("transfer-encoding").is_some() {
        return Err(ReadError::Malformed(
            "chunked request bodies are not supported".into(),
        ));
    }
    if let Some(len) = req.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| ReadError::Malformed(format!("Content-Length {len:?}")))?;
        if len > MAX_BODY {
            return Err(ReadError::Malformed(format!(
                "body of {len} bytes is over {MAX_BODY}"
            )));
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        req.body = body;
    }
    Ok(req)
}

/// The request head up to and including the empty line that ends it (stray empty lines
/// before it skipped), at most [`MAX_HEAD`] bytes.
fn read_head(r: &mut impl BufRead) -> Result<Vec<u8>, ReadError> {
    let mut head: Vec<u8> = Vec::with_capacity(1024);
    loop {
        let before = head.len();
        let n = r
            .by_ref()
            .take((MAX_HEAD + 1 - head.len()) as u64)
            .read_until(b'\n', &mut head)?;
        if n == 0 {
            return if head.is_empty() {
                Err(ReadError::Closed)
            } else {
                Err(ReadError::Malformed(
                    "connection closed inside the request head".into(),
                ))
            };
        }
        if head.len() > MAX_HEAD {
            return Err(ReadError::Malformed(format!(
                "request head longer than {MAX_HEAD} bytes"
            )));
        }
        let line = &head[before..];
        if before == 0 && (line == b"\r\n" || line == b"\n") {
            // Tolerate a stray empty line before a request (RFC 9112 §2.2).
            head.clear();
            continue;
        }
        if line == b"\r\n" || line == b"\n" {
            return Ok(head);
        }
    }
}

/// The request line and header lines of a head (bytes taken as Latin-1), no body yet.
fn parse_head(head: &[u8]) -> Result<RawRequest, ReadError> {
    let text: String = head.iter().map(|&b| char::from(b)).collect();
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed(format!(
            "request line {request_line:?}"
        )));
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || target.is_empty() {
        return Err(ReadError::Malformed(format!(
            "request line {request_line:?}"
        )));
    }
    let mut headers = Vec::new();
    let mut raw_lines = vec![request_line.to_string()];
    for line in lines.filter(|l| !l.is_empty()) {
        raw_lines.push(line.to_string());
        let Some((n, v)) = line.split_once(':') else {
            return Err(ReadError::Malformed(format!(
                "header line {line:?} has no colon"
            )));
        };
        headers.push((n.to_string(), v.trim_matches([' ', '\t']).to_string()));
    }
    Ok(RawRequest {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body: Vec::new(),
        raw_lines,
    })
}

/// Writes a plain answer with a body (for the page origin's own routes).
pub fn write_plain(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> io::Result<()> {
    let mut buf = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\r\n",
        reason(status),
        body.len()
    )
    .into_bytes();
    buf.extend_from_slice(body);
    out.write_all(&buf)
}
