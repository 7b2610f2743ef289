//! Arbitrary bytes as a TOML and as a JSON policy: a value or an error, never a panic; a
//! policy that parses round-trips through its TOML and its JSON emitters.
#![no_main]

use corsproof_policy::{parse_str, Format, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Toml, Format::Json] {
        let Ok(parsed) = parse_str(text, "fuzz", format) else {
            continue;
        };
        let policy = parsed.policy;
        let toml = policy.to_toml_string();
        match Policy::from_toml_str(&toml, "fuzz.toml") {
            Ok(back) => assert_eq!(back, policy, "TOML round trip changed the policy:\n{toml}"),
            Err(e) => panic!("emitted TOML does not parse: {e}\n{toml}"),
        }
        let json = policy.to_json_string();
        match Policy::from_json_str(&json, "fuzz.json") {
            Ok(back) => assert_eq!(back, policy, "JSON round trip changed the policy:\n{json}"),
            Err(e) => panic!("emitted JSON does not parse: {e}\n{json}"),
        }
    }
});
