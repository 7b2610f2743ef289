//! Container targets against a real Docker engine, with the images `cargo xtask images`
//! builds (or the ones CORSPROOF_NGINX_IMAGE / CORSPROOF_SERVE_IMAGE name):
//!
//! - the differential over launchers: the same nginx configuration started as a local
//!   process ([`launch::nginx_with_config`]) and as a container
//!   ([`container::nginx_with_config`]) gives the same findings, on the emitted configuration
//!   (no findings) and on deliberately defective hand-written ones (findings, so that "the
//!   same" is not "both empty");
//! - the launcher's failure paths: a missing image, a container that exits, removal on drop.
//!
//! Without Docker or without the images the tests print a loud SKIPPED line with the reason;
//! under CI (`CI` set) they fail instead, since CI builds the images first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use corsproof_emit::{self as emit, Upstream};
use corsproof_engine::check::{cases, replay, CheckConfig};
use corsproof_engine::generate::Generator;
use corsproof_oracle::Profile;
use corsproof_policy::Policy;
use corsproof_targets::container::{self, ContainerError};
use corsproof_targets::launch;

/// One test at a time: some compare the engine's list of containers before and after.
static ENGINE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ENGINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the tests can run: Docker answers and `images` are present. Otherwise prints why
/// (and panics under CI).
fn ready_or_skip(test: &str, images: &[&str]) -> bool {
    let why = match container::docker_available() {
        Err(why) => Some(format!("no Docker engine ({why})")),
        Ok(_) => images
            .iter()
            .find_map(|image| match container::image_present(image) {
                Ok(true) => None,
                Ok(false) => Some(format!(
                    "image {image} is missing (build it with `cargo xtask images`)"
                )),
                Err(e) => Some(e.to_string()),
            }),
    };
    let found = match why {
        None => Ok(()),
        Some(why) => Err(format!(
            "{why}; CI runs `cargo xtask images` before the tests"
        )),
    };
    corsproof_testkit::tool::require_that("docker", found, &format!("{test} runs containers"))
}

fn nginx_bin_or_skip(test: &str) -> Option<PathBuf> {
    let bin = launch::find_nginx();
    let found = bin
        .as_ref()
        .map(|_| ())
        .ok_or_else(|| "not installed".to_string());
    corsproof_testkit::tool::require_that("nginx", found, &format!("{test} runs nginx"))
        .then_some(bin)
        .flatten()
}

/// A finding reduced to what does not depend on where the target listens: kind, severity,
/// route, profiles and the browser request with the target's address replaced.
type Key = (String, String, Option<String>, Vec<String>, String);

fn findings(policy: &Policy, url: &url::Url) -> (Vec<Key>, u64) {
    let config = CheckConfig {
        cases: 300,
        seed: 7,
        profiles: vec![Profile::fetch(), Profile::chromium(), Profile::firefox()],
        // One connection: with several, which failing case a group keeps depends on timing.
        concurrency: 1,
        timeout: Duration::from_secs(10),
        ..CheckConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // The same requests for both targets: generated for one fixed address, replayed on
    // each (a generated run would draw different cases for different ports, since the
    // target's own origin is in the generators' pools).
    let fixed = url::Url::parse("http://127.0.0.1:8/").expect("a URL");
    let requests = cases(
        &Generator::new(policy, &fixed),
        policy,
        config.cases,
        config.seed,
    );
    let report = runtime
        .block_on(replay(policy, "policy", url, requests, &config))
        .expect("check runs");
    let address = format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    );
    let mut keys: Vec<Key> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.kind.to_string(),
                format!("{:?}", f.severity),
                f.route.clone(),
                f.profiles.iter().map(|p| p.to_string()).collect(),
                serde_json::to_string(&f.request)
                    .expect("a request serializes")
                    .replace(&address, "TARGET"),
            )
        })
        .collect();
    keys.sort();
    (keys, report.stats.requests)
}

fn summary(keys: &[Key]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for k in keys {
        *m.entry(k.0.clone()).or_insert(0) += 1;
    }
    m
}

