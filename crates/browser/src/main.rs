//! `corsproof-browser`: replays generated cases, the spec vectors and cache sequences in a
//! headless browser and compares each with the oracle under the browser's profile.
//!
//! ```text
//! corsproof-browser [--browser chromium|firefox] [--cases N] [--sequences M] [--seed S]
//!                   [--capacity-sequences K] [--vectors DIR | --no-vectors] [--batch B]
//!                   [--json FILE] [--show N]
//! ```
//! Exit 0: full agreement; 1: disagreements (each printed as an `explain` input with both
//! outcomes); 2: usage error, browser missing, or the run could not complete.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use corsproof_browser::launch::Browser;
use corsproof_browser::run::{run, Options, Summary, Tally, WARM_UP_STEPS};

const USAGE: &str = "usage: corsproof-browser [--browser chromium|firefox] [--cases N] [--sequences M] [--seed S] [--capacity-sequences K] [--vectors DIR | --no-vectors] [--batch B] [--sequence-batch B] [--session-jobs J] [--json FILE] [--show N]";

/// Of `--sequences`, one in this many is a capacity sequence (D31).
const CAPACITY_EVERY: usize = 25;

struct Args {
    opts: Options,
    json: Option<PathBuf>,
    show: usize,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut opts = Options {
        browser: Browser::Chromium,
        cases: 500,
        sequences: 100,
        capacity_sequences: 0,
        seed: 1,
        vectors: Some(PathBuf::from("spec/vectors")),
        batch: 100,
        seq_batch: 0,
        session_jobs: 0,
        stall: Duration::from_secs(90),
    };
    let (mut json, mut show) = (None, 20);
    let mut capacity_sequences = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        let num = |v: String, name: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: {v:?} is not a number"))
        };
        match a.as_str() {
            "--browser" => {
                let v = val("--browser")?;
                opts.browser = Browser::by_name(&v)
                    .ok_or(format!("--browser: {v:?} is not chromium or firefox"))?;
            }
            "--cases" => opts.cases = num(val(a)?, a)? as usize,
            "--sequences" => opts.sequences = num(val(a)?, a)? as usize,
            "--capacity-sequences" => capacity_sequences = Some(num(val(a)?, a)? as usize),
            "--seed" => opts.seed = num(val(a)?, a)?,
            "--batch" => opts.batch = (num(val(a)?, a)? as usize).clamp(1, 2000),
            "--sequence-batch" => opts.seq_batch = (num(val(a)?, a)? as usize).clamp(1, 2000),
            "--session-jobs" => opts.session_jobs = (num(val(a)?, a)? as usize).clamp(1, 100_000),
            "--vectors" => opts.vectors = Some(PathBuf::from(val(a)?)),
            "--no-vectors" => opts.vectors = None,
            "--json" => json = Some(PathBuf::from(val(a)?)),
            "--show" => show = num(val(a)?, a)? as usize,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    // Cache capacities: Chromium purges beyond about a thousand keys, Firefox keeps 100
    // (least recently used go first); a sequence may use two keys (credentials modes).
    let (seq_batch, session_jobs) = match opts.browser {
        Browser::Chromium => (100, 400),
        Browser::Firefox => (25, 200),
    };
    if opts.seq_batch == 0 {
        opts.seq_batch = seq_batch;
    }
    if opts.session_jobs == 0 {
        opts.session_jobs = session_jobs;
    }
    if opts.cases > 1_000_000 || opts.sequences > 100_000 {
        return Err("--cases is at most 1000000, --sequences at most 100000".into());
    }
    // One sequence in CAPACITY_EVERY is a capacity sequence (D31) unless the count is given.
    match capacity_sequences {
        Some(k) if k > 10_000 => return Err("--capacity-sequences is at most 10000".into()),
        Some(k) => opts.capacity_sequences = k,
        None => {
            opts.capacity_sequences = opts.sequences / CAPACITY_EVERY;
            opts.sequences -= opts.capacity_sequences;
        }
    }
    Ok(Args { opts, json, show })
}

