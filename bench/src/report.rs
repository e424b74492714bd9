//! The table people read and the JSON other tools read.
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::{EngineReport, Plan, engine_json};

/// (JSON key, label, decimals, target)
const ROWS: &[(&str, &str, usize, &str)] = &[
    ("hash_per_s_1core", "hash floor, 1 core (hash/s)", 1, ""),
    ("hash_per_s_all", "hash floor, all cores (hash/s)", 1, ""),
    ("login_per_s", "login (POST /sessions) /s", 1, ""),
    ("login_vs_hash_floor", "login / hash floor", 2, ">= 0.90"),
    ("login_p50_ms", "login p50 (ms)", 0, ""),
    ("login_server_cpu_ms", "  server CPU per login (ms)", 1, ""),
    (
        "login_postgres_cpu_ms",
        "  PostgreSQL CPU per login (ms)",
        2,
        "",
    ),
    (
        "login_client_cpu_ms",
        "  load generator CPU per login (ms)",
        2,
        "",
    ),
    ("me_per_s", "GET /me /s", 0, ">= 20000 (SQLite)"),
    ("me_p50_ms", "GET /me p50 (ms)", 2, ""),
    ("me_p99_ms", "GET /me p99 (ms)", 2, "< 5 (SQLite)"),
    ("health_per_s", "GET /health /s (same load)", 0, ""),
    ("me_vs_health", "GET /me / GET /health", 2, ""),
    (
        "me_server_cpu_cores",
        "  server CPU during /me (cores)",
        2,
        "",
    ),
    (
        "me_postgres_cpu_cores",
        "  PostgreSQL CPU during /me (cores)",
        2,
        "",
    ),
    ("me_client_cpu_cores", "  load generator CPU (cores)", 2, ""),
    (
        "me_100k_sessions_per_s",
        "GET /me /s, 100k more sessions",
        0,
        "",
    ),
    (
        "me_100k_sessions_p99_ms",
        "GET /me p99, 100k more sessions (ms)",
        2,
        "",
    ),
    (
        "me_100k_sessions_server_cpu_us",
        "  server CPU per /me (µs)",
        0,
        "",
    ),
    ("register_per_s", "registration (3 calls) /s", 1, ""),
    ("register_vs_hash_floor", "registration / hash floor", 2, ""),
    (
        "enum_login_median_diff_pct",
        "login known vs unknown, median (%)",
        1,
        "|x| <= 2",
    ),
    (
        "enum_login_classify_pct",
        "  one sample classified (%)",
        1,
        "<= 60",
    ),
    (
        "enum_registration_median_diff_pct",
        "registration known vs unknown (%)",
        1,
        "|x| <= 2",
    ),
    (
        "enum_registration_classify_pct",
        "  one sample classified (%)",
        1,
        "<= 60",
    ),
    (
        "enum_recovery_median_diff_pct",
        "recovery known vs unknown (%)",
        1,
        "|x| <= 2",
    ),
    (
        "enum_recovery_classify_pct",
        "  one sample classified (%)",
        1,
        "<= 60",
    ),
    ("rss_idle_mb", "RSS idle (MiB)", 1, "<= 30"),
    ("rss_after_load_mb", "RSS after load (MiB)", 1, ""),
    ("rss_anon_after_load_mb", "  of it anonymous (MiB)", 1, ""),
    (
        "rss_100k_sessions_mb",
        "RSS, 100k live sessions (MiB)",
        1,
        "<= 100",
    ),
    ("sessions_import_s", "import 100k sessions (s)", 1, ""),
    (
        "other_processes_cpu_cores",
        "other processes' CPU (cores)",
        2,
        "0 ideally",
    ),
];

fn number(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "—".to_owned(),
    }
}

fn count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

