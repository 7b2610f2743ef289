//! Responses as the oracle receives them: a status and a header list of byte pairs, field
//! values already stripped of leading and trailing whitespace as HTTP parsing does (R33).

use crate::grammar::{eq_ignore_case, is_tab_or_space, trim};

/// A response to a preflight or an actual request.
///
/// ```
/// use corsproof_spec::Response;
/// let r = Response::new(200, [("Access-Control-Allow-Origin", " * ")]);
/// assert_eq!(r.get_combined(b"access-control-allow-origin").as_deref(), Some(&b"*"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields in order, duplicates kept, values trimmed of SP/HT.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Response {
    /// A response from string pairs (values are trimmed of SP/HT).
    pub fn new<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        status: u16,
        headers: impl IntoIterator<Item = (N, V)>,
    ) -> Response {
        Response {
            status,
            headers: headers
                .into_iter()
                .map(|(n, v)| {
                    (
                        n.as_ref().to_vec(),
                        trim(v.as_ref(), is_tab_or_space).to_vec(),
                    )
                })
                .collect(),
        }
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

    /// Fetch "get" (`#concept-header-list-get`): the values of `name` combined with `, `,
    /// or `None` if absent. Borrows when there is one field line.
    pub fn get_combined(&self, name: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        let mut it = self.values(name);
        let first = it.next()?;
        match it.next() {
            None => Some(std::borrow::Cow::Borrowed(first)),
            Some(second) => {
                let mut v = first.to_vec();
                for next in std::iter::once(second).chain(it) {
                    v.extend_from_slice(b", ");
                    v.extend_from_slice(next);
                }
                Some(std::borrow::Cow::Owned(v))
            }
        }
    }

    /// True when the header list has a field named `name`.
    pub fn contains(&self, name: &[u8]) -> bool {
        self.values(name).next().is_some()
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
