//! Origin matching through the middleware: exact origins, subdomain patterns and their
//! edge cases.

mod common;

use common::*;

const POLICY: &str = r#"
version = 1
[[route]]
path = "/"
origins = [
  "https://app.example.com",
  "http://localhost:3000",
  "https://[2001:db8::1]:8443",
  "https://10.0.0.1",
  "https://*.example.com",
  "https://*.ports.test:8443",
]
"#;

fn allowed(origin: &str) -> bool {
    let l = layer(POLICY);
    let actual = send(&l, &Inner::new(), req("GET", "/", &[("origin", origin)]));
    let pre = send(&l, &Inner::new(), preflight("/", origin, "GET", None));
    let a = match one(actual.headers(), "access-control-allow-origin") {
        Some(v) => {
            assert_eq!(v, origin);
            true
        }
        None => false,
    };
    assert_eq!(
        pre.status() == 204,
        a,
        "actual and preflight disagree on {origin}"
    );
    a
}

#[test]
fn exact_origins_match_byte_for_byte() {
    for yes in [
        "https://app.example.com",
        "http://localhost:3000",
        "https://[2001:db8::1]:8443",
        "https://10.0.0.1",
    ] {
        assert!(allowed(yes), "{yes}");
    }
    for no in [
        "https://app.example.com/",
        "https://app.example.com:443",
        "HTTPS://app.example.com",
        "https://App.example.com",
        "http://localhost:3001",
        "http://localhost",
        "https://localhost:3000",
        "https://[2001:db8::1]",
        "https://10.0.0.1:443",
        " https://app.example.com ",
        "https://app.example.com, https://app.example.com",
        "null",
        "*",
    ] {
        assert!(!allowed(no), "{no}");
    }
}

#[test]
fn subdomain_patterns() {
    for yes in [
        "https://a.example.com",
        "https://app2.example.com",
        "https://a.b.c.example.com",
        "https://xn--nxasmq6b.example.com",
        "https://a.ports.test:8443",
    ] {
        assert!(allowed(yes), "{yes}");
    }
    for no in [
        "https://example.com",     // the apex
        "https://evilexample.com", // not a label boundary
        "https://a.evilexample.com",
        "https://example.com.evil.test", // suffix elsewhere
        "https://a.example.com.evil.test",
        "http://a.example.com",       // other scheme
        "https://a.example.com:8443", // other port
        "https://a.example.com:443",  // explicit default port
        "https://.example.com",       // empty label
        "https://a..example.com",
        "https://A.example.com", // not serialized lowercase
        "https://a_b.example.com",
        "https://-a.example.com",
        "https://a.ports.test", // pattern with port, none given
        "https://ports.test:8443",
        "https://a.ports.test:84430",
        "https://a.ports.test:8443/",
    ] {
        assert!(!allowed(no), "{no}");
    }
}
