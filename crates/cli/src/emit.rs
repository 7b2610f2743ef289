//! `corsproof emit TARGET --policy FILE`: a configuration implementing the policy.

use std::path::Path;

use anyhow::Context;
use corsproof_emit::{kong, nginx, EmitError, KongOptions, Upstream};
use corsproof_policy::Policy;

use crate::Done;

/// Targets with an emitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// nginx: `map` blocks and `location` blocks, or a standalone nginx.conf with --listen.
    Nginx,
    /// Kong 3.9: a DB-less declarative configuration (KONG_DATABASE=off) with the cors plugin.
    Kong,
}

/// What `emit` was asked for, beyond the target and the policy.
#[derive(Debug, Default)]
pub struct Options<'a> {
    /// nginx: a standalone configuration listening here.
    pub listen: Option<&'a str>,
    /// Kong: the upstream service URL.
    pub upstream: Option<&'a str>,
    /// Kong: emit even when Kong would grant more than the policy allows.
    pub allow_broader: bool,
}

/// Emits the configuration. nginx: with `listen`, a complete standalone configuration
/// answering a fixed demo response; without, the `http`-level and `server`-level parts to
/// include in an existing configuration. Kong: the declarative configuration, what Kong
/// cannot express printed to standard error. Exit 2 when the policy is invalid, the target
/// cannot express it, or (Kong) the translation would grant more than the policy allows
/// and `--allow-broader` was not given.
pub fn run(target: Target, policy: &Path, options: &Options<'_>) -> anyhow::Result<Done> {
    let policy_path = policy;
    let policy = Policy::from_path(policy)
        .with_context(|| format!("invalid policy {}", policy.display()))?;
    match target {
        Target::Nginx => {
            if options.upstream.is_some() || options.allow_broader {
                anyhow::bail!("--upstream and --allow-broader apply to `emit kong` only");
            }
            let conf = nginx(&policy, &Upstream::demo())
                .context("nginx cannot implement this policy exactly")?;
            let output = match options.listen {
                Some(listen) => conf.standalone(listen),
                None => format!(
                    "# corsproof emit nginx\n# --- in the http {{ }} context ---\n{}\n# --- in the server {{ }} context (replace the `return` lines with your upstream) ---\n{}",
                    conf.http_level, conf.server_level
                ),
            };
            Ok(Done { code: 0, output })
        }
        Target::Kong => {
            if options.listen.is_some() {
                anyhow::bail!(
                    "--listen applies to `emit nginx` only (Kong listens where KONG_PROXY_LISTEN says)"
                );
            }
            let kong_options = KongOptions {
                upstream: options
                    .upstream
                    .unwrap_or(KongOptions::DEFAULT_UPSTREAM)
                    .to_string(),
                allow_broader: options.allow_broader,
            };
            match kong(&policy, &kong_options) {
                Ok(conf) => {
                    for u in &conf.unsupported {
                        eprintln!("corsproof emit kong: unsupported: {u}");
                    }
                    Ok(Done {
                        code: 0,
                        output: conf.yaml,
                    })
                }
                Err(EmitError::Broader(items)) => {
                    for u in &items {
                        eprintln!("corsproof emit kong: unsupported: {u}");
                    }
                    eprintln!(
                        "corsproof emit kong: refused: Kong would grant more than {} allows (--allow-broader emits it anyway)",
                        policy_path.display()
                    );
                    Ok(Done {
                        code: 2,
                        output: String::new(),
                    })
                }
                Err(e) => Err(e).context("Kong cannot implement this policy"),
            }
        }
    }
}
