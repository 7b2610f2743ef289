//! The CORS-preflight cache (R44–R50, `#cors-preflight-cache`) as explicit state with time as
//! input, shaped by the profile (D7 Chromium, D8 Firefox, D31 capacity and eviction, D32
//! Firefox's stored entries).
//!
//! *Items* (one method or one header name, each with its own expiry) answer lookups (R46,
//! R47). A profile whose cache has a capacity, or whose entries outlive their items, also
//! keeps the browser's *table*: one stored entry per (origin, URL), or per (origin, URL,
//! credentials), which is what a capacity counts and evicts (D31, D32). Where a browser evicts
//! at random (Chromium's purge, D31), the table holds entries the browser *may* have dropped:
//! a lookup their items would answer is [`Lookup::Unknown`], never a guess.
//!
//! Expired items are revived in place when the same item is written again, so a steady
//! workload does not allocate.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::RuleId;
use crate::grammar::{eq_bytes, eq_ignore_case};
use crate::headers::is_non_wildcard_request_header;
use crate::profile::{Capacity, Profile, WildcardEntries};

/// Seconds since the start of a scenario (the `at_seconds` of `explain`'s steps).
pub type Seconds = f64;

/// What the preflight cache says about a request that needs a CORS preflight (R28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// The cache answers for the request: no preflight.
    Hit,
    /// It does not: a preflight is sent.
    Miss,
    /// It would, if the browser still holds an entry it may have evicted at random (D31):
    /// the oracle cannot tell whether a preflight is sent.
    Unknown,
}

impl Lookup {
    /// `hit`, `miss` or `undetermined`, as `explain` writes it.
    ///
    /// ```
    /// assert_eq!(corsproof_oracle::cache::Lookup::Unknown.as_str(), "undetermined");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Lookup::Hit => "hit",
            Lookup::Miss => "miss",
            Lookup::Unknown => "undetermined",
        }
    }
}

/// A lookup's answer and the deviation that made it differ from the standard's, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The answer.
    pub lookup: Lookup,
    /// D31 when an eviction made a miss (or made the answer unknown) where an unbounded cache
    /// answers; D32 when an entry without a live item answered.
    pub deviation: Option<RuleId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Whether the browser holds a stored entry (D31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// It does.
    Yes,
    /// It may not: a random purge may have removed it. Its items are every item it may
    /// hold, each with the latest expiry it may have.
    Maybe,
    /// It was evicted to make room (its items are kept apart, in `evicted`).
    Evicted,
}

/// Whose items answer a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Items {
    /// Those of a profile that keeps no table: every live item of the key.
    Untabled,
    /// Those of the table's stored entry for the key.
    Stored,
    /// Those an eviction took from the key's entry (D31).
    Evicted,
}

/// One entry of the browser's table.
#[derive(Debug, Clone, Copy)]
struct Stored {
    key: usize,
    /// Meaningful when the profile stores an entry per credentials mode.
    credentials: bool,
    held: Held,
    /// When it was last looked up or written (least recently used goes first).
    used: u64,
}

/// A preflight cache: (serialized origin, URL) keys, per-item entries with an expiry, and,
/// for a browser whose cache has a capacity, its table of stored entries.
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
    /// (origin, URL) of each key, shared by copies of the cache.
    keys: Vec<(Arc<str>, Arc<str>)>,
    entries: Vec<Entry>,
    /// The items of evicted entries (D31): they answer nothing, and are kept only to tell
    /// whether a later miss is the eviction's doing.
    evicted: Vec<Entry>,
    /// The browser's table (empty for a profile that keeps none).
    table: Vec<Stored>,
    /// Bounds (least, most) on how many entries the browser holds: equal unless a random
    /// purge left some uncertain.
    held: (usize, usize),
    /// Counts lookups and writes, for least-recently-used order.
    clock: u64,
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

