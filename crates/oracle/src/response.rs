//! Responses as the oracle receives them: a status and a header list of byte pairs, field
//! values already stripped of leading and trailing whitespace as HTTP parsing does (R33).

use crate::grammar::{eq_ignore_case, is_tab_or_space, is_token, list_elements, trim};

/// The response headers the oracle consults by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cors {
    /// `Access-Control-Allow-Origin`
    AllowOrigin,
    /// `Access-Control-Allow-Credentials`
    AllowCredentials,
    /// `Access-Control-Allow-Methods`
    AllowMethods,
    /// `Access-Control-Allow-Headers`
    AllowHeaders,
    /// `Access-Control-Max-Age`
    MaxAge,
    /// `Access-Control-Expose-Headers`
    ExposeHeaders,
    /// `Access-Control-Allow-Private-Network`
    AllowPrivateNetwork,
    /// `Location`
    Location,
}

impl Cors {
    /// Every [`Cors`] header, in declaration order.
    pub const ALL: [Cors; 8] = [
        Cors::AllowOrigin,
        Cors::AllowCredentials,
        Cors::AllowMethods,
        Cors::AllowHeaders,
        Cors::MaxAge,
        Cors::ExposeHeaders,
        Cors::AllowPrivateNetwork,
        Cors::Location,
    ];

    /// The [`Cors`] header named `name` (byte-case-insensitive), if any.
    ///
    /// ```
    /// use corsproof_oracle::response::Cors;
    /// assert_eq!(Cors::of_name(b"Access-Control-Max-Age"), Some(Cors::MaxAge));
    /// assert_eq!(Cors::of_name(b"X-Max-Age"), None);
    /// ```
    pub fn of_name(name: &[u8]) -> Option<Cors> {
        Cors::ALL
            .into_iter()
            .find(|c| eq_ignore_case(c.name(), name))
    }

    /// This header's bit in a response's presence mask.
    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// The header name, lowercase.
    pub fn name(self) -> &'static [u8] {
        match self {
            Cors::AllowOrigin => b"access-control-allow-origin",
            Cors::AllowCredentials => b"access-control-allow-credentials",
            Cors::AllowMethods => b"access-control-allow-methods",
            Cors::AllowHeaders => b"access-control-allow-headers",
            Cors::MaxAge => b"access-control-max-age",
            Cors::ExposeHeaders => b"access-control-expose-headers",
            Cors::AllowPrivateNetwork => b"access-control-allow-private-network",
            Cors::Location => b"location",
        }
    }
}

/// A response to a preflight or an actual request.
///
/// ```
/// use corsproof_oracle::{response::Cors, Response};
/// let r = Response::new(200, [("Access-Control-Allow-Origin", " * ")]);
/// assert_eq!(r.get_combined(Cors::AllowOrigin).as_deref(), Some(&b"*"[..]));
/// assert_eq!(r.headers()[0].1, b"*");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Per header line, the [`Cors`] header it is, classified once at construction so that
    /// the algorithms look their headers up without comparing names again.
    kinds: Vec<Option<Cors>>,
    /// One bit per [`Cors`] header present ([`Cors::bit`]).
    present: u16,
    /// One bit per [`Cors`] header with more than one field line.
    several: u16,
    /// Per [`Cors`] header present, the index of its first field line (0 when absent: read
    /// only under a `present` bit), so that a lookup starts there instead of at the top.
    first: [u32; 8],
    /// The elements of every [`Cors`] header's field lines as Fetch's "extract header list
    /// values" splits them ([`list_elements`]), found once: copied end to end into
    /// `element_bytes`, here as (start, end) ranges of it, header after header, each
    /// header's in order.
    elements: Vec<(usize, usize)>,
    /// The bytes of the elements.
    element_bytes: Vec<u8>,
    /// Per [`Cors`] header, its range in `elements`.
    element_spans: [(usize, usize); 8],
    /// One bit per [`Cors`] header with an element that is not a token (R38, R53); clear
    /// (every element a token) for a header without elements, and in `Response::default()`.
    not_tokens: u16,
}