/// Runs `conf(LISTEN)` locally and in a container (where LISTEN is `80`) and checks both.
fn differential(name: &str, policy: &Policy, conf: impl Fn(&str) -> String) -> Vec<Key> {
    let bin = launch::find_nginx().expect("checked by the caller");
    let t = Instant::now();
    let local = launch::nginx_with_config(&bin, &conf).expect("local nginx starts");
    let (local_keys, local_requests) = findings(policy, local.url());
    drop(local);
    let local_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let running =
        container::start(&container::nginx_with_config(&conf("80"))).expect("container starts");
    let started = t.elapsed().as_secs_f64();
    let (container_keys, container_requests) = findings(policy, running.url());
    drop(running);
    eprintln!(
        "{name}: local {local_secs:.1} s ({local_requests} requests), container {:.1} s \
         (started in {started:.1} s, {container_requests} requests); findings {:?}",
        t.elapsed().as_secs_f64(),
        summary(&local_keys)
    );
    assert_eq!(
        local_requests, container_requests,
        "{name}: the same requests, the same shrinking steps"
    );
    assert_eq!(
        local_keys, container_keys,
        "{name}: the local process and the container disagree"
    );
    local_keys
}

#[test]
fn emitted_config_same_findings_locally_and_in_a_container() {
    let _serial = serial();
    let test = "emitted_config_same_findings_locally_and_in_a_container";
    if !ready_or_skip(
        test,
        &[&container::image_from_env(
            container::NGINX_IMAGE_VAR,
            container::NGINX_LOCAL_IMAGE,
        )],
    ) {
        return;
    }
    if nginx_bin_or_skip(test).is_none() {
        return;
    }
    let path = root().join("corpus/policies/mixed-routes.toml");
    let policy = Policy::from_path(&path).expect("bundled policy");
    let conf = emit::nginx(&policy, &Upstream::demo()).expect("expressible");
    let keys = differential("emitted mixed-routes", &policy, |l| conf.standalone(l));
    assert!(
        keys.is_empty(),
        "the emitted configuration conforms: {keys:?}"
    );
}

