//! The file as written: serde shapes (unknown fields are errors), then the same tree with
//! each value's position, so that validation can name lines for TOML and JSON alike.

use std::marker::PhantomData;
use std::ops::Range;

use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer};

use crate::source::{LineIndex, Pos};

/// How a value is carried by a raw shape: bare (JSON) or with its byte span (TOML).
pub(crate) trait Carrier {
    /// The carried form of a `T`.
    type Of<T: DeserializeOwned>: DeserializeOwned;
    /// The value and, when known, its byte span in the text.
    fn split<T: DeserializeOwned>(carried: Self::Of<T>) -> (T, Option<Range<usize>>);
}

/// Values without positions (serde_json has no span support).
pub(crate) enum Bare {}

impl Carrier for Bare {
    type Of<T: DeserializeOwned> = T;
    fn split<T: DeserializeOwned>(carried: T) -> (T, Option<Range<usize>>) {
        (carried, None)
    }
}

/// Values with their byte spans (the toml crate fills these in).
pub(crate) enum Spanned {}

impl Carrier for Spanned {
    type Of<T: DeserializeOwned> = toml::Spanned<T>;
    fn split<T: DeserializeOwned>(carried: toml::Spanned<T>) -> (T, Option<Range<usize>>) {
        let span = carried.span();
        (carried.into_inner(), Some(span))
    }
}

/// Any integer the format can hold, so range errors become validation errors with a route
/// and field rather than type errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawInt(pub(crate) i128);

impl<'de> Deserialize<'de> for RawInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = RawInt;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawInt, E> {
                Ok(RawInt(v.into()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawInt, E> {
                Ok(RawInt(v.into()))
            }
            fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<RawInt, E> {
                Ok(RawInt(v))
            }
        }
        deserializer.deserialize_any(IntVisitor)
    }
}

type List<C> = <C as Carrier>::Of<Vec<<C as Carrier>::Of<String>>>;

/// The top level as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub(crate) struct RawPolicy<C: Carrier> {
    version: Option<C::Of<RawInt>>,
    route: Option<Vec<C::Of<RawRoute<C>>>>,
    #[serde(skip)]
    carrier: PhantomData<C>,
}

/// One `[[route]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub(crate) struct RawRoute<C: Carrier> {
    name: Option<C::Of<String>>,
    path: Option<C::Of<String>>,
    origins: Option<List<C>>,
    methods: Option<List<C>>,
    request_headers: Option<List<C>>,
    expose_headers: Option<List<C>>,
    credentials: Option<C::Of<bool>>,
    max_age: Option<C::Of<RawInt>>,
    private_network: Option<C::Of<bool>>,
    probe_paths: Option<List<C>>,
    allow_risky: Option<C::Of<bool>>,
    #[serde(skip)]
    carrier: PhantomData<C>,
}

/// A value and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loc<T> {
    pub(crate) value: T,
    pub(crate) at: Option<Pos>,
}

/// A list of strings, each located.
pub(crate) type LocList = Loc<Vec<Loc<String>>>;

/// The policy as written, located.
#[derive(Debug)]
pub(crate) struct Doc {
    pub(crate) version: Option<Loc<RawInt>>,
    pub(crate) routes: Vec<Loc<DocRoute>>,
}

/// A route as written, located.
#[derive(Debug)]
pub(crate) struct DocRoute {
    pub(crate) name: Option<Loc<String>>,
    pub(crate) path: Option<Loc<String>>,
    pub(crate) origins: Option<LocList>,
    pub(crate) methods: Option<LocList>,
    pub(crate) request_headers: Option<LocList>,
    pub(crate) expose_headers: Option<LocList>,
    pub(crate) credentials: Option<Loc<bool>>,
    pub(crate) max_age: Option<Loc<RawInt>>,
    pub(crate) private_network: Option<Loc<bool>>,
    pub(crate) probe_paths: Option<LocList>,
    pub(crate) allow_risky: Option<Loc<bool>>,
}

fn locate<C: Carrier, T: DeserializeOwned>(carried: C::Of<T>, index: &LineIndex<'_>) -> Loc<T> {
    let (value, span) = C::split(carried);
    Loc {
        value,
        at: span.map(|s| index.pos(s.start)),
    }
}

fn locate_list<C: Carrier>(carried: List<C>, index: &LineIndex<'_>) -> LocList {
    let outer = locate::<C, Vec<C::Of<String>>>(carried, index);
    Loc {
        value: outer
            .value
            .into_iter()
            .map(|item| locate::<C, String>(item, index))
            .collect(),
        at: outer.at,
    }
}

impl<C: Carrier> RawPolicy<C> {
    /// Attaches line:column positions (none for [`Bare`]).
    pub(crate) fn locate(self, index: &LineIndex<'_>) -> Doc {
        Doc {
            version: self.version.map(|v| locate::<C, RawInt>(v, index)),
            routes: self
                .route
                .unwrap_or_default()
                .into_iter()
                .map(|r| {
                    let route = locate::<C, RawRoute<C>>(r, index);
                    Loc {
                        value: route.value.locate(index),
                        at: route.at,
                    }
                })
                .collect(),
        }
    }
}

impl<C: Carrier> RawRoute<C> {
    fn locate(self, index: &LineIndex<'_>) -> DocRoute {
        let string = |v| locate::<C, String>(v, index);
        let boolean = |v| locate::<C, bool>(v, index);
        let list = |v| locate_list::<C>(v, index);
        DocRoute {
            name: self.name.map(string),
            path: self.path.map(string),
            origins: self.origins.map(list),
            methods: self.methods.map(list),
            request_headers: self.request_headers.map(list),
            expose_headers: self.expose_headers.map(list),
            credentials: self.credentials.map(boolean),
            max_age: self.max_age.map(|v| locate::<C, RawInt>(v, index)),
            private_network: self.private_network.map(boolean),
            probe_paths: self.probe_paths.map(list),
            allow_risky: self.allow_risky.map(boolean),
        }
    }
}
