//! The preflight cache's capacity and eviction per profile (D31) and Firefox's stored entries
//! (D32): each rule as the browsers were measured to follow it, and, for Chromium's random
//! purge, a check against a concrete cache that purges at random: whenever the oracle gives a
//! certain answer, that cache gives the same one.

use std::collections::BTreeMap;

use corsproof_oracle::cache::{CacheKey, Lookup, PreflightCache, Query};
use corsproof_oracle::profile::Capacity;
use corsproof_oracle::{Profile, Seconds};
use proptest::prelude::*;

const ORIGIN: &str = "https://app.test";

fn url(i: usize) -> String {
    format!("https://api.test/{i}")
}

fn put(credentials: bool) -> Query<'static> {
    Query {
        credentials,
        method: b"PUT",
        method_exempt: false,
    }
}

/// A lookup of a PUT without unsafe names at URL `i`.
fn look(c: &mut PreflightCache, i: usize, credentials: bool, now: Seconds, p: &Profile) -> Lookup {
    let u = url(i);
    let key = CacheKey {
        origin: ORIGIN,
        url: &u,
    };
    c.lookup(&key, &put(credentials), [].into_iter(), now, p)
        .lookup
}

/// A passed preflight for a PUT at URL `i`.
fn store(
    c: &mut PreflightCache,
    i: usize,
    credentials: bool,
    max_age: u64,
    now: Seconds,
    p: &Profile,
) {
    let u = url(i);
    let key = CacheKey {
        origin: ORIGIN,
        url: &u,
    };
    c.write(&key, credentials, [&b"PUT"[..]], [], Some(max_age), now, p);
}

/// What a fetch does: a lookup, and a preflight (a write) when it misses.
fn fetch(c: &mut PreflightCache, i: usize, credentials: bool, now: Seconds, p: &Profile) -> Lookup {
    let l = look(c, i, credentials, now, p);
    if l == Lookup::Miss {
        store(c, i, credentials, 600, now, p);
    }
    l
}

#[test]
fn the_standard_has_no_capacity() {
    let p = Profile::fetch();
    let mut c = PreflightCache::default();
    for i in 0..2000 {
        assert_eq!(fetch(&mut c, i, false, 0.0, &p), Lookup::Miss);
    }
    for i in 0..2000 {
        assert_eq!(look(&mut c, i, false, 1.0, &p), Lookup::Hit, "URL {i}");
    }
}

#[test]
fn firefox_evicts_the_least_recently_used_of_100() {
    let p = Profile::firefox();
    let mut c = PreflightCache::default();
    for i in 0..100 {
        fetch(&mut c, i, false, 0.0, &p);
    }
    assert_eq!(c.held(), (100, 100));
    // A hit makes URL 0 the most recently used; URL 100 evicts URL 1.
    assert_eq!(look(&mut c, 0, false, 1.0, &p), Lookup::Hit);
    fetch(&mut c, 100, false, 1.0, &p);
    assert_eq!(c.held(), (100, 100));
    assert_eq!(look(&mut c, 0, false, 2.0, &p), Lookup::Hit);
    assert_eq!(look(&mut c, 1, false, 2.0, &p), Lookup::Miss);
    assert_eq!(look(&mut c, 2, false, 2.0, &p), Lookup::Hit);
}

#[test]
fn firefox_in_order_revisits_of_101_urls_all_miss() {
    let p = Profile::firefox();
    let mut c = PreflightCache::default();
    for i in 0..101 {
        fetch(&mut c, i, false, 0.0, &p);
    }
    for i in 0..101 {
        assert_eq!(fetch(&mut c, i, false, 1.0, &p), Lookup::Miss, "URL {i}");
    }
}

#[test]
fn firefox_stores_an_entry_per_credentials_mode() {
    let p = Profile::firefox();
    let mut c = PreflightCache::default();
    for credentials in [false, true] {
        for i in 0..60 {
            fetch(&mut c, i, credentials, 0.0, &p);
        }
    }
    // 120 entries: the 20 least recently used, uncredentialed 0..20, are gone.
    assert_eq!(look(&mut c, 0, true, 1.0, &p), Lookup::Hit);
    assert_eq!(look(&mut c, 20, false, 1.0, &p), Lookup::Hit);
    assert_eq!(look(&mut c, 19, false, 1.0, &p), Lookup::Miss);
}

#[test]
fn firefox_drops_entries_without_a_live_item_first() {
    let p = Profile::firefox();
    let mut c = PreflightCache::default();
    for i in 0..60 {
        store(&mut c, i, false, 600, 0.0, &p);
    }
    for i in 100..140 {
        store(&mut c, i, false, 3, 0.0, &p);
    }
    for i in 200..210 {
        store(&mut c, i, false, 600, 8.0, &p);
    }
    assert_eq!(c.held(), (70, 70));
    for i in 0..60 {
        assert_eq!(look(&mut c, i, false, 9.0, &p), Lookup::Hit, "URL {i}");
    }
}

#[test]
fn firefox_stores_nothing_for_a_zero_max_age() {
    let p = Profile::firefox();
    let mut c = PreflightCache::default();
    for i in 0..100 {
        store(&mut c, i, false, 600, 0.0, &p);
    }
    store(&mut c, 100, false, 0, 0.0, &p);
    assert_eq!(c.held(), (100, 100));
    assert_eq!(look(&mut c, 0, false, 1.0, &p), Lookup::Hit);
}

#[test]
fn a_cleared_key_frees_its_entries_in_firefox() {
    let p = Profile::firefox();
    let mut c = PreflightCache::default();
    store(&mut c, 0, false, 600, 0.0, &p);
    store(&mut c, 0, true, 600, 0.0, &p);
    assert_eq!(c.held(), (2, 2));
    let u = url(0);
    c.clear(
        &CacheKey {
            origin: ORIGIN,
            url: &u,
        },
        &p,
    );
    assert_eq!(c.held(), (0, 0));
}