/// A hand-written site configuration of the deployments suite (`@LISTEN@`, `proxy_pass
/// http://app`) in a main configuration whose `app` is a second server block of the same
/// nginx, so that it runs unchanged locally and in a container.
fn with_app(site: &str, listen: &str, app_port: u16) -> String {
    let site = site.replace("@LISTEN@", listen);
    format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid nginx.pid;\n\
         error_log error.log warn;\nevents {{ worker_connections 256; }}\nhttp {{\n\
         access_log off;\nserver_tokens off;\ndefault_type application/json;\n\
         client_body_temp_path tmp/body;\nproxy_temp_path tmp/proxy;\n\
         fastcgi_temp_path tmp/fastcgi;\nuwsgi_temp_path tmp/uwsgi;\nscgi_temp_path tmp/scgi;\n\
         upstream app {{ server 127.0.0.1:{app_port}; keepalive 16; }}\n\
         proxy_http_version 1.1;\nproxy_set_header Connection \"\";\n\
         server {{ listen 127.0.0.1:{app_port}; location / {{ add_header X-Request-Id 1; \
         return 200 '{{\"ok\":true}}'; }} }}\n{site}\n}}\n"
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn defective_configs_same_findings_locally_and_in_a_container() {
    let _serial = serial();
    let test = "defective_configs_same_findings_locally_and_in_a_container";
    if !ready_or_skip(
        test,
        &[&container::image_from_env(
            container::NGINX_IMAGE_VAR,
            container::NGINX_LOCAL_IMAGE,
        )],
    ) {
        return;
    }
    if nginx_bin_or_skip(test).is_none() {
        return;
    }
    let dir = root().join("crates/engine/tests/deployments");
    let policy =
        Policy::from_path(dir.join("policies/credentialed.toml")).expect("deployments policy");
    for (conf, defective) in [
        ("unanchored-regex.conf", true),
        ("no-vary.conf", true),
        ("correct.conf", false),
    ] {
        let site = std::fs::read_to_string(dir.join("nginx").join(conf)).expect("conf");
        let local_app = free_port();
        let keys = differential(conf, &policy, |listen| {
            // Inside the container the app port is fixed; locally a free one.
            let app = if listen == "80" { 9000 } else { local_app };
            with_app(&site, listen, app)
        });
        assert_eq!(
            !keys.is_empty(),
            defective,
            "{conf}: findings {:?}",
            summary(&keys)
        );
    }
}

#[test]
fn missing_image_names_the_image_and_how_to_build_it() {
    let _serial = serial();
    let test = "missing_image_names_the_image_and_how_to_build_it";
    if !ready_or_skip(test, &[]) {
        return;
    }
    let mut target = container::nginx_with_config("events {}\n");
    target.image = "corsproof/does-not-exist:never".into();
    let err = container::start(&target).expect_err("no such image");
    let text = err.to_string();
    assert!(matches!(err, ContainerError::ImageMissing { .. }), "{text}");
    assert!(text.contains("corsproof/does-not-exist:never"), "{text}");
    assert!(text.contains("cargo xtask images"), "{text}");
}

fn containers_with_label() -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--no-trunc",
            "--filter",
            "label=org.corsproof.target=1",
        ])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn exiting_container_reports_its_log_and_is_removed() {
    let _serial = serial();
    let test = "exiting_container_reports_its_log_and_is_removed";
    let image = container::image_from_env(container::NGINX_IMAGE_VAR, container::NGINX_LOCAL_IMAGE);
    if !ready_or_skip(test, &[&image]) {
        return;
    }
    let before = containers_with_label();
    let target = container::nginx_with_config("this is not an nginx configuration;\n");
    let err = container::start(&target).expect_err("nginx refuses the configuration");
    let text = err.to_string();
    assert!(matches!(err, ContainerError::NotReady { .. }), "{text}");
    // nginx's own complaint reaches the message.
    assert!(text.contains("unknown directive"), "{text}");
    let after = containers_with_label();
    let leaked: Vec<_> = after.iter().filter(|id| !before.contains(id)).collect();
    assert!(leaked.is_empty(), "containers left behind: {leaked:?}");
}

#[test]
fn dropping_the_handle_removes_the_container() {
    let _serial = serial();
    let test = "dropping_the_handle_removes_the_container";
    let image = container::image_from_env(container::SERVE_IMAGE_VAR, container::SERVE_LOCAL_IMAGE);
    if !ready_or_skip(test, &[&image]) {
        return;
    }
    let policy = std::fs::read_to_string(root().join("corpus/policies/public-api.toml"))
        .expect("bundled policy");
    let running =
        container::start(&container::serve("policy.toml", &policy)).expect("serve starts");
    let id = running.id().to_string();
    assert!(containers_with_label().iter().any(|c| c.starts_with(&id)));
    // It answers through the published loopback port.
    assert_eq!(running.url().host_str(), Some("127.0.0.1"));
    drop(running);
    assert!(
        !containers_with_label().iter().any(|c| c.starts_with(&id)),
        "container {id} still exists after drop"
    );
}

#[test]
fn compose_file_validates() {
    let _serial = serial();
    let file = root().join("docker/compose.yaml");
    let file = file.to_string_lossy().to_string();
    // `docker-compose` (v1, Debian's) or the `docker compose` plugin, whichever exists.
    let attempts: [(&str, Vec<&str>); 2] = [
        ("docker-compose", vec!["-f", &file, "config"]),
        ("docker", vec!["compose", "-f", &file, "config"]),
    ];
    for (program, args) in attempts {
        let Ok(out) = std::process::Command::new(program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
        else {
            continue;
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        if program == "docker" && !out.status.success() && stderr.contains("unknown") {
            continue; // no compose plugin
        }
        assert!(
            out.status.success(),
            "{program} {args:?} rejects docker/compose.yaml: {stderr}"
        );
        let config = String::from_utf8_lossy(&out.stdout);
        for service in [
            "nginx:",
            "nginx-config:",
            "corsproof:",
            "corsproof-serve:",
            "kong:",
        ] {
            assert!(
                config.contains(service),
                "service {service} missing in {config}"
            );
        }
        assert!(config.contains("KONG_DATABASE"), "{config}");
        eprintln!("docker/compose.yaml validated by {program}");
        return;
    }
    corsproof_testkit::tool::require_that(
        "docker-compose",
        Err("neither docker-compose nor `docker compose` is installed".to_string()),
        "validates docker/compose.yaml",
    );
}

/// The network mechanism Kong's stack uses ([`container::start_kong`]): nginx in one
/// container proxies to `corsproof serve` (a policy without routes: no CORS header of its
/// own) in another, reached by its network alias; the emitted configuration conforms.
#[test]
fn nginx_proxies_to_serve_over_a_container_network() {
    let _serial = serial();
    let test = "nginx_proxies_to_serve_over_a_container_network";
    let nginx_image =
        container::image_from_env(container::NGINX_IMAGE_VAR, container::NGINX_LOCAL_IMAGE);
    let serve_image =
        container::image_from_env(container::SERVE_IMAGE_VAR, container::SERVE_LOCAL_IMAGE);
    if !ready_or_skip(test, &[&nginx_image, &serve_image]) {
        return;
    }
    let t = Instant::now();
    let network = container::Network::create("proxy-test").expect("network");
    let mut upstream = container::serve("upstream.toml", "version = 1\n");
    upstream.network = Some((
        network.name().to_string(),
        Some("corsproof-upstream".into()),
    ));
    let upstream = container::start(&upstream).expect("upstream starts");
    let policy = Policy::from_path(root().join("corpus/policies/mixed-routes.toml"))
        .expect("bundled policy");
    let conf = emit::nginx(
        &policy,
        &Upstream::ProxyPass("http://corsproof-upstream:8080".into()),
    )
    .expect("expressible");
    let mut front = container::nginx_with_config(&conf.standalone("80"));
    front.network = Some((network.name().to_string(), None));
    let front = container::start(&front).expect("nginx starts");

    // A plain GET reaches the upstream: serve's JSON, not nginx's 502 page.
    let addr = format!(
        "127.0.0.1:{}",
        front.url().port().expect("a published port")
    );
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    use std::io::{Read, Write};
    s.write_all(b"GET /api/items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("x-request-id") || answer.contains("X-Request-Id"),
        "{answer}"
    );

    let (keys, requests) = findings(&policy, front.url());
    assert!(keys.is_empty(), "{:?}", summary(&keys));
    eprintln!(
        "{test}: two containers on {}, {requests} requests, no findings, {:.1} s",
        network.name(),
        t.elapsed().as_secs_f64()
    );
    drop(front);
    drop(upstream);
    drop(network);
}

#[test]
fn missing_kong_image_starts_nothing() {
    let _serial = serial();
    let test = "missing_kong_image_starts_nothing";
    if !ready_or_skip(test, &[]) {
        return;
    }
    if container::image_present(container::KONG_DEFAULT_IMAGE).unwrap_or(false)
        && std::env::var_os(container::KONG_IMAGE_VAR).is_none()
    {
        eprintln!("\n*** SKIPPED {test}: a Kong image is present ***\n");
        return;
    }
    if std::env::var_os(container::KONG_IMAGE_VAR).is_some() {
        eprintln!(
            "\n*** SKIPPED {test}: {} is set ***\n",
            container::KONG_IMAGE_VAR
        );
        return;
    }
    let before = containers_with_label();
    let err = container::start_kong(
        "_format_version: \"3.0\"\n",
        "corsproof-serve",
        "version = 1\n",
    )
    .expect_err("no Kong image here");
    let text = err.to_string();
    assert!(matches!(err, ContainerError::ImageMissing { .. }), "{text}");
    assert!(text.contains(container::KONG_DEFAULT_IMAGE), "{text}");
    assert!(text.contains(container::KONG_IMAGE_VAR), "{text}");
    assert_eq!(containers_with_label(), before);
}

/// The upstream `corsproof run kong` starts is the one docker/kong/ documents: a policy
/// without routes.
#[test]
fn kong_upstream_policy_is_docker_kongs() {
    let file = Policy::from_path(root().join("docker/kong/upstream.toml")).expect("upstream.toml");
    let constant = Policy::from_toml_str(container::KONG_UPSTREAM_POLICY, "KONG_UPSTREAM_POLICY")
        .expect("the constant parses");
    assert!(file.routes.is_empty());
    assert_eq!(file, constant);
}

/// A hostile image's output (terminal escape sequences) reaches the error escaped.
#[test]
fn container_output_in_errors_is_terminal_safe() {
    let _serial = serial();
    let test = "container_output_in_errors_is_terminal_safe";
    let image = container::image_from_env(container::NGINX_IMAGE_VAR, container::NGINX_LOCAL_IMAGE);
    if !ready_or_skip(test, &[&image]) {
        return;
    }
    let mut target = container::custom(&image, 80);
    target.command = Some(vec![
        "/bin/sh".into(),
        "-c".into(),
        "printf '\\033]0;owned\\007\\033[31mhostile\\n'; exit 3".into(),
    ]);
    let err = container::start(&target).expect_err("it exits");
    let text = err.to_string();
    assert!(text.contains("hostile"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("\\u{1b}"), "{text:?}");
}
