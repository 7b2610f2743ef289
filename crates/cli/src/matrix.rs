//! `corsproof matrix`: every available target × every bundled policy (or those given), each
//! started on a loopback port configured by its emitter, checked, stopped; the findings of
//! each cell split into what the library cannot express (announced by the emitter) and where
//! it diverges from its configuration (corsproof_matrix).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use corsproof_engine::check::{self, CheckConfig};
use corsproof_matrix::{self as matrix, Announced, Cell, Matrix, Outcome, Skipped, TargetInfo};
use corsproof_policy::{parse_path, Policy};
use corsproof_targets::launch::LaunchError;
use corsproof_targets::registry::Target;

use crate::matrix_caches::{self, CacheArg};
use crate::target_arg::TargetArg;

/// The bundled policies (`corpus/policies/`), compiled in: name and text.
pub const BUNDLED: [(&str, &str); 4] = [
    (
        "mixed-routes.toml",
        include_str!("../../../corpus/policies/mixed-routes.toml"),
    ),
    (
        "pna.toml",
        include_str!("../../../corpus/policies/pna.toml"),
    ),
    (
        "public-api.toml",
        include_str!("../../../corpus/policies/public-api.toml"),
    ),
    (
        "spa-credentialed.toml",
        include_str!("../../../corpus/policies/spa-credentialed.toml"),
    ),
];

/// Output formats of `matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatrixFormat {
    /// A table for the terminal.
    Text,
    /// The matrix with every finding (docs/cli.md).
    Json,
    /// A Markdown table and the divergences.
    Markdown,
    /// One self-contained HTML page with the drillable cells and a plot.
    Html,
}

/// The flags of `matrix`.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Only these targets (comma-separated or repeated; default every target).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub targets: Vec<TargetArg>,
    /// Only these policy files (comma-separated or repeated; default the bundled policies of
    /// corpus/policies).
    #[arg(long, value_delimiter = ',')]
    pub policies: Vec<PathBuf>,
    /// Generated browser requests per check, on top of each policy's baseline.
    #[arg(long, default_value_t = 50)]
    pub cases: usize,
    /// Seed of every check (default 1, so that two runs compare).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MatrixFormat::Text)]
    pub format: MatrixFormat,
    /// Write the output here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// No progress lines on standard error.
    #[arg(long)]
    pub quiet: bool,
    /// Probe every cell again behind these shared caches (comma-separated or repeated): the
    /// cache in front of the target, two origins asking one URL through it.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub caches: Vec<CacheArg>,
}

/// Runs the matrix: exit 0 when every finding is explained (announced by the emitter or a
/// known behaviour), 1 when some divergence is not, 3 when no target could run or a cell
/// failed (its target did not start, or its check gave no verdict; with `--caches`, also a
/// cache that did not start in front of it or a probe without answers).
pub fn run(options: &Options) -> anyhow::Result<u8> {
    let started = Instant::now();
    let scratch = std::env::temp_dir().join(format!("corsproof-matrix-{}", std::process::id()));
    let policies = policies(options, &scratch)?;
    let exe = std::env::current_exe().context("cannot find the corsproof binary")?;
    let chosen: Vec<Target> = if options.targets.is_empty() {
        Target::ALL.to_vec()
    } else {
        options.targets.iter().map(|t| t.0).collect()
    };
    let mut m = Matrix {
        seed: options.seed,
        cases: options.cases,
        policies: policies.iter().map(|(label, _, _)| label.clone()).collect(),
        targets: Vec::new(),
        skipped: Vec::new(),
        cells: Vec::new(),
        seconds: 0.0,
        caches: Default::default(),
    };
    let (caches, caches_info) = matrix_caches::available(&options.caches);
    m.caches = caches_info;
    let mut fronts = matrix_caches::Fronts::start(&caches)?;
    for target in chosen {
        let version = match target.version() {
            Ok(v) => v,
            Err(missing) => {
                m.skipped.push(Skipped {
                    target: target.name(),
                    reason: missing.to_string(),
                });
                continue;
            }
        };
        m.targets.push(TargetInfo {
            target: target.name(),
            library: target.library(),
            version,
        });
        for (label, path, policy) in &policies {
            let mut behind = Vec::new();
            let outcome = cell(target, policy, path, &exe, options, &mut |url| {
                if let Some(f) = fronts.as_mut() {
                    behind = f.probe(target, policy, label, url);
                }
            });
            if !options.quiet {
                eprintln!(
                    "corsproof matrix: {} x {}: {}",
                    target.name(),
                    matrix::policy_label(label),
                    crate::matrix::summary(&outcome)
                );
            }
            m.cells.push(Cell {
                target: target.name(),
                policy: label.clone(),
                outcome,
            });
            if !options.quiet {
                for c in &behind {
                    eprintln!(
                        "corsproof matrix: {} x {} behind {}: {}",
                        c.target,
                        matrix::policy_label(label),
                        c.cache,
                        corsproof_matrix::caches::short(Some(c))
                    );
                }
            }
            m.caches.cells.extend(behind);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if let Some(f) = fronts.take() {
        m.caches.seconds = f.seconds();
    }
    m.seconds = started.elapsed().as_secs_f64();
    let output = match options.format {
        MatrixFormat::Text => matrix::text(&m),
        MatrixFormat::Json => matrix::json(&m),
        MatrixFormat::Markdown => matrix::markdown(&m),
        MatrixFormat::Html => matrix::html(&m),
    };
    crate::emit(&output, options.output.as_ref())?;
    if m.targets.is_empty() {
        eprintln!("corsproof matrix: no target could run here");
        return Ok(3);
    }
    let failed = m
        .cells
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed { .. }))
        .count()
        + m.caches.failed();
    if failed > 0 {
        eprintln!(
            "corsproof matrix: {failed} cell(s) failed: a target (or a cache in front) did not start or gave no verdict"
        );
        return Ok(3);
    }
    Ok(u8::from(!m.unexplained().is_empty()))
}