impl Response {
    /// A response from name/value pairs (values are trimmed of SP/HT).
    pub fn new<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        status: u16,
        headers: impl IntoIterator<Item = (N, V)>,
    ) -> Response {
        let headers: Vec<(Vec<u8>, Vec<u8>)> = headers
            .into_iter()
            .map(|(n, v)| (n.as_ref().to_vec(), v.as_ref().to_vec()))
            .collect();
        Response::from_lines(status, headers)
    }

    /// [`Response::new`] of lines the caller owns, which the response keeps as they are
    /// (values trimmed of SP/HT): no line is copied.
    ///
    /// ```
    /// use corsproof_oracle::Response;
    /// let lines = vec![(b"Access-Control-Allow-Origin".to_vec(), b" * ".to_vec())];
    /// let r = Response::from_owned_lines(200, lines);
    /// assert_eq!(r.headers()[0].1, b"*");
    /// ```
    pub fn from_owned_lines(status: u16, headers: Vec<(Vec<u8>, Vec<u8>)>) -> Response {
        Response::from_lines(status, headers)
    }

    /// [`Response::new`]'s work, not generic: compiled once, in this crate, whoever calls
    /// (a fuzz build instruments it here even when the caller's crate is not instrumented).
    fn from_lines(status: u16, mut headers: Vec<(Vec<u8>, Vec<u8>)>) -> Response {
        for (_, value) in &mut headers {
            let kept = trim(value, is_tab_or_space);
            if kept.len() != value.len() {
                *value = kept.to_vec();
            }
        }
        let kinds: Vec<Option<Cors>> = headers.iter().map(|(n, _)| Cors::of_name(n)).collect();
        let (mut present, mut several, mut first) = (0u16, 0u16, [0u32; 8]);
        for (i, c) in kinds.iter().enumerate() {
            let Some(c) = c else { continue };
            if present & c.bit() == 0 {
                present |= c.bit();
                // A header list longer than u32::MAX lines cannot be built in memory here;
                // saturate rather than wrap all the same.
                first[*c as usize] = u32::try_from(i).unwrap_or(u32::MAX);
            } else {
                several |= c.bit();
            }
        }
        let mut response = Response {
            status,
            headers,
            kinds,
            present,
            several,
            first,
            elements: Vec::new(),
            element_bytes: Vec::new(),
            element_spans: [(0, 0); 8],
            not_tokens: 0,
        };
        let (mut elements, mut element_bytes) = (Vec::new(), Vec::new());
        for c in Cors::ALL {
            let start = elements.len();
            let mut all_tokens = true;
            for element in list_elements(response.cors_values(c)) {
                all_tokens &= is_token(element);
                elements.push((element_bytes.len(), element_bytes.len() + element.len()));
                element_bytes.extend_from_slice(element);
            }
            response.element_spans[c as usize] = (start, elements.len());
            if !all_tokens {
                response.not_tokens |= c.bit();
            }
        }
        response.elements = elements;
        response.element_bytes = element_bytes;
        response
    }

    /// The elements of a [`Cors`] header's field lines, in order: what [`list_elements`]
    /// yields over [`Response::cors_values`], split once at construction.
    ///
    /// ```
    /// use corsproof_oracle::{response::Cors, Response};
    /// let r = Response::new(204, [("Access-Control-Allow-Headers", "a, ,b"), ("Access-Control-Allow-Headers", "c")]);
    /// let v: Vec<&[u8]> = r.cors_list(Cors::AllowHeaders).collect();
    /// assert_eq!(v, [&b"a"[..], b"b", b"c"]);
    /// ```
    pub fn cors_list(&self, header: Cors) -> impl Iterator<Item = &[u8]> + '_ {
        let (start, end) = self.element_spans[header as usize];
        self.elements
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .filter_map(|&(from, to)| self.element_bytes.get(from..to))
    }

    /// Whether every element of a [`Cors`] header's field lines is a token (true when it
    /// has none): when false, extracting it as `#method` / `#field-name` fails (R38, R53).
    ///
    /// ```
    /// use corsproof_oracle::{response::Cors, Response};
    /// let r = Response::new(204, [("Access-Control-Allow-Methods", "PUT, GET"), ("Access-Control-Expose-Headers", "a b")]);
    /// assert!(r.cors_list_is_tokens(Cors::AllowMethods));
    /// assert!(!r.cors_list_is_tokens(Cors::ExposeHeaders));
    /// assert!(Response::default().cors_list_is_tokens(Cors::AllowHeaders)); // none: no failure
    /// ```
    pub fn cors_list_is_tokens(&self, header: Cors) -> bool {
        self.not_tokens & header.bit() == 0
    }

    /// The header list, in order, duplicates kept.
    pub fn headers(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.headers
    }

    /// The values of every field line named `name` (byte-case-insensitive), in order.
    pub fn values<'a, 'n>(
        &'a self,
        name: &'n [u8],
    ) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        self.headers
            .iter()
            .filter(move |(n, _)| eq_ignore_case(n, name))
            .map(|(_, v)| v.as_slice())
    }

    /// The values of every field line of a [`Cors`] header, in order.
    pub fn cors_values(&self, header: Cors) -> impl Iterator<Item = &[u8]> + '_ {
        // Absent headers (the common case for most of them) cost one bit test; a present one
        // is looked for from its first field line on, and only up to it when it has one line.
        let (start, end) = self.span(header);
        let kinds = self.kinds.get(start..end).unwrap_or_default();
        let lines = self.headers.get(start..end).unwrap_or_default();
        kinds
            .iter()
            .zip(lines)
            .filter(move |(kind, _)| **kind == Some(header))
            .map(|(_, (_, v))| v.as_slice())
    }

    /// The range of line indices where the field lines of `header` are: empty when absent,
    /// exactly its line when it has one.
    #[inline]
    fn span(&self, header: Cors) -> (usize, usize) {
        if self.present & header.bit() == 0 {
            return (0, 0);
        }
        let start = self.first[header as usize] as usize;
        if self.several & header.bit() == 0 {
            (start, start.saturating_add(1).min(self.kinds.len()))
        } else {
            (start, self.kinds.len())
        }
    }

    /// The value of the first field line of a [`Cors`] header, without a scan.
    #[inline]
    pub(crate) fn first_value(&self, header: Cors) -> Option<&[u8]> {
        if self.present & header.bit() == 0 {
            return None;
        }
        self.headers
            .get(self.first[header as usize] as usize)
            .map(|(_, v)| v.as_slice())
    }

    /// Fetch "get" (`#concept-header-list-get`) of a [`Cors`] header: the values combined
    /// with `, `, or `None` if absent. Borrows when there is one field line.
    #[inline]
    pub fn get_combined(&self, header: Cors) -> Option<std::borrow::Cow<'_, [u8]>> {
        if self.several & header.bit() == 0 {
            // One field line at most: no scan, no combining.
            self.first_value(header).map(std::borrow::Cow::Borrowed)
        } else {
            Some(std::borrow::Cow::Owned(self.combined(header)))
        }
    }

    /// The values of a [`Cors`] header's field lines joined with `, ` (several lines).
    #[cold]
    #[inline(never)]
    fn combined(&self, header: Cors) -> Vec<u8> {
        let mut v = Vec::new();
        for (i, line) in self.cors_values(header).enumerate() {
            if i > 0 {
                v.extend_from_slice(b", ");
            }
            v.extend_from_slice(line);
        }
        v
    }

    /// True when the header list has a field of that [`Cors`] header.
    #[inline]
    pub fn has(&self, header: Cors) -> bool {
        self.present & header.bit() != 0
    }

    /// True when the header list has more than one field line of that [`Cors`] header.
    #[inline]
    pub fn has_several(&self, header: Cors) -> bool {
        self.several & header.bit() != 0
    }

    /// An ok status (200–299).
    pub fn is_ok_status(&self) -> bool {
        (200..=299).contains(&self.status)
    }

    /// A redirect status (301, 302, 303, 307, 308).
    pub fn is_redirect_status(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }
}
