//! The documentation against the program:
//!
//! - every `console` block of README.md and docs/*.md is run: each `$ corsproof ...` command
//!   with the binary under test, and its output is compared with the block's (`...` on a line of
//!   its own stands for any lines, `…` inside a line for any text); a command ending in `&` is
//!   a server started for the block, on a free port in place of the one written, stopped by its
//!   pid at the block's end;
//! - every `--flag` of every command's `--help` is documented in docs/cli.md, and every flag
//!   docs/cli.md names exists;
//! - every path of the repository a Markdown or Rust file names exists, and none points outside
//!   the repository.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Markdown files a user reads: README.md, CONTRIBUTING.md and docs/*.md.
fn markdown() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md"), root().join("CONTRIBUTING.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// One command of a console block and the output written under it.
struct Step {
    command: String,
    expected: Vec<String>,
}

/// The `console` blocks of `text`, each as its steps.
fn console_blocks(text: &str) -> Vec<Vec<Step>> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```console" {
            continue;
        }
        let mut steps: Vec<Step> = Vec::new();
        for line in lines.by_ref() {
            if line.trim() == "```" {
                break;
            }
            match line.strip_prefix("$ ") {
                Some(command) => steps.push(Step {
                    command: command.to_string(),
                    expected: Vec::new(),
                }),
                None => {
                    if let Some(step) = steps.last_mut() {
                        step.expected.push(line.to_string());
                    }
                }
            }
        }
        blocks.push(steps);
    }
    blocks
}

/// Whether `line` matches the `pattern` line, in which `…` stands for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    let Some((first, rest)) = parts.split_first() else {
        return line.is_empty();
    };
    let Some(mut tail) = line.strip_prefix(first) else {
        return false;
    };
    for (i, part) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        if last {
            return part.is_empty() || tail.ends_with(part);
        }
        match tail.find(part) {
            Some(at) => tail = &tail[at + part.len()..],
            None => return false,
        }
    }
    tail.is_empty()
}

/// Whether `actual` shows `expected` in order: a `...` line skips any lines.
fn output_matches(expected: &[String], actual: &[String]) -> Result<(), String> {
    let mut at = 0;
    let mut skipping = false;
    for want in expected {
        if want.trim() == "..." {
            skipping = true;
            continue;
        }
        let found = if skipping {
            actual[at..].iter().position(|l| line_matches(want, l))
        } else {
            actual.get(at).filter(|l| line_matches(want, l)).map(|_| 0)
        };
        match found {
            Some(offset) => at += offset + 1,
            None => {
                return Err(format!(
                    "expected {want:?} after line {at} of the output:\n{}",
                    actual.join("\n")
                ))
            }
        }
        skipping = false;
    }
    Ok(())
}

/// The words of a command line (no quoting is used in the documentation's commands).
fn words(command: &str) -> Vec<String> {
    command.split_whitespace().map(str::to_string).collect()
}

/// A server a block started, stopped by its pid when dropped.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Runs one block; every departure from its written output as an error.
fn run_block(file: &Path, steps: &[Step]) -> Result<(), String> {
    let port = free_port().to_string();
    let fix = |s: &str| s.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let mut servers = Vec::new();
    for step in steps {
        let command = fix(&step.command);
        let expected: Vec<String> = step.expected.iter().map(|l| fix(l)).collect();
        let (command, background) = match command.strip_suffix(" &") {
            Some(c) => (c.to_string(), true),
            None => (command, false),
        };
        let mut args = words(&command);
        if args.first().map(String::as_str) != Some("corsproof") {
            return Err(format!(
                "{}: not a corsproof command: {command}",
                file.display()
            ));
        }
        args.remove(0);
        let actual = if background {
            let mut child = Command::new(env!("CARGO_BIN_EXE_corsproof"))
                .args(&args)
                .current_dir(root())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("{command}: {e}"))?;
            let lines = startup_lines(&mut child)?;
            servers.push(Background(child));
            lines
        } else {
            let out = Command::new(env!("CARGO_BIN_EXE_corsproof"))
                .args(&args)
                .current_dir(root())
                .output()
                .map_err(|e| format!("{command}: {e}"))?;
            let mut text = String::from_utf8_lossy(&out.stderr).to_string();
            text.push_str(&String::from_utf8_lossy(&out.stdout));
            text.lines().map(str::to_string).collect()
        };
        output_matches(&expected, &actual)
            .map_err(|e| format!("{}: `{command}`: {e}", file.display()))?;
    }
    drop(servers);
    Ok(())
}

/// What a server prints until it says it listens (standard error, then the listening line of
/// standard output); bounded by 30 s.
fn startup_lines(child: &mut Child) -> Result<Vec<String>, String> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    let err_tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = err_tx.send((false, line));
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send((true, line));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok((out, line)) => {
                let done = out && line.contains("listening on");
                lines.push(line);
                if done {
                    // Give standard error's lines, printed first, a moment to arrive.
                    std::thread::sleep(Duration::from_millis(200));
                    while let Ok((_, l)) = rx.try_recv() {
                        lines.insert(lines.len() - 1, l);
                    }
                    return Ok(lines);
                }
            }
            Err(_) => break,
        }
    }
    Err(format!("the server did not say it listens: {lines:?}"))
}