/// A cell's outcome in a few words, for the progress lines.
fn summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Checked {
            inexpressible,
            diverges,
            requests,
            seconds,
            ..
        } => format!(
            "{} inexpressible, {} diverging ({requests} requests, {seconds:.1} s)",
            inexpressible.len(),
            diverges.len()
        ),
        Outcome::Refused { why } => format!("refused: {why}"),
        Outcome::Failed { why } => format!("failed: {why}"),
    }
}

/// The policies to run: (label, file, policy). The bundled ones are written into `scratch`
/// (the tower target reads its policy from a file) and labelled `corpus/policies/NAME`.
fn policies(options: &Options, scratch: &Path) -> anyhow::Result<Vec<(String, PathBuf, Policy)>> {
    let mut out = Vec::new();
    if options.policies.is_empty() {
        std::fs::create_dir_all(scratch)
            .with_context(|| format!("cannot create {}", scratch.display()))?;
        for (name, text) in BUNDLED {
            let path = scratch.join(name);
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let policy = parse_path(&path)
                .with_context(|| format!("bundled policy {name}"))?
                .policy;
            out.push((format!("corpus/policies/{name}"), path, policy));
        }
        return Ok(out);
    }
    for path in &options.policies {
        let policy = parse_path(path)
            .with_context(|| format!("invalid policy {}", path.display()))?
            .policy;
        out.push((path.display().to_string(), path.clone(), policy));
    }
    Ok(out)
}

/// One target against one policy; `behind` is called with the target's URL after its check,
/// before it is stopped (the caches' probe, `--caches`).
fn cell(
    target: Target,
    policy: &Policy,
    path: &Path,
    exe: &Path,
    options: &Options,
    behind: &mut dyn FnMut(&url::Url),
) -> Outcome {
    let announced = match target.unsupported(policy) {
        Ok(items) => items,
        Err(e) => return Outcome::Refused { why: e.to_string() },
    };
    let running = match target.launch(policy, path, exe, true) {
        Ok(r) => r,
        Err(LaunchError::Unsupported(e)) => return Outcome::Refused { why: e.to_string() },
        Err(e) => return Outcome::Failed { why: e.to_string() },
    };
    let config = CheckConfig {
        cases: options.cases,
        seed: options.seed,
        ..CheckConfig::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return Outcome::Failed { why: e.to_string() },
    };
    let label = path.display().to_string();
    let result = runtime.block_on(check::check(policy, &label, running.url(), &config));
    if result.is_ok() {
        behind(running.url());
    }
    drop(running);
    let report = match result {
        Ok(r) => r,
        Err(e) => return Outcome::Failed { why: e.to_string() },
    };
    if report.stats.errors > 0 && report.stats.errors * 100 > report.stats.requests {
        return Outcome::Failed {
            why: format!(
                "{} of {} requests got no usable answer",
                report.stats.errors, report.stats.requests
            ),
        };
    }
    let (inexpressible, diverges) = matrix::classify(target, &announced, report.findings);
    Outcome::Checked {
        announced: announced.iter().map(Announced::from).collect(),
        inexpressible,
        diverges,
        requests: report.stats.requests,
        seconds: report.stats.seconds,
    }
}
