//! A request, written byte for byte as the caller built it.

use crate::Error;

/// An HTTP/1.1 request: method, target (path and query) and header fields as an ordered list of
/// byte pairs. Duplicates are allowed and written exactly as given, in order.
///
/// When written, `Host` is added if absent, `Connection: keep-alive` if no `Connection` field
/// is given, and `Content-Length` if there is a body and no `Content-Length` field.
///
/// ```
/// use corsproof_client::Request;
/// let req = Request::new("OPTIONS", "/api?x=1")
///     .header("Origin", "https://app.example.com")
///     .header("Access-Control-Request-Method", "PUT");
/// let mut out = Vec::new();
/// req.encode(b"api.example.com", &mut out).unwrap();
/// assert_eq!(
///     out,
///     b"OPTIONS /api?x=1 HTTP/1.1\r\n\
///       Origin: https://app.example.com\r\n\
///       Access-Control-Request-Method: PUT\r\n\
///       Host: api.example.com\r\n\
///       Connection: keep-alive\r\n\r\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `GET` (case kept: `get` is sent as `get`).
    pub method: Vec<u8>,
    /// The request target: path and query, e.g. `/api/items?x=1`.
    pub target: Vec<u8>,
    /// Header fields in order; duplicates allowed.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// An optional small body, sent with `Content-Length`.
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// A request with no header fields and no body.
    pub fn new(method: impl Into<Vec<u8>>, target: impl Into<Vec<u8>>) -> Self {
        Request {
            method: method.into(),
            target: target.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Appends a header field (after any with the same name).
    #[must_use]
    pub fn header(mut self, name: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Whether the request is a HEAD request (its response has no body).
    pub fn is_head(&self) -> bool {
        self.method == b"HEAD"
    }

    /// Whether the method is idempotent (RFC 9110 §9.2.2), so it may be retried on a new
    /// connection when a kept-alive one turns out to be closed.
    ///
    /// ```
    /// use corsproof_client::Request;
    /// assert!(Request::new("OPTIONS", "/").is_idempotent());
    /// assert!(!Request::new("POST", "/").is_idempotent());
    /// ```
    pub fn is_idempotent(&self) -> bool {
        matches!(
            &self.method[..],
            b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE" | b"PUT" | b"DELETE"
        )
    }

    fn has_header(&self, name: &[u8]) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Appends the request's bytes to `out`, with `host` as the `Host` value when the request
    /// has none. Fails, writing nothing, when a method, target or field would break framing.
    pub fn encode(&self, host: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.method.is_empty() || !self.method.iter().all(|&b| is_tchar(b)) {
            return Err(invalid("method", &self.method));
        }
        if self.target.is_empty() || !self.target.iter().all(|&b| (0x21..=0x7e).contains(&b)) {
            return Err(invalid("request target", &self.target));
        }
        for (name, value) in &self.headers {
            if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
                return Err(invalid("header name", name));
            }
            if value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
                return Err(invalid("header value", value));
            }
        }
        if host.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(invalid("host", host));
        }
        out.extend_from_slice(&self.method);
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in &self.headers {
            push_field(out, name, value);
        }
        if !self.has_header(b"host") {
            push_field(out, b"Host", host);
        }
        if !self.has_header(b"connection") {
            push_field(out, b"Connection", b"keep-alive");
        }
        if let Some(body) = &self.body {
            if !self.has_header(b"content-length") {
                push_field(out, b"Content-Length", body.len().to_string().as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
        if let Some(body) = &self.body {
            out.extend_from_slice(body);
        }
        Ok(())
    }
}

fn push_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn invalid(what: &str, bytes: &[u8]) -> Error {
    Error::InvalidRequest {
        what: format!("{what} \"{}\"", super::parse::excerpt(bytes)),
    }
}

/// `tchar` of RFC 9110 §5.6.2: the bytes of a token (method, field name).
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// [`is_tchar`] of every byte, looked up rather than matched: every byte of every method and
/// field name sent and received goes through it.
static TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let symbols = b"!#$%&'*+-.^_`|~";
    let mut i = 0;
    while i < symbols.len() {
        table[symbols[i] as usize] = true;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::is_tchar;

    #[test]
    fn tchar_is_rfc_9110s_token_byte_set() {
        // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
        // / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
        let tokens: Vec<u8> = (0..=255u8).filter(|&b| is_tchar(b)).collect();
        let mut expected: Vec<u8> = b"!#$%&'*+-.^_`|~0123456789".to_vec();
        expected.extend(b'A'..=b'Z');
        expected.extend(b'a'..=b'z');
        expected.sort_unstable();
        assert_eq!(tokens, expected);
    }
}
