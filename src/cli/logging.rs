//! Where and how the process writes its lines: standard error, as text
//! (colours only on a terminal) or as JSON lines (`log_format = "json"`,
//! `--log-format json`, `USLUGI_LOG_FORMAT=json`) for a log shipper. The
//! format is known from the flag or the environment before the settings
//! are read, and from the settings file once they are; until then nothing
//! is written but from the flag's or the environment's format.
use std::io::IsTerminal as _;
use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer, Registry, reload};

use crate::config::LogFormat;

type Formatter = Box<dyn Layer<Registry> + Send + Sync>;

static FORMAT: OnceLock<(
    reload::Handle<Formatter, Registry>,
    std::sync::Mutex<LogFormat>,
)> = OnceLock::new();
/// The flag was given: it wins over the environment and the file.
static FLAGGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn formatter(format: LogFormat) -> Formatter {
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        LogFormat::Text => Box::new(layer.with_ansi(std::io::stderr().is_terminal())),
        LogFormat::Json => Box::new(
            layer
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .flatten_event(false),
        ),
    }
}

/// The format the flag or the environment asks for, before the settings.
pub fn early_format(flag: Option<LogFormat>) -> LogFormat {
    flag.or_else(|| {
        std::env::var("USLUGI_LOG_FORMAT")
            .ok()
            .and_then(|v| LogFormat::parse(&v))
    })
    .unwrap_or_default()
}

/// Sets up logging once, in `format`; `USLUGI_LOG` filters (`info` by
/// default).
pub fn init(format: LogFormat, flagged: bool) {
    FLAGGED.store(flagged, std::sync::atomic::Ordering::Relaxed);
    let filter: tracing_subscriber::filter::Targets = std::env::var("USLUGI_LOG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| "info".parse().expect("static filter"));
    let (layer, handle) = reload::Layer::new(formatter(format));
    if tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init()
        .is_ok()
    {
        let _ = FORMAT.set((handle, std::sync::Mutex::new(format)));
    }
}

/// Switches to the settings' format if it is another (and no flag chose).
pub fn apply(format: LogFormat) {
    if FLAGGED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let Some((handle, current)) = FORMAT.get() else {
        return;
    };
    let Ok(mut current) = current.lock() else {
        return;
    };
    if *current != format && handle.reload(formatter(format)).is_ok() {
        *current = format;
    }
}

/// Whether lines are JSON now: what the process prints itself (the start
/// banner, a fatal error) is then written as log lines too.
pub fn is_json() -> bool {
    FORMAT
        .get()
        .and_then(|(_, f)| f.lock().ok().map(|f| *f == LogFormat::Json))
        .unwrap_or(false)
}

/// A failure for the operator: on standard error, or in JSON mode logged.
pub fn say_error(text: &str) {
    if is_json() {
        tracing::error!(target: "uslugi", "{text}");
    } else {
        eprintln!("{text}");
    }
}

/// A line for the operator: printed, or in JSON mode logged.
pub fn say(text: &str) {
    if is_json() {
        tracing::info!(target: "uslugi", "{text}");
    } else {
        println!("{text}");
    }
}