pub fn table(reports: &[EngineReport], scales: &[usize], cores: usize) -> String {
    let get = |engine: &str, key: &str| {
        reports
            .iter()
            .find(|r| r.engine.name() == engine)
            .and_then(|r| r.figures.get(key).copied())
    };
    let scale_get = |engine: &str, n: usize, key: &str| {
        reports
            .iter()
            .find(|r| r.engine.name() == engine)
            .and_then(|r| r.scale.get(&n))
            .and_then(|f| f.get(key).copied())
    };
    let mut rows: Vec<[String; 4]> = vec![[
        "figure".into(),
        "sqlite".into(),
        "postgres".into(),
        "target".into(),
    ]];
    for (key, label, decimals, target) in ROWS {
        let label = label.replace("all cores", &format!("{cores} cores"));
        rows.push([
            label,
            number(get("sqlite", key), *decimals),
            number(get("postgres", key), *decimals),
            (*target).to_owned(),
        ]);
    }
    for &n in scales {
        for (key, label, decimals) in [
            ("fill_s", "fill (s)", 1),
            ("login_per_s", "login /s", 1),
            ("login_vs_hash_floor", "login / hash floor", 2),
            ("login_server_cpu_ms", "server CPU per login (ms)", 1),
            ("me_per_s", "GET /me /s", 0),
            ("me_p99_ms", "GET /me p99 (ms)", 2),
            ("me_server_cpu_us", "server CPU per /me (µs)", 0),
        ] {
            rows.push([
                format!("{} accounts: {label}", count(n)),
                number(scale_get("sqlite", n, key), decimals),
                number(scale_get("postgres", n, key), decimals),
                String::new(),
            ]);
        }
    }
    if let (Some(&small), Some(&large)) = (scales.first(), scales.last())
        && large > small
    {
        // A drop is bad for throughput, a rise bad for cost.
        for (key, label, target) in [
            ("login_per_s", "login /s", ">= -10"),
            ("login_vs_hash_floor", "login / floor", ">= -10"),
            ("login_server_cpu_ms", "server CPU per login", "<= +10"),
            ("me_per_s", "GET /me /s", ">= -10"),
            ("me_server_cpu_us", "server CPU per /me", "<= +10"),
        ] {
            let change = |engine: &str| {
                let a = scale_get(engine, small, key)?;
                let b = scale_get(engine, large, key)?;
                Some((b - a) / a * 100.0)
            };
            rows.push([
                format!("change {} → {}: {label} (%)", count(small), count(large)),
                number(change("sqlite"), 1),
                number(change("postgres"), 1),
                target.into(),
            ]);
        }
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let _ = write!(out, "| {:<w$} ", row[0], w = widths[0]);
        for (c, cell) in row.iter().enumerate().skip(1) {
            let pad = widths[c] - cell.chars().count();
            if c == 3 {
                let _ = write!(out, "| {cell}{} ", " ".repeat(pad));
            } else {
                let _ = write!(out, "| {}{cell} ", " ".repeat(pad));
            }
        }
        out.push_str("|\n");
        if i == 0 {
            out.push('|');
            for (c, w) in widths.iter().enumerate() {
                // Figures are right-aligned.
                let cell = if c == 1 || c == 2 {
                    format!("{}:", "-".repeat(w + 1))
                } else {
                    "-".repeat(w + 2)
                };
                let _ = write!(out, "{cell}|");
            }
            out.push('\n');
        }
    }
    out
}

pub fn json(reports: &[EngineReport], plan: &Plan, machine: Value, total: Duration) -> Value {
    let engine = |name: &str| {
        reports
            .iter()
            .find(|r| r.engine.name() == name)
            .map_or(Value::Null, |r| engine_json(&r.figures))
    };
    let scale = |name: &str| {
        reports
            .iter()
            .find(|r| r.engine.name() == name)
            .map_or(Value::Null, |r| {
                Value::Object(
                    r.scale
                        .iter()
                        .map(|(n, f)| (n.to_string(), engine_json(f)))
                        .collect(),
                )
            })
    };
    json!({
        "sqlite": engine("sqlite"),
        "postgres": engine("postgres"),
        "accounts": plan.scales[0],
        "scale": { "sqlite": scale("sqlite"), "postgres": scale("postgres") },
        "machine": machine,
        "run": {
            "mode": if plan.quick { "quick" } else { "full" },
            "seconds": total.as_secs(),
            "hash_1core_s": plan.hash_1core.as_secs(),
            "slice_s": plan.slice.as_secs(),
            "login_slices": plan.login_slices,
            "register_slices": plan.register_slices,
            "me_s": plan.me.as_secs(),
            "login_connections": plan.login_connections,
            "register_connections": plan.register_connections,
            "me_connections": plan.me_connections,
            "sessions": plan.sessions,
            "at": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        },
    })
}
