//! `corsproof infer URL`: the policy a running deployment implements
//! (`corsproof_engine::infer`), written as TOML; what a policy cannot say on standard error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use corsproof_engine::infer::{self, InferError, Options};

/// The flags of `infer`.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    /// A file of route paths to probe, one a line (`#` starts a comment); default `/`.
    #[arg(long, value_name = "FILE", conflicts_with = "har")]
    pub paths: Option<PathBuf>,
    /// A HAR capture of the site: its request paths become routes, its Origin headers
    /// candidate origins, its methods and request headers the ones probed.
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,
    /// A candidate origin, the site's own front end for instance (repeatable).
    #[arg(long = "origin", value_name = "SITE")]
    pub origins: Vec<String>,
    /// Write the policy here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// At most N requests in all; the run stops with exit 3 when they run out.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: Option<u64>,
    /// At most N requests per second, over all connections.
    #[arg(long, value_name = "N")]
    pub rate: Option<f64>,
    /// The most connections used at once: routes are spread over them, each connection
    /// sending one request at a time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub connections: u64,
    /// For an https:// URL, also trust the CA certificates of this PEM file.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
}

/// Runs `corsproof infer`: 0 the policy says everything, 1 it is written but some behaviour
/// cannot be said (listed on standard error), 2 bad input, 3 the target did not answer.
pub fn run(url: &str, flags: &Flags) -> anyhow::Result<u8> {
    let mut options = Options {
        origins: flags.origins.clone(),
        timeout: Duration::from_secs(flags.timeout),
        max_requests: flags.max_requests,
        rate: flags.rate.filter(|r| r.is_finite() && *r > 0.0),
        connections: usize::try_from(flags.connections).unwrap_or(1),
        tls: crate::audit::trust(flags.cacert.as_deref())?,
        ..Options::default()
    };
    if let Some(file) = &flags.paths {
        options.paths = read_paths(file)?;
    }
    if let Some(file) = &flags.har {
        har(file, &mut options)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let inferred = match runtime.block_on(infer::infer(url, &options)) {
        Ok(i) => i,
        Err(InferError::Target(e)) => {
            eprintln!("corsproof infer: {e}");
            return Ok(2);
        }
        Err(e) => {
            eprintln!("corsproof infer: {e}");
            return Ok(3);
        }
    };
    let mut text = format!(
        "# Inferred by corsproof infer from {url} ({} requests).\n",
        inferred.requests
    );
    text.push_str(&inferred.policy.to_toml_string());
    crate::emit(&text, flags.output.as_ref())?;
    for gap in &inferred.gaps {
        eprintln!("gap[{}] {}: {}", gap.kind.as_str(), gap.path, gap.detail);
    }
    eprintln!(
        "corsproof infer: {} route(s), {} gap(s) a policy cannot say, {} requests",
        inferred.policy.routes.len(),
        inferred.gaps.len(),
        inferred.requests
    );
    Ok(u8::from(!inferred.gaps.is_empty()))
}

fn read_paths(file: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let paths: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = paths.iter().find(|p| !p.starts_with('/')) {
        anyhow::bail!("{}: {bad:?} does not start with /", file.display());
    }
    Ok(paths)
}

/// The paths, origins, methods and request header names of a HAR capture's requests.
fn har(file: &Path, options: &mut Options) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let root: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let entries = root["log"]["entries"]
        .as_array()
        .with_context(|| format!("{}: no log.entries", file.display()))?;
    for entry in entries {
        let request = &entry["request"];
        let Some(url) = request["url"]
            .as_str()
            .and_then(|u| url::Url::parse(u).ok())
        else {
            continue;
        };
        push(&mut options.paths, url.path().to_string());
        let headers = request["headers"].as_array().map_or(&[][..], Vec::as_slice);
        for h in headers {
            let (Some(name), Some(value)) = (h["name"].as_str(), h["value"].as_str()) else {
                continue;
            };
            match name.to_ascii_lowercase().as_str() {
                "origin" => push(&mut options.origins, value.to_string()),
                "access-control-request-method" => push(&mut options.methods, value.to_string()),
                "access-control-request-headers" => {
                    for n in value.split(',').map(|n| n.trim().to_ascii_lowercase()) {
                        if !n.is_empty() {
                            push(&mut options.request_headers, n);
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(m) = request["method"].as_str().filter(|m| *m != "OPTIONS") {
            push(&mut options.methods, m.to_string());
        }
    }
    Ok(())
}

fn push(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}
