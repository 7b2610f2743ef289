//! `corsproof matrix`: every available target × every bundled policy (or those given), each
//! started on a loopback port configured by its emitter, checked, stopped; the findings of
//! each cell split into what the library cannot express (announced by the emitter) and where
//! it diverges from its configuration (corsproof_matrix).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use corsproof_engine::check::{self, CheckConfig};
use corsproof_matrix::caches::CacheCell;
use corsproof_matrix::expected::Expected;
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
    /// The Markdown table alone, without timings (docs/implementations.md holds it).
    MarkdownTable,
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
    /// Generated browser requests per check, on top of each policy's baseline (default 50,
    /// or the expected matrix's with --expect).
    #[arg(long)]
    pub cases: Option<usize>,
    /// Seed of every check (default 1, so that two runs compare, or the expected matrix's
    /// with --expect).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Targets checked at the same time (cells of one target run one after the other).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub jobs: u16,
    /// Compare the run with this expected matrix (corpus/matrix/expected.json): exit 1 and
    /// print every cell that differs, finding by finding.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Write the run's cells as the expected matrix to FILE (the rows of targets that
    /// could not run here are kept from FILE).
    #[arg(long, value_name = "FILE")]
    pub write_expected: Option<PathBuf>,
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

/// Default generated cases per check.
const DEFAULT_CASES: usize = 50;

/// Default seed.
const DEFAULT_SEED: u64 = 1;

/// Runs the matrix: exit 0 when every finding is explained (announced by the emitter or a
/// known behaviour) and, with `--expect`, every cell is as expected; 1 when some divergence
/// is not explained or a cell differs from the expected matrix; 3 when no target could run,
/// a cell failed (its target did not start, or its check gave no verdict; with `--caches`,
/// also a cache that did not start in front of it or a probe without answers), or, under CI
/// (the `CI` variable set), a target of the expected matrix could not run.
pub fn run(options: &Options) -> anyhow::Result<u8> {
    let started = Instant::now();
    let expected = match &options.expect {
        Some(path) => Some(read_expected(path)?),
        None => None,
    };
    let cases = options
        .cases
        .or(expected.as_ref().map(|e| e.cases))
        .unwrap_or(DEFAULT_CASES);
    let seed = options
        .seed
        .or(expected.as_ref().map(|e| e.seed))
        .unwrap_or(DEFAULT_SEED);
    if let Some(e) = &expected {
        if (e.cases, e.seed) != (cases, seed) {
            anyhow::bail!(
                "the expected matrix records --cases {} --seed {}; this run has --cases {cases} --seed {seed}",
                e.cases,
                e.seed
            );
        }
    }
    let scratch = std::env::temp_dir().join(format!("corsproof-matrix-{}", std::process::id()));
    let policies = policies(options, &scratch)?;
    let chosen: Vec<Target> = if options.targets.is_empty() {
        Target::ALL.to_vec()
    } else {
        options.targets.iter().map(|t| t.0).collect()
    };
    let config = CheckConfig {
        cases,
        seed,
        ..CheckConfig::default()
    };
    let mut m = Matrix {
        seed,
        cases,
        policies: policies.iter().map(|(label, _, _)| label.clone()).collect(),
        targets: Vec::new(),
        skipped: Vec::new(),
        cells: Vec::new(),
        seconds: 0.0,
        caches: Default::default(),
    };
    let (caches, caches_info) = matrix_caches::available(&options.caches);
    m.caches = caches_info;
    let fronts = matrix_caches::Fronts::start(&caches)?.map(Mutex::new);
    let exe = std::env::current_exe().context("cannot find the corsproof binary")?;
    let rows = rows(&chosen, &policies, &exe, &config, options, fronts.as_ref());
    let _ = std::fs::remove_dir_all(&scratch);
    for row in rows {
        match row {
            Row::Ran(info, cells, behind) => {
                m.targets.push(info);
                m.cells.extend(cells);
                m.caches.cells.extend(behind);
            }
            Row::Skipped(s) => m.skipped.push(s),
        }
    }
    if let Some(f) = fronts {
        m.caches.seconds = f.into_inner().unwrap_or_else(|e| e.into_inner()).seconds();
    }
    m.seconds = started.elapsed().as_secs_f64();
    let output = match options.format {
        MatrixFormat::Text => matrix::text(&m),
        MatrixFormat::Json => matrix::json(&m),
        MatrixFormat::Markdown => matrix::markdown(&m),
        MatrixFormat::MarkdownTable => matrix::markdown_table(&m),
        MatrixFormat::Html => matrix::html(&m),
    };
    crate::emit(&output, options.output.as_ref())?;
    verdict(&m, expected.as_ref(), options)
}

