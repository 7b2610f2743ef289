//! `corsproof emit TARGET --policy FILE`: a configuration implementing the policy.

use std::path::Path;

use anyhow::Context;
use corsproof_emit::apps::AppOptions;
use corsproof_emit::{kong, nginx, EmitError, KongOptions, Upstream};
use corsproof_policy::Policy;
use corsproof_targets::registry::Target;

use crate::Done;

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
        Target::Tower => {
            anyhow::bail!(
                "the tower target is configured by the policy file itself (corsproof serve --policy FILE)"
            )
        }
        Target::Nginx => {
            if options.upstream.is_some() || options.allow_broader {
                anyhow::bail!("--upstream and --allow-broader do not apply to `emit nginx`");
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
        _ => app(target, &policy, policy_path, options),
    }
}

/// An emitted application: its files, what its library cannot express on standard error.
fn app(
    target: Target,
    policy: &Policy,
    policy_path: &Path,
    options: &Options<'_>,
) -> anyhow::Result<Done> {
    if options.listen.is_some() || options.upstream.is_some() {
        anyhow::bail!("--listen and --upstream apply to `emit nginx` and `emit kong` only (the application takes its port as its argument)");
    }
    let name = target.name();
    let app_options = AppOptions {
        allow_broader: options.allow_broader,
    };
    match target.app(policy, &app_options) {
        Some(Ok(app)) => {
            for u in &app.unsupported {
                eprintln!("corsproof emit {name}: unsupported: {u}");
            }
            Ok(Done {
                code: 0,
                output: app.listing(),
            })
        }
        Some(Err(EmitError::Broader(items))) => {
            for u in &items {
                eprintln!("corsproof emit {name}: unsupported: {u}");
            }
            eprintln!(
                "corsproof emit {name}: refused: {} would grant more than {} allows (--allow-broader emits it anyway)",
                target.library(),
                policy_path.display()
            );
            Ok(Done {
                code: 2,
                output: String::new(),
            })
        }
        Some(Err(e)) => {
            Err(e).with_context(|| format!("{} cannot implement this policy", target.library()))
        }
        None => anyhow::bail!("{name} has no application emitter"),
    }
}