fn line(name: &str, t: &Tally, unit: &str) -> String {
    let compared = t.replayed - t.timing_ambiguous;
    let pct = if compared == 0 {
        100.0
    } else {
        100.0 * t.agreed as f64 / compared as f64
    };
    let rate = if t.seconds > 0.0 {
        t.steps as f64 / t.seconds
    } else {
        0.0
    };
    let mut ambiguous = if t.timing_ambiguous > 0 {
        format!(
            ", {} not compared (a step within 0.5 s of a cache expiry)",
            t.timing_ambiguous
        )
    } else {
        String::new()
    };
    let wire_pct = if t.wire_compared == 0 {
        100.0
    } else {
        100.0 * t.wire_agreed as f64 / t.wire_compared as f64
    };
    if t.undetermined > 0 {
        ambiguous.push_str(&format!(
            ", {} steps undetermined (D31: {} as if still cached, {} as if evicted, {} neither)",
            t.undetermined,
            t.undetermined_still_cached,
            t.undetermined_evicted,
            t.undetermined - t.undetermined_still_cached - t.undetermined_evicted
        ));
    }
    format!(
        "  {name:<16} {:>6} replayed ({:>6} {unit}, {} preflight-cache hits), {:>6} agree ({pct:.2} %){ambiguous}, {:.1} s, {rate:.0} {unit}/s\n  {:<16} {:>6} requests compared line by line with the wire module, {:>6} equal ({wire_pct:.2} %)",
        t.replayed, t.steps, t.cache_hits, t.agreed, t.seconds, "", t.wire_compared, t.wire_agreed
    )
}

fn print(s: &Summary, show: usize) {
    println!(
        "corsproof-browser: {} against the `{}` profile, seed {}",
        s.browser_version, s.profile, s.seed
    );
    println!("{}", line("generated cases", &s.cases, "cases"));
    println!("{}", line("spec vectors", &s.vectors, "steps"));
    println!("{}", line("cache sequences", &s.sequences, "steps"));
    println!("{}", line("capacity seqs", &s.capacity, "steps"));
    if !s.warm_up_misses.is_empty() {
        let missed: usize = s.warm_up_misses.iter().sum();
        println!(
            "  D27 warm-ups: {} sessions, {missed} of {} repeated requests preflighted again (per session: {:?})",
            s.warm_up_misses.len(),
            s.warm_up_misses.len() * (WARM_UP_STEPS - 1),
            s.warm_up_misses
        );
    }
    let skipped: usize = s.skipped.values().map(Vec::len).sum();
    println!("  vectors not replayable in a browser: {skipped}");
    for (reason, labels) in &s.skipped {
        let shown: Vec<&str> = labels.iter().take(4).map(String::as_str).collect();
        let more = if labels.len() > 4 {
            format!(", ... ({} more)", labels.len() - 4)
        } else {
            String::new()
        };
        println!(
            "    {:>4}  {reason}: {}{more}",
            labels.len(),
            shown.join(", ")
        );
    }
    if !s.strays.is_empty() {
        println!(
            "  requests to scripted paths of no job: {} (first: {:?})",
            s.strays.len(),
            s.strays.first()
        );
    }
    if !s.repeated.is_empty() {
        println!(
            "  cases where the browser sent a request again at the same hop (not compared): {} ({})",
            s.repeated.len(),
            s.repeated.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    println!("  total {:.1} s", s.seconds);
    for d in s.disagreements.iter().take(show) {
        println!("\nDISAGREEMENT {}:", d.label);
        for diff in &d.differences {
            println!("  - {diff}");
        }
        let shown = serde_json::json!({
            "explain_input": d.explain_input,
            "oracle": d.oracle.iter().map(|o| serde_json::json!({
                "preflight": o.preflight, "sent": o.sent, "readable": o.readable, "error": o.error,
                "rule": o.rule, "exposed_headers": o.exposed_headers, "response_type": o.response_type,
                "hops": o.hops, "deviations": o.deviations,
            })).collect::<Vec<_>>(),
            "browser": {"script": d.browser_script, "server": d.browser_server},
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        );
    }
    if s.disagreements.len() > show {
        println!(
            "\n... {} more disagreements (--show N, --json FILE)",
            s.disagreements.len() - show
        );
    }
    println!(
        "\ncorsproof-browser: {} disagreement(s) in {} replayed cases, vectors and sequences",
        s.disagreements.len(),
        s.cases.replayed + s.vectors.replayed + s.sequences.replayed + s.capacity.replayed
    );
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("corsproof-browser: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let summary = match run(&args.opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("corsproof-browser: ERROR: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("corsproof-browser: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    print(&summary, args.show);
    if summary.disagreements.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