/// The exit code of a finished run (see [`run`]), after comparing it with the expected
/// matrix and writing the new one, when asked.
fn verdict(m: &Matrix, expected: Option<&Expected>, options: &Options) -> anyhow::Result<u8> {
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
    if let Some(path) = &options.write_expected {
        if failed > 0 {
            eprintln!(
                "corsproof matrix: {} not written: {failed} cell(s) failed",
                path.display()
            );
        } else {
            write_expected(m, path)?;
        }
    }
    let mut code = 0;
    if let (Some(expected), Some(path)) = (expected, &options.expect) {
        let comparison = expected.compare(m);
        if !comparison.diffs.is_empty() {
            eprintln!(
                "corsproof matrix: {} cell(s) differ from {} (+ found, not expected; - expected, not found); `cargo xtask matrix --bless` updates it:\n{comparison}",
                comparison.diffs.len(),
                path.display()
            );
            code = 1;
        } else if !comparison.skipped.is_empty() {
            eprintln!(
                "corsproof matrix: every cell that ran is as expected; skipped here:\n{comparison}"
            );
        } else {
            eprintln!(
                "corsproof matrix: every cell is as expected ({})",
                path.display()
            );
        }
        if !comparison.skipped.is_empty() && std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            eprintln!("corsproof matrix: under CI every target of the expected matrix must run");
            return Ok(3);
        }
    }
    if failed > 0 {
        eprintln!(
            "corsproof matrix: {failed} cell(s) failed: a target (or a cache in front) did not start or gave no verdict"
        );
        return Ok(3);
    }
    Ok(code.max(u8::from(!m.unexplained().is_empty())))
}

fn read_expected(path: &Path) -> anyhow::Result<Expected> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the expected matrix {}", path.display()))?;
    Expected::parse(&text).with_context(|| format!("invalid expected matrix {}", path.display()))
}

/// Writes the run as the expected matrix, keeping from the file already there the rows of
/// the targets that could not run here.
fn write_expected(m: &Matrix, path: &Path) -> anyhow::Result<()> {
    let mut new = Expected::from_matrix(m);
    if path.exists() {
        let skipped: Vec<&str> = m.skipped.iter().map(|s| s.target).collect();
        new = new.keeping(&read_expected(path)?, &skipped);
    }
    std::fs::write(path, new.render())
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("corsproof matrix: wrote {}", path.display());
    Ok(())
}

/// One target's row: the cells of a target that ran (with its cells behind the caches), or
/// why it could not.
enum Row {
    Ran(TargetInfo, Vec<Cell>, Vec<CacheCell>),
    Skipped(Skipped),
}

/// Every chosen target's row, in the order chosen: `options.jobs` targets at a time, each
/// target's cells one after the other.
fn rows(
    chosen: &[Target],
    policies: &[(String, PathBuf, Policy)],
    exe: &Path,
    config: &CheckConfig,
    options: &Options,
    fronts: Option<&Mutex<matrix_caches::Fronts>>,
) -> Vec<Row> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, Row)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..usize::from(options.jobs).min(chosen.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&target) = chosen.get(i) else {
                    break;
                };
                let row = row(target, policies, exe, config, options.quiet, fronts);
                done.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, row));
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, row)| row).collect()
}

/// One target against every policy, and behind every cache of `fronts` (one probe at a time:
/// the caches are in front of one target at once).
fn row(
    target: Target,
    policies: &[(String, PathBuf, Policy)],
    exe: &Path,
    config: &CheckConfig,
    quiet: bool,
    fronts: Option<&Mutex<matrix_caches::Fronts>>,
) -> Row {
    let version = match target.version() {
        Ok(v) => v,
        Err(missing) => {
            return Row::Skipped(Skipped {
                target: target.name(),
                reason: missing.to_string(),
            })
        }
    };
    let info = TargetInfo {
        target: target.name(),
        library: target.library(),
        version,
    };
    let (mut cells, mut cache_cells) = (Vec::new(), Vec::new());
    for (label, path, policy) in policies {
        let mut behind = Vec::new();
        let outcome = cell(target, policy, path, exe, config, &mut |url| {
            if let Some(f) = fronts {
                let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
                behind = f.probe(target, policy, label, url);
            }
        });
        if !quiet {
            eprintln!(
                "corsproof matrix: {} x {}: {}",
                target.name(),
                matrix::policy_label(label),
                summary(&outcome)
            );
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
        cells.push(Cell {
            target: target.name(),
            policy: label.clone(),
            outcome,
        });
        cache_cells.extend(behind);
    }
    Row::Ran(info, cells, cache_cells)
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
    config: &CheckConfig,
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return Outcome::Failed { why: e.to_string() },
    };
    let label = path.display().to_string();
    let result = runtime.block_on(check::check(policy, &label, running.url(), config));
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
