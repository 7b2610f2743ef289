//! `corsproof`: the command line. Argument parsing and output formats only; the work is
//! done by the library crates. Exit codes (docs/cli.md): 0 conforms / nothing
//! found, 1 findings, 2 usage, policy or input error, 3 target unreachable.

mod audit;
mod check;
mod confirm;
mod diff;
mod emit;
mod explain;
mod infer;
mod lint;
mod matrix;
mod matrix_caches;
mod retry;
mod serve;
mod target_arg;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

/// mimalloc instead of the system allocator: the check engine allocates for every case and
/// request (requests, answers, oracle runs), and glibc's malloc and free took about a quarter
/// of a default check's CPU time. Side by side on the default run of
/// `corpus/policies/mixed-routes.toml` against `corsproof serve` (four alternating pairs):
/// 6,873 requests/s with the system allocator, 8,578 with mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// corsproof: make the CORS boundary testable.
#[derive(Debug, Parser)]
#[command(name = "corsproof", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For programs (shapes in docs/cli.md).
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The oracle as a tool: what a browser sends, lets script read and exposes, and why.
    Explain {
        /// A case (JSON; the steps form for the preflight cache over time), or `-` / absent
        /// for standard input.
        file: Option<PathBuf>,
        /// Read a HAR file instead of a case.
        #[arg(long)]
        har: bool,
        /// With --har: the page's origin (overrides the requests' Origin headers; needed when they carry none).
        #[arg(long, requires = "har")]
        origin: Option<String>,
        /// The browser profile (overrides the case's `browser`).
        #[arg(long, value_parser = ["fetch", "chromium", "firefox"])]
        browser: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the output here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Validate a policy file: errors (exit 2) and risk warnings.
    Lint {
        /// The policy (TOML or JSON).
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 1 when there are warnings.
        #[arg(long)]
        deny_warnings: bool,
        /// Also warn of what this target cannot express of the policy (repeatable or
        /// comma-separated), as its emitter announces it, before anything runs.
        #[arg(long, value_enum, value_delimiter = ',')]
        target: Vec<target_arg::TargetArg>,
        /// Write the output here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Serve a demo handler behind the corsproof middleware, configured from a policy.
    Serve {
        /// The policy (TOML or JSON).
        #[arg(long)]
        policy: PathBuf,
        /// HOST:PORT to listen on; port 0 picks a free port (the "listening on" line says which).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Stop (exit 0) after serving this many requests.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        max_requests: Option<u64>,
        /// Stop (exit 0) after this many seconds.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        timeout: Option<u64>,
        /// Say why a request was refused: every response the middleware refuses or withholds
        /// CORS headers from gets a `Cors-Refusal` header (e.g. `method-not-allowed;
        /// method="PATCH"; route="api"`), and each refusal is logged to stderr in one line.
        /// For development only: the header tells any client what the policy allows.
        #[arg(long)]
        explain_refusals: bool,
        /// Answer a preflight refused for its method or request headers with 204, the
        /// `Access-Control-Allow-Origin` an allowed preflight gets and the methods and headers
        /// the route really allows (never `Access-Control-Allow-Credentials`), so that the
        /// browser still fails it and its console names the method or header. Implies
        /// --explain-refusals. For development only: it tells any client what the policy
        /// allows.
        #[arg(long)]
        debug_preflights: bool,
    },
    /// Check a running server against a policy: generated browser requests, judged by the
    /// oracle under every browser profile (exit 0 conforms, 1 findings, 3 unreachable or more
    /// requests without a usable answer than --max-errors allows: no verdict).
    Check {
        /// The server's base URL (http://HOST:PORT, no path); not with --container.
        #[arg(required_unless_present = "container", conflicts_with = "container")]
        url: Option<String>,
        /// Start this local Docker image (nothing is pulled), check it on --port, remove it.
        #[arg(long, value_name = "IMAGE", requires = "port")]
        container: Option<String>,
        /// With --container: the container port the image serves HTTP on.
        #[arg(long, requires = "container", value_parser = clap::value_parser!(u16).range(1..))]
        port: Option<u16>,
        #[command(flatten)]
        flags: check::Flags,
    },
    /// Start a known implementation configured from the policy, check it, stop it.
    Run {
        /// The implementation.
        #[arg(value_enum)]
        target: target_arg::TargetArg,
        /// Start an emitted application even where its library would grant more than the
        /// policy allows (else exit 2; what it grants beyond is printed either way).
        #[arg(long)]
        allow_broader: bool,
        /// Run it as a Docker container (image from CORSPROOF_NGINX_IMAGE / CORSPROOF_SERVE_IMAGE,
        /// default the images `cargo xtask images` builds; the emitted applications in
        /// CORSPROOF_APPS_IMAGE, default `corsproof/apps:local`, on the host's network, see
        /// docs/ci.md); `kong` always runs as one.
        #[arg(long)]
        container: bool,
        #[command(flatten)]
        flags: check::Flags,
    },
    /// Policy-less scan for dangerous CORS behaviour: reflection, `null`, prefix/suffix/regex
    /// bypasses, scheme downgrade, wildcards, missing Vary, preflight leaks (exit 0 nothing
    /// found, 1 findings, 3 unreachable).
    Audit {
        /// The URL to probe (`http://` or `https://`).
        url: String,
        #[command(flatten)]
        flags: audit::Flags,
    },
    /// What a change of policy grants or takes away: per route and origin class, which reads,
    /// methods, headers, exposed headers, cache lifetime and PNA broaden or narrow (exit 0 no
    /// broadening, 1 something broadens, 2 invalid policy).
    Diff {
        /// The policy before the change (TOML or JSON).
        old: PathBuf,
        /// The policy after the change.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = diff::DiffFormat::Text)]
        format: diff::DiffFormat,
        /// Exit 0 even when something broadens.
        #[arg(long)]
        allow_broaden: bool,
        /// Write the output here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Probe a running deployment and write the policy it implements (TOML); what a policy
    /// cannot say (any origin reflected, `null`, paths in any case, ...) on standard error
    /// (exit 0 all said, 1 gaps, 2 bad input, 3 no answer or budget spent).
    Infer {
        /// The deployment's base URL (http:// or https://).
        url: String,
        #[command(flatten)]
        flags: infer::Flags,
    },
    /// Print a configuration implementing a policy for another CORS implementation.
    Emit {
        /// The target.
        #[arg(value_enum)]
        target: target_arg::TargetArg,
        /// The policy (TOML or JSON).
        #[arg(long)]
        policy: PathBuf,
        /// nginx: write a standalone configuration listening here (PORT or HOST:PORT) with a demo response.
        #[arg(long)]
        listen: Option<String>,
        /// Kong: the upstream service URL (default http://corsproof-serve:8080, the
        /// `corsproof serve` container; a loopback URL such as http://127.0.0.1:8080 for a
        /// Kong on the host network).
        #[arg(long)]
        upstream: Option<String>,
        /// Kong and the applications: emit even when the target would grant more than the
        /// policy allows (else exit 2).
        #[arg(long)]
        allow_broader: bool,
        /// Write the output here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Every available target (installed here) configured from every bundled policy, checked:
    /// the conformance matrix, each cell split into what the library cannot express and where
    /// it diverges from its configuration (exit 0 every finding explained, 1 an unexplained
    /// divergence, 3 no target could run or a cell failed).
    Matrix {
        #[command(flatten)]
        options: matrix::Options,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff); with --dir, write one page per command into a directory.
    Man {
        /// Write `corsproof.1` and `corsproof-COMMAND.1` into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// How a command ended: its exit code, and what to print.
pub struct Done {
    /// 0, 1, 2 or 3.
    pub code: u8,
    /// The output (standard output or --output).
    pub output: String,
}

/// The parser of a `--allow KIND` value: one of the kinds of `K` (its words, from
/// `clap::ValueEnum`), or an error naming the kinds (`what`: "a check", "an audit").
pub fn kind_parser<K: ValueEnum + Clone + Send + Sync + 'static>(
    what: &'static str,
) -> impl Fn(&str) -> Result<K, String> + Clone + Send + Sync + 'static {
    move |word: &str| {
        K::from_str(word, false).map_err(|_| {
            let known: Vec<String> = K::value_variants()
                .iter()
                .filter_map(|k| k.to_possible_value().map(|v| v.get_name().to_string()))
                .collect();
            format!("not {what} finding kind (one of: {})", known.join(", "))
        })
    }
}

/// Writes the output where it was asked to go.
pub fn emit(output: &str, to: Option<&PathBuf>) -> anyhow::Result<()> {
    use anyhow::Context;
    match to {
        Some(path) => {
            std::fs::write(path, output).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(output.as_bytes());
            Ok(())
        }
    }
}

/// The man page of `corsproof` on standard output, or every command's page in `dir`.
fn man(dir: Option<&std::path::Path>) -> anyhow::Result<u8> {
    use anyhow::Context;
    let cmd = Cli::command();
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .context("cannot render the man page")?;
            emit(&String::from_utf8_lossy(&out), None)?;
        }
    }
    Ok(0)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Explain {
            file,
            har,
            origin,
            browser,
            format,
            output,
        } => explain::run(
            file.as_deref(),
            har,
            origin.as_deref(),
            browser.as_deref(),
            format,
        )
        .and_then(|d| emit(&d.output, output.as_ref()).map(|()| d.code)),
        Command::Lint {
            file,
            format,
            deny_warnings,
            target,
            output,
        } => lint::run(&file, format, deny_warnings, &target)
            .and_then(|d| emit(&d.output, output.as_ref()).map(|()| d.code)),
        Command::Serve {
            policy,
            listen,
            max_requests,
            timeout,
            explain_refusals,
            debug_preflights,
        } => serve::run(&serve::Options {
            policy,
            listen,
            max_requests,
            timeout,
            explain_refusals: explain_refusals || debug_preflights,
            debug_preflights,
        }),
        Command::Check {
            url,
            container,
            port,
            flags,
        } => match (url, container, port) {
            (None, Some(image), Some(port)) => check::check_container(&image, port, &flags),
            (Some(url), None, None) => check::check(&url, &flags),
            _ => {
                eprintln!(
                    "corsproof check: give either a URL or --container IMAGE --port PORT (--port only with --container)"
                );
                Ok(2)
            }
        },
        Command::Run {
            target,
            allow_broader,
            container,
            flags,
        } => check::run(target.0, container, allow_broader, &flags),
        Command::Audit { url, flags } => audit::run(&url, &flags),
        Command::Infer { url, flags } => infer::run(&url, &flags),
        Command::Diff {
            old,
            new,
            format,
            allow_broaden,
            output,
        } => diff::run(&old, &new, format, allow_broaden)
            .and_then(|d| emit(&d.output, output.as_ref()).map(|()| d.code)),
        Command::Emit {
            target,
            policy,
            listen,
            upstream,
            allow_broader,
            output,
        } => emit::run(
            target.0,
            &policy,
            &emit::Options {
                listen: listen.as_deref(),
                upstream: upstream.as_deref(),
                allow_broader,
            },
        )
        .and_then(|d| {
            // A refusal (exit 2) writes nothing, not an empty file.
            if d.code == 2 {
                Ok(2)
            } else {
                emit(&d.output, output.as_ref()).map(|()| d.code)
            }
        }),
        Command::Matrix { options } => matrix::run(&options),
        Command::Completions { shell } => {
            // Into a buffer first: written to a closed pipe, the generator would panic.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "corsproof", &mut script);
            emit(&String::from_utf8_lossy(&script), None).map(|()| 0)
        }
        Command::Man { dir } => man(dir.as_deref()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("corsproof: {e:#}");
            ExitCode::from(2)
        }
    }
}
