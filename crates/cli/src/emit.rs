//! `corsproof emit TARGET --policy FILE`: a configuration implementing the policy.

use std::path::Path;

use anyhow::Context;
use corsproof_harness::emit::{nginx, Upstream};
use corsproof_policy::Policy;

use crate::Done;

/// Targets with an emitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// nginx: `map` blocks and `location` blocks, or a standalone nginx.conf with --listen.
    Nginx,
}

/// Emits the configuration: with `listen`, a complete standalone configuration answering a
/// fixed demo response; without, the `http`-level and `server`-level parts to include in an
/// existing configuration. Exit 2 when the policy is invalid or the target cannot express it.
pub fn run(target: Target, policy: &Path, listen: Option<&str>) -> anyhow::Result<Done> {
    let policy = Policy::from_path(policy)
        .with_context(|| format!("invalid policy {}", policy.display()))?;
    let conf = match target {
        Target::Nginx => nginx(&policy, &Upstream::demo())
            .context("nginx cannot implement this policy exactly")?,
    };
    let output = match listen {
        Some(listen) => conf.standalone(listen),
        None => format!(
            "# corsproof emit nginx\n# --- in the http {{ }} context ---\n{}\n# --- in the server {{ }} context (replace the `return` lines with your upstream) ---\n{}",
            conf.http_level, conf.server_level
        ),
    };
    Ok(Done { code: 0, output })
}
