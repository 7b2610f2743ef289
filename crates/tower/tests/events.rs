//! The middleware's `tracing` events, collected by a small subscriber: one DEBUG event per
//! refusal (kind, route, request method, path and origin, the reason in words), one TRACE
//! event per grant to a request with `Origin`, none for requests without it; whatever the
//! `RefusalReasons` setting; filtered by level like any event.
#![cfg(feature = "tracing")]

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use common::*;
use corsproof_tower::{CorsLayer, RefusalReasons, TRACING_TARGET};
use http::Request;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

const APP: &str = "https://app.example.com";

/// One event: level, target and fields (`message` included), each as text.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
}

impl Seen {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Keeps every event at `max` or more severe.
#[derive(Clone)]
struct Collector {
    max: Level,
    events: Arc<Mutex<Vec<Seen>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

impl Subscriber for Collector {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Asked again per event: the tests of this file run with different levels.
        let _ = metadata;
        Interest::sometimes()
    }
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.events.lock().unwrap().push(Seen {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            fields,
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The events the middleware built from `layer` emits for `request`, with a subscriber
/// that keeps events at `max` or more severe.
fn events(layer: &CorsLayer, max: Level, request: Request<String>) -> Vec<Seen> {
    let collector = Collector {
        max,
        events: Arc::new(Mutex::new(Vec::new())),
    };
    let events = Arc::clone(&collector.events);
    tracing::subscriber::with_default(collector, || {
        send(layer, &Inner::new(), request);
    });
    let seen = events.lock().unwrap().clone();
    seen
}

/// The one event of `request` under `layer`, at TRACE.
fn the_event(layer: &CorsLayer, request: Request<String>) -> Seen {
    let mut seen = events(layer, Level::TRACE, request);
    assert_eq!(seen.len(), 1, "{seen:#?}");
    seen.remove(0)
}

#[test]
fn a_refused_preflight_is_a_debug_event_with_kind_route_and_reason() {
    let event = the_event(&layer(POLICY), preflight("/api/items", APP, "PATCH", None));
    assert_eq!(event.level, Level::DEBUG);
    assert_eq!(event.target, TRACING_TARGET);
    assert_eq!(event.field("kind"), Some("method-not-allowed"));
    assert_eq!(event.field("route"), Some("api"));
    assert_eq!(event.field("method"), Some("OPTIONS"));
    assert_eq!(event.field("path"), Some("/api/items"));
    assert_eq!(event.field("origin"), Some(APP));
    assert_eq!(event.field("preflight"), Some("true"));
    assert_eq!(
        event.field("message"),
        Some(
            "CORS refused: method \"PATCH\" is neither GET, HEAD, POST nor listed in the \
             methods of route \"api\" (method names are case-sensitive)"
        )
    );
}

#[test]
fn every_kind_of_refusal_is_an_event_whatever_the_reasons_setting() {
    let cases: Vec<(&str, Request<String>, &str, Option<&str>)> = vec![
        (
            "refused origin, actual request",
            req("GET", "/api/items", &[("origin", "https://evil.example")]),
            "origin-not-allowed",
            Some("api"),
        ),
        (
            "null origin, preflight",
            preflight("/api/items", "null", "PUT", None),
            "null-origin-not-allowed",
            Some("api"),
        ),
        (
            "request header not listed",
            preflight("/api/items", APP, "PUT", Some("x-secret")),
            "header-not-allowed",
            Some("api"),
        ),
        (
            "no route",
            req("GET", "/elsewhere", &[("origin", APP)]),
            "no-route",
            None,
        ),
        (
            "same-origin-only route",
            req("GET", "/api/admin/users", &[("origin", APP)]),
            "same-origin-only",
            Some("admin"),
        ),
        (
            "private network withheld",
            req(
                "OPTIONS",
                "/api/items",
                &[
                    ("origin", APP),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-private-network", "true"),
                ],
            ),
            "private-network-not-allowed",
            Some("api"),
        ),
    ];
    for reasons in [
        RefusalReasons::Off,
        RefusalReasons::Extension,
        RefusalReasons::Header,
        RefusalReasons::Debug,
    ] {
        let layer = layer(POLICY).refusal_reasons(reasons);
        for (name, request, kind, route) in &cases {
            let event = the_event(&layer, request.clone());
            let what = format!("{name} ({reasons:?})");
            assert_eq!(event.level, Level::DEBUG, "{what}");
            assert_eq!(event.field("kind"), Some(*kind), "{what}");
            assert_eq!(event.field("route"), *route, "{what}");
            assert!(
                event
                    .field("message")
                    .is_some_and(|m| m.starts_with("CORS refused: ")),
                "{what}: {event:?}"
            );
        }
    }
}

#[test]
fn a_grant_is_a_trace_event_with_its_route() {
    let layer = layer(POLICY);
    let event = the_event(
        &layer,
        preflight("/api/items", "https://eu.partner.example", "PUT", None),
    );
    assert_eq!(event.level, Level::TRACE);
    assert_eq!(event.target, TRACING_TARGET);
    assert_eq!(event.field("message"), Some("CORS granted"));
    assert_eq!(event.field("route"), Some("api"));
    assert_eq!(event.field("origin"), Some("https://eu.partner.example"));
    assert_eq!(event.field("preflight"), Some("true"));
    assert_eq!(event.field("kind"), None);

    let event = the_event(&layer, req("GET", "/public/a", &[("origin", APP)]));
    assert_eq!(event.level, Level::TRACE);
    assert_eq!(event.field("route"), Some("public"));
    assert_eq!(event.field("method"), Some("GET"));
    assert_eq!(event.field("preflight"), Some("false"));
}

#[test]
fn requests_without_origin_are_no_event() {
    let layer = layer(POLICY);
    for request in [
        req("GET", "/api/items", &[]),
        req("GET", "/public/a", &[]),
        req("GET", "/elsewhere", &[]),
    ] {
        let uri = request.uri().clone();
        assert_eq!(events(&layer, Level::TRACE, request), [], "{uri}");
    }
}

#[test]
fn levels_filter_the_events() {
    let layer = layer(POLICY);
    let grant = || req("GET", "/api/items", &[("origin", APP)]);
    let refusal = || req("GET", "/api/items", &[("origin", "https://evil.example")]);
    assert_eq!(events(&layer, Level::DEBUG, grant()), []);
    assert_eq!(events(&layer, Level::DEBUG, refusal()).len(), 1);
    assert_eq!(events(&layer, Level::INFO, refusal()), []);
}

#[test]
fn request_values_in_events_are_bounded_and_escaped() {
    let long = format!("https://{}.example", "a".repeat(300));
    let event = the_event(
        &layer(POLICY),
        req("GET", "/api/items", &[("origin", long.as_str())]),
    );
    let origin = event.field("origin").expect("an origin");
    assert_eq!(origin.len(), 203, "{origin}");
    assert!(origin.ends_with("..."));
}
