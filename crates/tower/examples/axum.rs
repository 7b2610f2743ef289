//! An axum application behind corsproof's middleware, built from a policy file, that prints
//! every refusal of the middleware (and with `--trace` every grant) with
//! `tracing-subscriber`.
//!
//! ```text
//! cargo run -p corsproof-tower --example axum -- --policy examples/deployed.toml
//! ```
//!
//! prints `listening on http://127.0.0.1:PORT` on standard output once it accepts
//! connections, and one line per refusal on standard error, e.g.
//!
//! ```text
//! DEBUG corsproof_tower: CORS refused: method "PATCH" is neither GET, HEAD, POST nor listed in the methods of route "app-api" (method names are case-sensitive) kind="method-not-allowed" route="app-api" method=OPTIONS path=/api/items origin=https://app.example.com preflight=true
//! ```
//!
//! Options:
//! - `--policy FILE`: the policy (TOML or JSON); default `examples/deployed.toml` of the
//!   repository;
//! - `--port N`: the loopback port to listen on (`127.0.0.1`); default 0, a free port;
//! - `--trace`: print grants too (TRACE), not only refusals (DEBUG);
//! - `--debug-preflights`: `RefusalReasons::Debug`, a `Cors-Refusal` header on every
//!   refusal and answers to preflights refused for their method or headers that make the
//!   browser's console name them. For development only;
//! - `--seconds N`: stop after N seconds (default: run until killed).
//!
//! `tests/axum_example.rs` runs it and sends it real preflights over loopback.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use corsproof_policy::{Policy, PolicyError};
use corsproof_tower::{BuildError, CorsLayer, RefusalReasons, TRACING_TARGET};
use tokio::net::TcpListener;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// What can go wrong before the server runs.
#[derive(Debug, thiserror::Error)]
pub enum ExampleError {
    /// The command line is not understood.
    #[error(
        "{0} (usage: axum [--policy FILE] [--port N] [--trace] [--debug-preflights] [--seconds N])"
    )]
    Usage(String),
    /// The policy does not parse or validate.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The middleware refuses the policy (risky settings).
    #[error("the middleware refuses the policy: {0}")]
    Build(#[from] BuildError),
    /// The runtime cannot start, or the port cannot be bound or served.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The command line.
#[derive(Debug)]
pub struct Args {
    /// `--policy FILE`.
    pub policy: PathBuf,
    /// `--port N`.
    pub port: u16,
    /// `--trace`.
    pub trace: bool,
    /// `--debug-preflights`.
    pub debug_preflights: bool,
    /// `--seconds N`.
    pub seconds: Option<u64>,
}

impl Args {
    /// Reads the options (see the module documentation).
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, ExampleError> {
        let mut parsed = Args {
            policy: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deployed.toml"),
            port: 0,
            trace: false,
            debug_preflights: false,
            seconds: None,
        };
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| ExampleError::Usage(format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--policy" => parsed.policy = value("--policy")?.into(),
                "--port" => parsed.port = number(&value("--port")?)?,
                "--seconds" => parsed.seconds = Some(number(&value("--seconds")?)?),
                "--trace" => parsed.trace = true,
                "--debug-preflights" => parsed.debug_preflights = true,
                other => return Err(ExampleError::Usage(format!("unknown argument {other:?}"))),
            }
        }
        Ok(parsed)
    }
}

/// `text` as a number.
fn number<T: std::str::FromStr>(text: &str) -> Result<T, ExampleError> {
    text.parse()
        .map_err(|_| ExampleError::Usage(format!("{text:?} is not a valid number")))
}

/// The CORS layer for the policy file at `path`; under `RefusalReasons::Debug` when
/// `debug_preflights`.
pub fn cors(path: &Path, debug_preflights: bool) -> Result<CorsLayer, ExampleError> {
    let layer = CorsLayer::from_policy(&Policy::from_path(path)?)?;
    Ok(if debug_preflights {
        layer.refusal_reasons(RefusalReasons::Debug)
    } else {
        layer
    })
}

/// The application: a small JSON API under `/api/`, the CORS layer around the whole router
/// (not single routes, whose 405 to `OPTIONS` would come before the middleware).
pub fn app(cors: CorsLayer) -> Router {
    Router::new()
        .route(
            "/api/items",
            get(|| async { "[]" }).put(|| async { "updated" }),
        )
        .route("/health", get(|| async { "ok" }))
        .layer(cors)
}

/// Serves `app` on `listener` until `stop` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
}

fn run() -> Result<(), ExampleError> {
    let args = Args::parse(std::env::args().skip(1))?;
    let level = if args.trace {
        tracing::Level::TRACE
    } else {
        tracing::Level::DEBUG
    };
    // Only the middleware's events, on standard error.
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(Targets::new().with_target(TRACING_TARGET, level))
        .init();
    let layer = cors(&args.policy, args.debug_preflights)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener =
            TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port))).await?;
        let local = listener.local_addr()?;
        {
            // The test reads this line to learn the port.
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{local}")?;
            out.flush()?;
        }
        let seconds = args.seconds;
        let stop = async move {
            match seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => std::future::pending().await,
            }
        };
        serve(listener, app(layer), stop).await
    })?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("axum example: {err}");
            ExitCode::from(2)
        }
    }
}
