//! The CORS-preflight cache (R44–R50, `#cors-preflight-cache`) as explicit state with time
//! as input, shaped by the profile (D7 Chromium, D8 Firefox).
//!
//! Entries are per item (one method or one header name), each with its own expiry. Expired
//! entries are revived in place when the same item is written again, so a steady workload
//! does not allocate.

use crate::grammar::{eq_bytes, eq_ignore_case};
use crate::headers::is_non_wildcard_request_header;
use crate::profile::{Profile, WildcardEntries};

/// Seconds since the start of a scenario (the `at_seconds` of `explain`'s steps).
pub type Seconds = f64;

/// At most this many entries are kept; past it the entry closest to expiry is evicted
/// (browsers cap their caches too: Chromium 1024 results, Firefox 100).
const MAX_ENTRIES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    Method,
    Header,
}

#[derive(Debug, Clone)]
struct Entry {
    key: usize,
    credentials: bool,
    kind: ItemKind,
    /// The method or header name. A `Vec` so that reviving a slot for another item is a
    /// copy into the capacity it already has (a steady workload allocates nothing).
    item: Vec<u8>,
    expires: Seconds,
}

/// A preflight cache: (serialized origin, URL) keys, per-item entries with an expiry.
///
/// ```
/// use corsproof_oracle::cache::{CacheKey, PreflightCache};
/// use corsproof_oracle::Profile;
/// let p = Profile::fetch();
/// let mut c = PreflightCache::default();
/// let key = CacheKey { origin: "https://app.test", url: "https://api.test/x" };
/// c.write(&key, false, [&b"PUT"[..]], [], Some(10), 0.0, &p);
/// assert!(c.method_match(&key, false, b"PUT", 9.9, &p));
/// assert!(!c.method_match(&key, false, b"PUT", 10.0, &p)); // expired
/// assert!(!c.method_match(&key, true, b"PUT", 1.0, &p));   // credentials asymmetry (R46)
/// ```
#[derive(Debug, Clone, Default)]
pub struct PreflightCache {
    keys: Vec<(String, String)>,
    entries: Vec<Entry>,
}

/// The part of a cache entry that identifies its request: the byte-serialized request
/// origin (R45) and the request's current URL. (The network partition key is the same for
/// every case the oracle sees: one top-level site.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheKey<'a> {
    /// Serialized origin (`null` after a tainting redirect in the standard).
    pub origin: &'a str,
    /// The request's current URL, serialized.
    pub url: &'a str,
}

impl PreflightCache {
    fn key_index(&self, key: &CacheKey<'_>) -> Option<usize> {
        self.keys.iter().position(|(o, u)| {
            eq_bytes(u.as_bytes(), key.url.as_bytes())
                && eq_bytes(o.as_bytes(), key.origin.as_bytes())
        })
    }

    fn key_index_or_insert(&mut self, key: &CacheKey<'_>) -> usize {
        match self.key_index(key) {
            Some(i) => i,
            None => {
                self.keys
                    .push((key.origin.to_string(), key.url.to_string()));
                self.keys.len() - 1
            }
        }
    }

