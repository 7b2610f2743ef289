//! The check engine's run as a whole: a worker that fails fails the run, and every finding
//! cites a rule of its kind.

use std::sync::Arc;
use std::time::Duration;

use corsproof_engine::check::{check, CheckConfig, CheckError};
use corsproof_policy::Policy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that reflects any Origin with credentials on every request (kept alive), at most
/// `limit` connections.
async fn reflecting_server(limit: usize) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        for _ in 0..limit {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Bounded: at most 10,000 reads per connection.
                for _ in 0..10_000 {
                    let Ok(n) = s.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        buf.drain(..end + 4);
                        let origin = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Origin: "))
                            .unwrap_or("null")
                            .to_string();
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nAccess-Control-Allow-Credentials: true\r\nContent-Length: 0\r\n\r\n"
                        );
                        if s.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn policy() -> Policy {
    Policy::from_toml_str(
        "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.test\"]\ncredentials = true\n",
        "p.toml",
    )
    .expect("a policy")
}

#[tokio::test]
async fn a_worker_that_panics_fails_the_run() {
    let addr = reflecting_server(64).await;
    let url = url::Url::parse(&format!("http://{addr}")).expect("a URL");
    let config = CheckConfig {
        cases: 20,
        concurrency: 2,
        timeout: Duration::from_secs(5),
        progress: Some(Arc::new(|done, _, _| {
            assert!(done < 5, "a defect in a worker");
        })),
        ..CheckConfig::default()
    };
    match check(&policy(), "p.toml", &url, &config).await {
        Err(CheckError::Worker { message }) => {
            assert!(message.contains("a defect in a worker"), "{message}");
        }
        other => panic!("expected a worker failure, got {other:?}"),
    }
}

#[tokio::test]
async fn every_finding_cites_a_rule_of_its_kind() {
    let addr = reflecting_server(64).await;
    let url = url::Url::parse(&format!("http://{addr}")).expect("a URL");
    let config = CheckConfig {
        cases: 100,
        concurrency: 4,
        timeout: Duration::from_secs(5),
        ..CheckConfig::default()
    };
    let report = check(&policy(), "p.toml", &url, &config)
        .await
        .expect("the check runs");
    assert!(
        !report.findings.is_empty(),
        "a reflecting server is flagged"
    );
    for f in &report.findings {
        let corsproof_report::Kind::Check(kind) = f.kind else {
            panic!("{} is not a check kind", f.kind);
        };
        let rule = f.rule.unwrap_or_else(|| panic!("{kind} cites no rule"));
        assert!(kind.rules().contains(&rule), "{kind} cites {rule}");
    }
}
