//! P11: the intent for requests to a more private address space, checked against what the
//! oracle's chromium profile does with Private Network Access preflights (R67).

use corsproof_oracle::intent::{intent, Tri};
use corsproof_oracle::{
    CredentialsMode, Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit, Response,
};
use corsproof_policy::Policy;

fn policy(private_network: bool) -> Policy {
    let text = format!(
        "version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://app.test\"]\nprivate_network = {private_network}\n"
    );
    Policy::from_toml_str(&text, "pna.toml").expect("valid policy")
}

fn pna_get() -> RequestInit {
    let mut init = RequestInit::new(
        url::Url::parse("http://192.168.0.10/status").expect("url"),
        Origin::parse_serialized("https://app.test").expect("origin"),
    );
    init.target_more_private = true;
    init
}

/// Runs a simple GET that Chromium preflights for PNA, against a server answering the
/// preflight with or without `Access-Control-Allow-Private-Network: true`.
fn run(profile: &Profile, server_allows_pna: bool) -> (bool, bool) {
    let request = Request::construct(pna_get(), profile).expect("request");
    let mut cache = PreflightCache::default();
    let mut fetch = Fetch::new(&request, profile);
    let mut preflight = vec![("Access-Control-Allow-Origin", "https://app.test")];
    if server_allows_pna {
        preflight.push(("Access-Control-Allow-Private-Network", "true"));
    }
    let response = Response::new(200, [("Access-Control-Allow-Origin", "https://app.test")]);
    let mut next = fetch.start(&mut cache, 0.0);
    if next == Next::Preflight {
        next = fetch.on_preflight_response(&Response::new(204, preflight), &mut cache, 0.0);
    }
    if next == Next::Request {
        fetch.on_response(&response, &mut cache, 0.0);
    }
    (fetch.outcome().sent(), fetch.outcome().readable)
}

#[test]
fn chromium_pna_intent_follows_the_route() {
    let chromium = Profile::chromium();
    let request = Request::construct(pna_get(), &chromium).expect("request");
    let refused = intent(&policy(false), &request, &chromium);
    assert_eq!(
        (refused.sent, refused.readable, refused.rule),
        (Tri::MustNot, Tri::MustNot, corsproof_oracle::RuleId::P11)
    );
    let allowed = intent(&policy(true), &request, &chromium);
    assert_eq!((allowed.sent, allowed.readable), (Tri::Must, Tri::Must));
    // The oracle agrees: a server that answers PNA per its policy conforms.
    assert!(refused.sent.allows(run(&chromium, false).0));
    assert!(
        allowed.sent.allows(run(&chromium, true).0)
            && allowed.readable.allows(run(&chromium, true).1)
    );
    // And a server that grants PNA against a `private_network = false` policy is caught.
    assert!(!refused.sent.allows(run(&chromium, true).0));
}

#[test]
fn profiles_without_pna_ignore_the_address_space() {
    for profile in [Profile::fetch(), Profile::firefox()] {
        let request = Request::construct(pna_get(), &profile).expect("request");
        let i = intent(&policy(false), &request, &profile);
        assert_eq!(
            (i.sent, i.readable),
            (Tri::Must, Tri::Must),
            "{}",
            profile.name()
        );
        assert_eq!(run(&profile, false), (true, true), "{}", profile.name());
        assert_eq!(request.credentials, CredentialsMode::SameOrigin);
    }
}

/// A credentialed no-cors request (an `<img>`, say) to a more private address space: its PNA
/// preflight is checked with credentials (R33), so only a route with `credentials = true` can
/// let it be sent. (Found by the `middleware_vs_intent` fuzz target.)
#[test]
fn credentialed_no_cors_pna_needs_a_credentialed_route() {
    let chromium = Profile::chromium();
    let mut init = pna_get();
    init.mode = corsproof_oracle::RequestMode::NoCors;
    init.credentials = CredentialsMode::Include;
    let request = Request::construct(init, &chromium).expect("request");
    let with_credentials = |origins: &str, credentials: bool| {
        let text = format!(
            "version = 1\n[[route]]\npath = \"/\"\norigins = [{origins}]\nprivate_network = true\ncredentials = {credentials}\n"
        );
        Policy::from_toml_str(&text, "pna.toml").expect("valid policy")
    };
    for (origins, credentials, sent) in [
        ("\"*\"", false, Tri::MustNot),
        ("\"https://app.test\"", false, Tri::MustNot),
        ("\"https://app.test\"", true, Tri::Must),
    ] {
        let i = intent(&with_credentials(origins, credentials), &request, &chromium);
        assert_eq!(
            (i.sent, i.readable),
            (sent, Tri::MustNot),
            "{origins} {credentials}"
        );
    }
    // The oracle: the preflight passes only with the origin echoed and ACAC.
    let outcome = |preflight: Vec<(&'static str, &'static str)>| {
        let mut cache = PreflightCache::default();
        let mut fetch = Fetch::new(&request, &chromium);
        let mut next = fetch.start(&mut cache, 0.0);
        assert_eq!(next, Next::Preflight);
        next = fetch.on_preflight_response(&Response::new(204, preflight), &mut cache, 0.0);
        if next == Next::Request {
            fetch.on_response(
                &Response::new(200, Vec::<(&str, &str)>::new()),
                &mut cache,
                0.0,
            );
        }
        (fetch.outcome().sent(), fetch.outcome().readable)
    };
    let pna = ("Access-Control-Allow-Private-Network", "true");
    assert_eq!(
        outcome(vec![("Access-Control-Allow-Origin", "*"), pna]),
        (false, false)
    );
    assert_eq!(
        outcome(vec![
            ("Access-Control-Allow-Origin", "https://app.test"),
            pna
        ]),
        (false, false)
    );
    assert_eq!(
        outcome(vec![
            ("Access-Control-Allow-Origin", "https://app.test"),
            ("Access-Control-Allow-Credentials", "true"),
            pna
        ]),
        (true, false)
    );
}