    /// The entries of one key, looked up once for several matches (R46, R47).
    ///
    /// ```
    /// use corsproof_oracle::cache::{CacheKey, PreflightCache};
    /// use corsproof_oracle::Profile;
    /// let p = Profile::fetch();
    /// let mut c = PreflightCache::default();
    /// let key = CacheKey { origin: "https://app.test", url: "https://api.test/x" };
    /// c.write(&key, false, [&b"PUT"[..]], [&b"X-A"[..]], Some(10), 0.0, &p);
    /// let view = c.at(&key);
    /// assert!(view.method_match(false, b"PUT", 1.0, &p) && view.header_match(false, b"x-a", 1.0, &p));
    /// ```
    pub fn at(&self, key: &CacheKey<'_>) -> KeyEntries<'_> {
        KeyEntries {
            cache: self,
            key: self.key_index(key),
        }
    }

    fn wildcard_applies(entry: &Entry, profile: &Profile) -> bool {
        entry.item.as_slice() == b"*"
            && match profile.cache.wildcard_entries {
                WildcardEntries::Standard => true,
                WildcardEntries::UncredentialedOnly => !entry.credentials,
                WildcardEntries::Literal => false,
            }
    }

    /// Whether any live entry (method or header) exists for the key and credentials: Firefox
    /// looks up one entry per (origin, URL, credentials) and, once it has one, skips the
    /// method check for GET and POST (D8).
    pub fn has_live_entry(
        &self,
        key: &CacheKey<'_>,
        credentials: bool,
        now: Seconds,
        profile: &Profile,
    ) -> bool {
        self.at(key).has_live_entry(credentials, now, profile)
    }

    /// Method cache entry match (R47): the method exactly, or a `*` entry.
    pub fn method_match(
        &self,
        key: &CacheKey<'_>,
        credentials: bool,
        method: &[u8],
        now: Seconds,
        profile: &Profile,
    ) -> bool {
        self.at(key).method_match(credentials, method, now, profile)
    }

    /// Header-name cache entry match (R47): byte-case-insensitive, or a `*` entry and the
    /// name is not `Authorization` (unless the profile's cache lets `*` cover it, D20).
    pub fn header_match(
        &self,
        key: &CacheKey<'_>,
        credentials: bool,
        name: &[u8],
        now: Seconds,
        profile: &Profile,
    ) -> bool {
        self.at(key).header_match(credentials, name, now, profile)
    }

    /// Writes the result of a passed preflight (R44): for each method and header name,
    /// refresh the matching entry's max-age or create one. `max_age` `None` means the
    /// profile does not cache this result at all (Firefox on a malformed value, D6).
    /// A profile without union (Chromium, D7) first drops every entry of the key.
    #[allow(clippy::too_many_arguments)]
    pub fn write<'m, 'h>(
        &mut self,
        key: &CacheKey<'_>,
        credentials: bool,
        methods: impl IntoIterator<Item = &'m [u8]>,
        headers: impl IntoIterator<Item = &'h [u8]>,
        max_age: Option<u64>,
        now: Seconds,
        profile: &Profile,
    ) {
        let Some(max_age) = max_age else { return };
        if profile
            .cache
            .max_url_len
            .is_some_and(|n| key.url.len() >= n)
        {
            return;
        }
        if !profile.cache.union {
            self.clear(key);
        }
        let expires = now + max_age as Seconds;
        let k = self.key_index_or_insert(key);
        for m in methods {
            self.refresh_or_create(k, credentials, ItemKind::Method, m, expires, now, profile);
        }
        for h in headers {
            self.refresh_or_create(k, credentials, ItemKind::Header, h, expires, now, profile);
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn refresh_or_create(
        &mut self,
        k: usize,
        credentials: bool,
        kind: ItemKind,
        item: &[u8],
        expires: Seconds,
        now: Seconds,
        profile: &Profile,
    ) {
        let serves_down = profile.cache.credentialed_serves_uncredentialed;
        // "If there is a cache entry match": refresh its max-age (R44).
        let matches = |e: &Entry| {
            e.key == k
                && e.kind == kind
                && now < e.expires
                && (e.credentials == credentials || (serves_down && e.credentials && !credentials))
                && match kind {
                    ItemKind::Method => {
                        e.item.as_slice() == item || Self::wildcard_applies(e, profile)
                    }
                    ItemKind::Header => {
                        eq_ignore_case(&e.item, item)
                            || (Self::wildcard_applies(e, profile)
                                && (!is_non_wildcard_request_header(item)
                                    || profile.cache.wildcard_covers_authorization))
                    }
                }
        };
        // One pass: the first live entry that matches, else the first expired slot.
        let mut slot = None;
        for (i, e) in self.entries.iter_mut().enumerate() {
            if now >= e.expires {
                slot = slot.or(Some(i));
            } else if matches(e) {
                e.expires = expires;
                return;
            }
        }
        // Otherwise create an entry, reusing an expired slot when there is one.
        let i = match slot {
            Some(i) => i,
            None if self.entries.len() >= MAX_ENTRIES => self
                .entries
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.expires.total_cmp(&b.1.expires))
                .map_or(0, |(i, _)| i),
            None => {
                self.entries.push(Entry {
                    key: k,
                    credentials,
                    kind,
                    item: item.to_vec(),
                    expires,
                });
                return;
            }
        };
        let Some(e) = self.entries.get_mut(i) else {
            return;
        };
        e.key = k;
        e.credentials = credentials;
        e.kind = kind;
        e.expires = expires;
        // A steady workload revives the slot of the same item: nothing to copy then.
        if !eq_bytes(&e.item, item) {
            e.item.clear();
            e.item.extend_from_slice(item);
        }
    }

    /// Clears every entry of the key, whatever its credentials (R49, `#concept-cache-clear`).
    pub fn clear(&mut self, key: &CacheKey<'_>) {
        if let Some(k) = self.key_index(key) {
            for e in self.entries.iter_mut().filter(|e| e.key == k) {
                e.expires = Seconds::NEG_INFINITY;
            }
        }
    }

    /// The number of live entries at `now`.
    pub fn live_entries(&self, now: Seconds) -> usize {
        self.entries.iter().filter(|e| now < e.expires).count()
    }
}

/// The entries of one cache key ([`PreflightCache::at`]).
#[derive(Debug, Clone, Copy)]
pub struct KeyEntries<'c> {
    cache: &'c PreflightCache,
    /// The key's index, `None` when the cache never saw it.
    key: Option<usize>,
}

impl<'c> KeyEntries<'c> {
    /// Cache entry match (R46): live, this key, and credentials compatible.
    fn live(
        self,
        credentials: bool,
        kind: ItemKind,
        now: Seconds,
        profile: &Profile,
    ) -> impl Iterator<Item = &'c Entry> {
        let k = self.key;
        let entries = if k.is_some() {
            &self.cache.entries[..]
        } else {
            &[]
        };
        let serves_down = profile.cache.credentialed_serves_uncredentialed;
        entries.iter().filter(move |e| {
            Some(e.key) == k
                && e.kind == kind
                && now < e.expires
                && (e.credentials == credentials || (serves_down && e.credentials && !credentials))
        })
    }

    /// [`PreflightCache::has_live_entry`] for this key.
    pub fn has_live_entry(self, credentials: bool, now: Seconds, profile: &Profile) -> bool {
        self.live(credentials, ItemKind::Method, now, profile)
            .next()
            .is_some()
            || self
                .live(credentials, ItemKind::Header, now, profile)
                .next()
                .is_some()
    }

    /// [`PreflightCache::method_match`] for this key.
    pub fn method_match(
        self,
        credentials: bool,
        method: &[u8],
        now: Seconds,
        profile: &Profile,
    ) -> bool {
        self.live(credentials, ItemKind::Method, now, profile)
            .any(|e| e.item.as_slice() == method || PreflightCache::wildcard_applies(e, profile))
    }

    /// [`PreflightCache::header_match`] for this key.
    pub fn header_match(
        self,
        credentials: bool,
        name: &[u8],
        now: Seconds,
        profile: &Profile,
    ) -> bool {
        self.live(credentials, ItemKind::Header, now, profile)
            .any(|e| {
                eq_ignore_case(&e.item, name)
                    || (PreflightCache::wildcard_applies(e, profile)
                        && (!is_non_wildcard_request_header(name)
                            || profile.cache.wildcard_covers_authorization))
            })
    }
}
