//! `corsproof diff OLD NEW`.

use std::path::Path;

use clap::ValueEnum;
use corsproof_diff::{diff, Files, OutputFormat};
use corsproof_policy::parse_path;

use crate::Done;

/// The output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// For people.
    Text,
    /// For programs (shape in docs/cli.md).
    Json,
    /// A pull-request comment.
    Markdown,
    /// SARIF 2.1.0, located at the new policy's routes.
    Sarif,
}

/// The semantic difference from `old` to `new`: exit 1 when anything broadens (unless
/// `allow_broaden`), 2 when either policy is invalid.
pub fn run(
    old: &Path,
    new: &Path,
    format: DiffFormat,
    allow_broaden: bool,
) -> anyhow::Result<Done> {
    let (a, b) = (parse_path(old)?, parse_path(new)?);
    let d = diff(&a.policy, &b.policy);
    let files = Files {
        old: old.display().to_string(),
        new: new.display().to_string(),
        new_route_lines: b.route_lines.clone(),
    };
    let format = match format {
        DiffFormat::Text => OutputFormat::Text,
        DiffFormat::Json => OutputFormat::Json,
        DiffFormat::Markdown => OutputFormat::Markdown,
        DiffFormat::Sarif => OutputFormat::Sarif,
    };
    let code = if d.broadens() && !allow_broaden { 1 } else { 0 };
    Ok(Done {
        code,
        output: d.render(format, &files),
    })
}