/// What a lookup asks of the cache besides the key (R28).
#[derive(Debug, Clone, Copy)]
pub struct Query<'q> {
    /// The request's credentials mode is `include`.
    pub credentials: bool,
    /// The request's method (after normalization and redirects).
    pub method: &'q [u8],
    /// The method needs no method entry: it is CORS-safelisted and neither the
    /// use-CORS-preflight flag nor a forced preflight (D24) is set.
    pub method_exempt: bool,
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
                self.keys.push((Arc::from(key.origin), Arc::from(key.url)));
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
            evicted: false,
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

    /// The stored entry of key `k` a request with these credentials uses, if the table
    /// holds one (or a tombstone of one it evicted).
    fn stored_index(&self, k: usize, credentials: bool, profile: &Profile) -> Option<usize> {
        let per_credentials = profile.cache.entry_per_credentials;
        self.table
            .iter()
            .position(|s| s.key == k && (!per_credentials || s.credentials == credentials))
    }

    /// Whether the items of key `k` answer the query (R28): the method matches a method item
    /// (or needs none, or the lookup skips it, D8) and every unsafe name matches a header
    /// item. `items` says which items answer: those of a profile without a table, of the
    /// table's stored entry for the key (which counts on its own in Firefox, D32), or of an
    /// evicted entry.
    #[inline(always)]
    fn items_answer<'n>(
        &self,
        k: usize,
        query: &Query<'_>,
        names: impl Iterator<Item = &'n [u8]>,
        items: Items,
        now: Seconds,
        profile: &Profile,
    ) -> bool {
        let stored = items != Items::Untabled;
        let evicted = items == Items::Evicted;
        let entries = KeyEntries {
            cache: self,
            key: Some(k),
            evicted,
        };
        let credentials = query.credentials;
        // D8: once an entry exists for the key, Firefox skips the method check for GET and
        // POST; D32: an entry it still stores counts even when every item has expired.
        let skips = profile
            .cache
            .lookup_skips_method
            .iter()
            .any(|m| m.as_bytes() == query.method)
            && if profile.cache.entries_outlive_items {
                stored
            } else {
                entries.has_live_entry(credentials, now, profile)
            };
        let method_cached = query.method_exempt
            || skips
            || entries.method_match(credentials, query.method, now, profile);
        method_cached && {
            let mut names = names;
            names.all(|n| entries.header_match(credentials, n, now, profile))
        }
    }

    /// The cache's answer for a request that needs a CORS preflight (R28), at `now`: whether
    /// the method and every CORS-unsafe request-header name `names` have a cache entry match.
    /// A lookup updates the browser's table: Firefox marks the entry used (D31), Chromium
    /// removes an entry that does not answer (D7).
    ///
    /// ```
    /// use corsproof_oracle::cache::{CacheKey, Lookup, PreflightCache, Query};
    /// use corsproof_oracle::Profile;
    /// let p = Profile::firefox();
    /// let mut c = PreflightCache::default();
    /// let url = |i: usize| format!("https://api.test/{i}");
    /// let put = Query { credentials: false, method: b"PUT", method_exempt: false };
    /// // 101 URLs in Firefox's table of 100: the least recently used, the first, is evicted.
    /// for i in 0..=100 {
    ///     let key = CacheKey { origin: "https://app.test", url: &url(i) };
    ///     assert_eq!(c.lookup(&key, &put, [].into_iter(), 0.0, &p).lookup, Lookup::Miss);
    ///     c.write(&key, false, [&b"PUT"[..]], [], Some(600), 0.0, &p);
    /// }
    /// let first = CacheKey { origin: "https://app.test", url: &url(0) };
    /// let last = CacheKey { origin: "https://app.test", url: &url(100) };
    /// assert_eq!(c.lookup(&first, &put, [].into_iter(), 1.0, &p).lookup, Lookup::Miss);
    /// assert_eq!(c.lookup(&last, &put, [].into_iter(), 1.0, &p).lookup, Lookup::Hit);
    /// ```
    // Inlined, with the item matches, into the fetch's preflight decision: a profile without
    // a table pays one test for it on the evaluation path.
    #[inline(always)]
    pub fn lookup<'n>(
        &mut self,
        key: &CacheKey<'_>,
        query: &Query<'_>,
        names: impl Iterator<Item = &'n [u8]>,
        now: Seconds,
        profile: &Profile,
    ) -> Answer {
        let miss = Answer {
            lookup: Lookup::Miss,
            deviation: None,
        };
        let Some(k) = self.key_index(key) else {
            return miss;
        };
        if !profile.cache.keeps_table() {
            let hit = self.items_answer(k, query, names, Items::Untabled, now, profile);
            return Answer {
                lookup: if hit { Lookup::Hit } else { Lookup::Miss },
                deviation: None,
            };
        }
        let Some(s) = self.stored_index(k, query.credentials, profile) else {
            return miss;
        };
        let held = self.table[s].held;
        if held == Held::Evicted {
            // D31: a miss the eviction made, when the items it took would have answered.
            let would = self.items_answer(k, query, names, Items::Evicted, now, profile);
            return Answer {
                lookup: Lookup::Miss,
                deviation: would.then_some(RuleId::D31),
            };
        }
        let hit = self.items_answer(k, query, names, Items::Stored, now, profile);
        self.clock += 1;
        self.table[s].used = self.clock;
        if !hit {
            // D7: Chromium removes a stale or insufficient entry when it looks it up.
            if profile.cache.failed_lookup_erases {
                self.unstore(s, profile);
            }
            return miss;
        }
        if held == Held::Maybe {
            return Answer {
                lookup: Lookup::Unknown,
                deviation: Some(RuleId::D31),
            };
        }
        // D32: an entry none of whose items is live answered (a skipped method, no names).
        let itemless = profile.cache.entries_outlive_items
            && !self
                .at_index(k)
                .has_live_entry(query.credentials, now, profile);
        Answer {
            lookup: Lookup::Hit,
            deviation: itemless.then_some(RuleId::D32),
        }
    }

    fn at_index(&self, k: usize) -> KeyEntries<'_> {
        KeyEntries {
            cache: self,
            key: Some(k),
            evicted: false,
        }
    }

    /// Settles an [`Lookup::Unknown`] answer one way: `evicted` says the browser no longer
    /// holds the entry (the request is preflighted), otherwise it still does (the cache
    /// answered). Exploring both ways and [`PreflightCache::join`]ing the results gives every
    /// state the browser may be in.
    ///
    /// ```
    /// use corsproof_oracle::cache::{CacheKey, Lookup, PreflightCache, Query};
    /// use corsproof_oracle::Profile;
    /// let p = Profile::chromium();
    /// let mut c = PreflightCache::default();
    /// let put = Query { credentials: false, method: b"PUT", method_exempt: false };
    /// let urls: Vec<String> = (0..=1024).map(|i| format!("https://api.test/{i}")).collect();
    /// for url in &urls {
    ///     c.write(&CacheKey { origin: "https://app.test", url }, false, [&b"PUT"[..]], [], Some(600), 0.0, &p);
    /// }
    /// // The 1025th entry made Chromium purge 10 of the first 1024 at random.
    /// let first = CacheKey { origin: "https://app.test", url: &urls[0] };
    /// assert_eq!(c.lookup(&first, &put, [].into_iter(), 1.0, &p).lookup, Lookup::Unknown);
    /// let mut evicted = c.clone();
    /// evicted.assume(&first, false, true, &p);
    /// assert_eq!(evicted.lookup(&first, &put, [].into_iter(), 1.0, &p).lookup, Lookup::Miss);
    /// ```
    pub fn assume(
        &mut self,
        key: &CacheKey<'_>,
        credentials: bool,
        evicted: bool,
        profile: &Profile,
    ) {
        if !evicted {
            return;
        }
        let Some(k) = self.key_index(key) else { return };
        if let Some(s) = self.stored_index(k, credentials, profile) {
            if self.table[s].held == Held::Maybe {
                self.evict(s, profile);
            }
        }
    }

    /// Writes the result of a passed preflight (R44): for each method and header name,
    /// refresh the matching entry's max-age or create one. `max_age` `None` means the
    /// profile does not cache this result at all (Firefox on a malformed value, D6); a zero
    /// max-age stores nothing where the profile says so (Firefox, D32). A profile without
    /// union (Chromium, D7) first drops every entry of the key. A profile with a capacity
    /// makes room first (D31).
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
        if max_age == 0 && !profile.cache.zero_max_age_stored {
            return;
        }
        let k = self.key_index_or_insert(key);
        if profile.cache.keeps_table() {
            self.store(k, credentials, now, profile);
        }
        if !profile.cache.union {
            self.expire_items(k, None);
        }
        let expires = now + max_age as Seconds;
        for m in methods {
            self.refresh_or_create(k, credentials, (ItemKind::Method, m), expires, now, profile);
        }
        for h in headers {
            self.refresh_or_create(k, credentials, (ItemKind::Header, h), expires, now, profile);
        }
    }

    #[inline(always)]
    fn refresh_or_create(
        &mut self,
        k: usize,
        credentials: bool,
        (kind, item): (ItemKind, &[u8]),
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
        let Some(e) = slot.and_then(|i| self.entries.get_mut(i)) else {
            self.entries.push(Entry {
                key: k,
                credentials,
                kind,
                item: item.to_vec(),
                expires,
            });
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

    /// Expires the items of key `k` (those of one credentials mode when `credentials` is
    /// given).
    fn expire_items(&mut self, k: usize, credentials: Option<bool>) {
        for e in self
            .entries
            .iter_mut()
            .filter(|e| e.key == k && credentials.is_none_or(|c| e.credentials == c))
        {
            e.expires = Seconds::NEG_INFINITY;
        }
    }

    /// Forgets the kept items of the evicted entry of key `k` (of one credentials mode when
    /// `credentials` is given).
    fn forget_evicted(&mut self, k: usize, credentials: Option<bool>) {
        self.evicted
            .retain(|e| !(e.key == k && credentials.is_none_or(|c| e.credentials == c)));
    }

    /// The items a stored entry holds: of its key, and of its credentials mode when the
    /// profile stores one entry per mode.
    fn items_of(s: &Stored, profile: &Profile) -> Option<bool> {
        profile.cache.entry_per_credentials.then_some(s.credentials)
    }

    /// Records that the browser stores an entry for key `k` (a passed preflight's write),
    /// making room first when its table is full (D31).
    fn store(&mut self, k: usize, credentials: bool, now: Seconds, profile: &Profile) {
        self.clock += 1;
        let credentials = credentials && profile.cache.entry_per_credentials;
        let held = self
            .stored_index(k, credentials, profile)
            .map(|s| (s, self.table[s].held));
        match held {
            Some((s, Held::Yes)) => {
                self.table[s].used = self.clock;
                return;
            }
            Some((s, Held::Evicted)) => {
                // The browser starts a new entry: what the evicted one held is gone.
                let stored = self.table[s];
                self.forget_evicted(k, Self::items_of(&stored, profile));
                self.table.swap_remove(s);
                self.make_room(false, now, profile);
            }
            Some((s, Held::Maybe)) => {
                self.table.swap_remove(s);
                self.make_room(true, now, profile);
            }
            None => self.make_room(false, now, profile),
        }
        self.table.push(Stored {
            key: k,
            credentials,
            held: Held::Yes,
            used: self.clock,
        });
    }

    /// Makes room for one more stored entry (D31). `maybe_held`: the browser may already
    /// hold it (a `Maybe` entry being written), in which case it adds nothing.
    fn make_room(&mut self, maybe_held: bool, now: Seconds, profile: &Profile) {
        let (least, most) = self.held;
        match profile.cache.capacity {
            Capacity::Unbounded => self.held = (least + 1, most + 1),
            Capacity::LeastRecentlyUsed {
                entries,
                expired_first,
            } => {
                // Least-recently-used eviction is deterministic: every entry is held or
                // evicted, and the bounds are one exact count.
                if most >= entries && expired_first {
                    // Every entry none of whose items is live goes first.
                    let mut i = 0;
                    while i < self.table.len() {
                        let s = self.table[i];
                        let live = s.held == Held::Yes
                            && self.entries.iter().any(|e| {
                                e.key == s.key
                                    && now < e.expires
                                    && Self::items_of(&s, profile)
                                        .is_none_or(|c| e.credentials == c)
                            });
                        if s.held == Held::Yes && !live {
                            self.unstore(i, profile);
                        } else {
                            i += 1;
                        }
                    }
                }
                if self.held.1 >= entries {
                    let lru = self
                        .table
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.held == Held::Yes)
                        .min_by_key(|(_, s)| s.used)
                        .map(|(i, _)| i);
                    if let Some(i) = lru {
                        self.evict(i, profile);
                    }
                }
                self.held = (self.held.0 + 1, self.held.1 + 1);
            }
            Capacity::RandomPurge { entries, purge } => {
                // Adding to a full table first removes `purge` entries adjacent in key order
                // from a random position: any of them may go, so every entry held becomes
                // uncertain.
                let added = if most < entries {
                    (least + 1, most + 1)
                } else {
                    for s in self.table.iter_mut().filter(|s| s.held == Held::Yes) {
                        s.held = Held::Maybe;
                    }
                    let after = |n: usize| (n + 1).saturating_sub(purge);
                    if least >= entries {
                        (after(least), after(most))
                    } else {
                        ((least + 1).min(after(entries)), entries.max(after(most)))
                    }
                };
                self.held = if maybe_held {
                    (least.min(added.0), most.max(added.1))
                } else {
                    added
                };
            }
        }
    }

    /// Removes stored entry `s` from the table, with its items: the browser no longer holds
    /// it.
    fn unstore(&mut self, s: usize, profile: &Profile) {
        let stored = self.table.swap_remove(s);
        let (least, most) = self.held;
        self.held = match stored.held {
            Held::Yes => (least.saturating_sub(1), most.saturating_sub(1)),
            Held::Maybe => (least.saturating_sub(1), most),
            Held::Evicted => (least, most),
        };
        let only = Self::items_of(&stored, profile);
        self.expire_items(stored.key, only);
        if stored.held == Held::Evicted {
            self.forget_evicted(stored.key, only);
        }
    }

    /// Evicts stored entry `s` to make room (D31): the browser drops it with its items.
    fn evict(&mut self, s: usize, profile: &Profile) {
        let stored = self.table[s];
        let (least, most) = self.held;
        self.held = match stored.held {
            Held::Yes => (least.saturating_sub(1), most.saturating_sub(1)),
            Held::Maybe => (least.saturating_sub(1), most),
            Held::Evicted => (least, most),
        };
        self.table[s].held = Held::Evicted;
        // Its items are kept apart, to tell later whether a miss is the eviction's doing.
        let only = Self::items_of(&stored, profile);
        self.forget_evicted(stored.key, only);
        for e in self
            .entries
            .iter_mut()
            .filter(|e| e.key == stored.key && only.is_none_or(|c| e.credentials == c))
        {
            if e.expires > Seconds::NEG_INFINITY {
                self.evicted.push(e.clone());
                e.expires = Seconds::NEG_INFINITY;
            }
        }
    }

    /// Clears every entry of the key, whatever its credentials (R49, `#concept-cache-clear`);
    /// the browser's table drops them (Firefox removes both credentials modes' entries).
    pub fn clear(&mut self, key: &CacheKey<'_>, profile: &Profile) {
        let Some(k) = self.key_index(key) else { return };
        self.expire_items(k, None);
        let mut i = 0;
        while i < self.table.len() {
            if self.table[i].key == k {
                self.unstore(i, profile);
            } else {
                i += 1;
            }
        }
    }

    /// Bounds (least, most) on how many entries the browser's table holds (D31): one count
    /// unless a random purge left entries the browser may have dropped.
    ///
    /// ```
    /// use corsproof_oracle::cache::{CacheKey, PreflightCache};
    /// use corsproof_oracle::Profile;
    /// let p = Profile::chromium();
    /// let mut c = PreflightCache::default();
    /// for i in 0..1025 {
    ///     let url = format!("https://api.test/{i}");
    ///     c.write(&CacheKey { origin: "https://app.test", url: &url }, false, [&b"PUT"[..]], [], Some(600), 0.0, &p);
    /// }
    /// // Adding the 1025th entry to a full table purged 10 (D31).
    /// assert_eq!(c.held(), (1015, 1015));
    /// ```
    pub fn held(&self) -> (usize, usize) {
        self.held
    }

    /// Whether a step of at most `lookups` cache lookups may meet an entry the browser may
    /// have dropped (D31): the table has one, or is close enough to its capacity for the
    /// step's own writes to make a random purge. When not, every answer of the step is
    /// certain.
    ///
    /// ```
    /// use corsproof_oracle::{PreflightCache, Profile};
    /// assert!(!PreflightCache::default().may_answer_unknown(&Profile::chromium(), 21));
    /// ```
    pub fn may_answer_unknown(&self, profile: &Profile, lookups: usize) -> bool {
        self.table.iter().any(|s| s.held == Held::Maybe)
            || match profile.cache.capacity {
                Capacity::RandomPurge { entries, .. } => self.held.1 + lookups >= entries,
                _ => false,
            }
    }

    /// Joins `other` into this cache: afterwards it describes every state either described,
    /// at `now` and later. A stored entry held in one and not the other, or held with other
    /// items, becomes one the browser may have dropped; items are those of both, each with
    /// the later expiry. Both must descend from one cache (keys are only ever appended).
    ///
    /// ```
    /// use corsproof_oracle::cache::{CacheKey, Lookup, PreflightCache, Query};
    /// use corsproof_oracle::Profile;
    /// let p = Profile::chromium();
    /// let key = CacheKey { origin: "https://app.test", url: "https://api.test/x" };
    /// let put = Query { credentials: false, method: b"PUT", method_exempt: false };
    /// let mut held = PreflightCache::default();
    /// let dropped = held.clone();
    /// held.write(&key, false, [&b"PUT"[..]], [], Some(600), 0.0, &p);
    /// held.join(&dropped, 0.0, &p);
    /// assert_eq!(held.lookup(&key, &put, [].into_iter(), 1.0, &p).lookup, Lookup::Unknown);
    /// ```
    pub fn join(&mut self, other: &PreflightCache, now: Seconds, profile: &Profile) {
        let common = self
            .keys
            .iter()
            .zip(&other.keys)
            .take_while(|(a, b)| Arc::ptr_eq(&a.0, &b.0) && Arc::ptr_eq(&a.1, &b.1) || a == b)
            .count();
        let mut map: Vec<usize> = (0..common).collect();
        for (origin, url) in &other.keys[common..] {
            map.push(self.key_index_or_insert(&CacheKey { origin, url }));
        }
        let mapped = |k: usize| map.get(k).copied().unwrap_or(k);
        let other_index: HashMap<(usize, bool), usize> = other
            .table
            .iter()
            .enumerate()
            .map(|(i, b)| ((mapped(b.key), b.credentials), i))
            .collect();
        let partner = |a: &Stored| {
            other_index
                .get(&(a.key, a.credentials))
                .map(|&i| (i, other.table[i]))
        };
        // The live items of the entries held in both, to tell whether both hold the same.
        let per_credentials = profile.cache.entry_per_credentials;
        let both: std::collections::HashSet<usize> = self
            .table
            .iter()
            .filter(|a| a.held == Held::Yes && partner(a).is_some_and(|(_, b)| b.held == Held::Yes))
            .map(|a| a.key)
            .collect();
        type Items = Vec<(bool, ItemKind, Vec<u8>, u64)>;
        let grouped = |c: &PreflightCache, key_of: &dyn Fn(usize) -> usize| {
            let mut g: HashMap<(usize, bool), Items> = HashMap::new();
            for e in c
                .entries
                .iter()
                .filter(|e| now < e.expires && both.contains(&key_of(e.key)))
            {
                g.entry((key_of(e.key), per_credentials && e.credentials))
                    .or_default()
                    .push((e.credentials, e.kind, e.item.clone(), e.expires.to_bits()));
            }
            for v in g.values_mut() {
                v.sort_by(|a, b| (a.0, a.1 as u8, &a.2, a.3).cmp(&(b.0, b.1 as u8, &b.2, b.3)));
            }
            g
        };
        let (mine, theirs) = (grouped(self, &|k| k), grouped(other, &mapped));
        let no_items = Items::new();
        let mut table: Vec<Stored> = Vec::with_capacity(self.table.len().max(other.table.len()));
        let mut matched = vec![false; other.table.len()];
        for a in &self.table {
            let b = partner(a);
            let held = match b {
                Some((i, b)) => {
                    matched[i] = true;
                    let id = (a.key, a.credentials);
                    let same = || {
                        mine.get(&id).unwrap_or(&no_items) == theirs.get(&id).unwrap_or(&no_items)
                    };
                    match (a.held, b.held) {
                        (Held::Yes, Held::Yes) if same() => Held::Yes,
                        (Held::Evicted, Held::Evicted) => Held::Evicted,
                        _ => Held::Maybe,
                    }
                }
                None if a.held == Held::Evicted => Held::Evicted,
                None => Held::Maybe,
            };
            let used = b.map_or(a.used, |(_, b)| a.used.max(b.used));
            table.push(Stored { held, used, ..*a });
        }
        for (b, _) in other.table.iter().zip(&matched).filter(|(_, m)| !**m) {
            let held = if b.held == Held::Evicted {
                Held::Evicted
            } else {
                Held::Maybe
            };
            table.push(Stored {
                key: mapped(b.key),
                held,
                ..*b
            });
        }
        // Items: each of both, with the later expiry. Both descend from one cache, so most
        // are the same item at the same position.
        let mut added = Vec::new();
        {
            let index: HashMap<(usize, bool, ItemKind, &[u8]), usize> = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| now < e.expires)
                .map(|(i, e)| ((e.key, e.credentials, e.kind, e.item.as_slice()), i))
                .collect();
            let mut updates = Vec::new();
            for e in other.entries.iter().filter(|e| now < e.expires) {
                match index.get(&(mapped(e.key), e.credentials, e.kind, e.item.as_slice())) {
                    Some(&i) => updates.push((i, e.expires)),
                    None => added.push(Entry {
                        key: mapped(e.key),
                        ..e.clone()
                    }),
                }
            }
            drop(index);
            for (i, expires) in updates {
                let mine = &mut self.entries[i];
                mine.expires = mine.expires.max(expires);
            }
        }
        self.entries.extend(added);
        // The items kept of evicted entries: those of both.
        for e in &other.evicted {
            let key = mapped(e.key);
            let known = self.evicted.iter().any(|m| {
                m.key == key
                    && m.credentials == e.credentials
                    && m.kind == e.kind
                    && m.item == e.item
            });
            if !known {
                self.evicted.push(Entry { key, ..e.clone() });
            }
        }
        self.table = table;
        self.held = (self.held.0.min(other.held.0), self.held.1.max(other.held.1));
        self.clock = self.clock.max(other.clock);
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
    /// Look at the items kept of evicted entries instead (to tell a miss an eviction made,
    /// D31).
    evicted: bool,
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
        let entries = match k {
            None => &[],
            Some(_) if self.evicted => &self.cache.evicted[..],
            Some(_) => &self.cache.entries[..],
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
    #[inline(always)]
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
    #[inline(always)]
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