#[test]
fn every_console_block_of_the_documentation_runs_as_written() {
    let mut failures = Vec::new();
    let mut blocks = 0;
    for file in markdown() {
        for steps in console_blocks(&read(&file)) {
            blocks += 1;
            if let Err(e) = run_block(&file, &steps) {
                failures.push(e);
            }
        }
    }
    assert!(blocks >= 3, "only {blocks} console blocks");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn matching_allows_elisions_and_nothing_else() {
    assert!(line_matches("a … c", "a b c"));
    assert!(line_matches("seed 1, …", "seed 1, 3460 cases"));
    assert!(!line_matches("seed 1, …", "seed 2, 3460 cases"));
    assert!(!line_matches("exact", "exact and more"));
    let actual: Vec<String> = ["x", "a", "b", "c"].map(String::from).to_vec();
    let want = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(output_matches(&want(&["x", "...", "c"]), &actual).is_ok());
    assert!(output_matches(&want(&["x", "c"]), &actual).is_err());
    assert!(output_matches(&want(&["...", "b", "a"]), &actual).is_err());
}

/// The long flags a `--help` text lists.
fn flags(help: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for word in help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if let Some(name) = word.strip_prefix("--") {
            let starts = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
            if starts && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
                out.insert(format!("--{name}"));
            }
        }
    }
    out
}

#[test]
fn docs_cli_md_documents_every_flag_and_no_other() {
    let doc = read(&root().join("docs/cli.md"));
    let mut all = BTreeSet::new();
    for command in [
        "check",
        "run",
        "audit",
        "explain",
        "lint",
        "diff",
        "infer",
        "emit",
        "matrix",
        "serve",
        "completions",
        "man",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_corsproof"))
            .args([command, "--help"])
            .output()
            .expect("corsproof runs");
        let help = String::from_utf8_lossy(&out.stdout).to_string();
        for flag in flags(&help) {
            if flag == "--help" || flag == "--version" {
                continue;
            }
            assert!(
                doc.contains(&format!("`{flag}")),
                "`corsproof {command} {flag}` is not in docs/cli.md"
            );
            all.insert(flag);
        }
    }
    for flag in flags(&doc) {
        assert!(
            all.contains(&flag) || flag == "--help" || flag == "--version",
            "docs/cli.md names {flag}, which no command has"
        );
    }
}

/// The repository paths a text names: words starting with one of the top-level folders.
fn repository_paths(text: &str) -> BTreeSet<String> {
    const TOP: [&str; 9] = [
        "crates/",
        "docs/",
        "spec/",
        "corpus/",
        "examples/",
        "fuzz/",
        "xtask/",
        "docker/",
        ".ci/",
    ];
    let mut out = BTreeSet::new();
    for word in
        text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-')))
    {
        let word = word.trim_end_matches(['.', '/']);
        let Some(top) = TOP.iter().find(|t| word.starts_with(**t)) else {
            continue;
        };
        // A folder mentioned generally (`crates/`, `spec/vectors`) or a pattern is fine to check
        // as long as it is a plain path.
        if word.len() > top.len() && !word.contains("..") && !word.contains('*') {
            out.insert(word.to_string());
        }
    }
    out
}

/// Every file git tracks under the repository, as paths from its root.
fn tracked() -> Vec<String> {
    let out = Command::new("git")
        .args(["ls-files"])
        .current_dir(root())
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Paths the documentation names that a command writes, not the repository.
const WRITTEN: [(&str, &str); 3] = [
    (
        "docker/kong/kong.yml",
        "written by `corsproof emit kong` (docker/kong/README.md)",
    ),
    ("fuzz/artifacts", "written by cargo-fuzz on a crash"),
    (
        "corpus/regressions/live",
        "`live/` and `live-cases/`, written by `cargo xtask fuzz live` on its first crash",
    ),
];

/// The text of a file worth checking: all of a Markdown file; the comments of a Rust file
/// (its code's paths are exercised by running it, and its tests' strings are data).
fn prose(file: &str, text: &str) -> String {
    if file.ends_with(".md") {
        return text.to_string();
    }
    text.lines()
        .filter(|l| l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a path segment is a placeholder (`TARGET`, `DIR`, `FILE`).
fn placeholder(path: &str) -> bool {
    path.split('/').any(|seg| {
        let stem = seg.split('.').next().unwrap_or(seg);
        !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
    })
}

#[test]
fn every_path_the_repository_names_exists_inside_it() {
    let files = tracked();
    if files.is_empty() {
        // Not a git checkout (a packaged source): nothing to compare with.
        eprintln!("SKIPPED every_path_the_repository_names_exists_inside_it: not a git checkout");
        return;
    }
    let mut missing = Vec::new();
    for file in files.iter().filter(|f| {
        (f.ends_with(".md") || f.ends_with(".rs") || f.ends_with(".sh"))
            && !f.starts_with("corpus/")
    }) {
        let text = prose(file, &read(&root().join(file)));
        if text.contains("../shared/") || text.contains("shared/design/") {
            missing.push(format!("{file} points outside the repository"));
        }
        // A crate's files may name paths from the crate's own folder.
        let krate: Option<PathBuf> = file
            .strip_prefix("crates/")
            .and_then(|rest| rest.split('/').next())
            .map(|name| root().join("crates").join(name));
        for path in repository_paths(&text) {
            if placeholder(&path) || WRITTEN.iter().any(|(w, _)| path.starts_with(w)) {
                continue;
            }
            let exists = root().join(&path).exists()
                || krate.as_ref().is_some_and(|k| k.join(&path).exists());
            if !exists && !path.contains("/target") {
                missing.push(format!("{file} names {path}, which does not exist"));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