#[test]
fn chromium_holds_1024_and_purges_10_at_the_1025th() {
    let p = Profile::chromium();
    let mut c = PreflightCache::default();
    for i in 0..1024 {
        store(&mut c, i, false, 600, 0.0, &p);
    }
    assert_eq!(c.held(), (1024, 1024));
    for i in 0..1024 {
        assert_eq!(look(&mut c, i, false, 1.0, &p), Lookup::Hit, "URL {i}");
    }
    store(&mut c, 1024, false, 600, 1.0, &p);
    assert_eq!(c.held(), (1015, 1015));
    assert_eq!(look(&mut c, 0, false, 2.0, &p), Lookup::Unknown);
    assert_eq!(look(&mut c, 1024, false, 2.0, &p), Lookup::Hit);
}

#[test]
fn chromium_counts_one_entry_per_url_and_expired_entries_until_looked_up() {
    let p = Profile::chromium();
    let mut c = PreflightCache::default();
    for credentials in [false, true] {
        for i in 0..600 {
            store(&mut c, i, credentials, 600, 0.0, &p);
        }
    }
    assert_eq!(c.held(), (600, 600));
    let mut c = PreflightCache::default();
    for i in 0..10 {
        store(&mut c, i, false, 0, 0.0, &p);
    }
    assert_eq!(c.held(), (10, 10));
    // A lookup of an expired entry erases it (D7).
    assert_eq!(look(&mut c, 0, false, 1.0, &p), Lookup::Miss);
    assert_eq!(c.held(), (9, 9));
}

#[test]
fn chromium_stores_no_url_of_1024_characters() {
    let p = Profile::chromium();
    let mut c = PreflightCache::default();
    for n in [1023, 1024] {
        let u = format!(
            "https://api.test/{}",
            "a".repeat(n - "https://api.test/".len())
        );
        let key = CacheKey {
            origin: ORIGIN,
            url: &u,
        };
        c.write(&key, false, [&b"PUT"[..]], [], Some(600), 0.0, &p);
    }
    assert_eq!(c.held(), (1, 1));
}

/// Chromium's cache as its source and the measurements describe it, with the purge's random
/// position given: entries in URL order, an expired or insufficient entry erased when looked
/// up, and a purge of `purge` adjacent entries before storing a new one in a full table.
struct Concrete {
    entries: BTreeMap<String, Seconds>,
    capacity: usize,
    purge: usize,
}

impl Concrete {
    fn lookup(&mut self, u: &str, now: Seconds) -> bool {
        match self.entries.get(u) {
            Some(&expires) if now < expires => true,
            Some(_) => {
                self.entries.remove(u);
                false
            }
            None => false,
        }
    }

    fn store(&mut self, u: &str, expires: Seconds, position: usize) {
        if !self.entries.contains_key(u) && self.entries.len() >= self.capacity {
            let start = position % (self.entries.len() - self.purge + 1);
            let gone: Vec<String> = self
                .entries
                .keys()
                .skip(start)
                .take(self.purge)
                .cloned()
                .collect();
            for g in gone {
                self.entries.remove(&g);
            }
        }
        self.entries.insert(u.to_string(), expires);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Fetches of PUTs over a few URLs against a Chromium-shaped cache of 8 entries purging
    /// 3: the oracle's certain answers are the concrete cache's, whatever the purges removed;
    /// where it cannot tell, it explores both ways and joins them, as `explain` does.
    #[test]
    fn chromium_purge_answers_are_never_wrong(
        ops in prop::collection::vec((0usize..14, prop::bool::weighted(0.2), 0u8..3, any::<u16>()), 1..120),
    ) {
        let mut p = Profile::chromium();
        p.cache.capacity = Capacity::RandomPurge { entries: 8, purge: 3 };
        let mut oracle = PreflightCache::default();
        let mut concrete = Concrete { entries: BTreeMap::new(), capacity: 8, purge: 3 };
        let mut now = 0.0;
        for (i, zero, wait, position) in ops {
            now += f64::from(wait);
            let max_age = if zero { 0 } else { 600 };
            let u = url(i);
            let key = CacheKey { origin: ORIGIN, url: &u };
            let before = oracle.clone();
            let answer = oracle.lookup(&key, &put(false), [].into_iter(), now, &p).lookup;
            let hit = concrete.lookup(&u, now);
            match answer {
                Lookup::Hit => prop_assert!(hit, "the oracle says hit, the cache misses at URL {i}"),
                Lookup::Miss => prop_assert!(!hit, "the oracle says miss, the cache hits at URL {i}"),
                Lookup::Unknown => {}
            }
            if answer == Lookup::Miss {
                oracle.write(&key, false, [&b"PUT"[..]], [], Some(max_age), now, &p);
            } else if answer == Lookup::Unknown {
                // Still held: nothing written. Evicted: a preflight, then its result stored.
                let mut evicted = before;
                evicted.lookup(&key, &put(false), [].into_iter(), now, &p);
                evicted.assume(&key, false, true, &p);
                evicted.write(&key, false, [&b"PUT"[..]], [], Some(max_age), now, &p);
                oracle.join(&evicted, now, &p);
            }
            if !hit {
                concrete.store(&u, now + max_age as Seconds, usize::from(position));
            }
            let (least, most) = oracle.held();
            prop_assert!(least <= concrete.entries.len() && concrete.entries.len() <= most,
                "{} entries, bounds ({least}, {most})", concrete.entries.len());
        }
    }
}
