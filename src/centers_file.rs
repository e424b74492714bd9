//! Files of service centers: JSON (an array of centers, or an object with a
//! `centers` array, as the shipped list) and CSV (one row a center, the
//! hours of each weekday in its own column).
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use uslugi_domain::center::{format_offset, parse_offset};
use uslugi_domain::{CenterKind, CenterService, DayHours, ServiceCenter, WeekHours};

/// The centers of seeds 000 and 001, loaded when the database has none.
pub const SHIPPED: &str = include_str!("../data/service-centers.json");

pub fn parse_json(text: &str) -> anyhow::Result<Vec<ServiceCenter>> {
    // Parse the shape first for a precise message, then the centers.
    let value: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    let list = match &value {
        serde_json::Value::Array(_) => value,
        serde_json::Value::Object(o) if o.contains_key("centers") => o["centers"].clone(),
        _ => bail!("expected an array of centers or {{\"centers\": [...]}}"),
    };
    let items = list.as_array().context("centers must be an array")?;
    let mut centers = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let c: ServiceCenter = serde_json::from_value(item.clone()).with_context(|| {
            format!(
                "center #{} ({})",
                i + 1,
                item["id"].as_str().unwrap_or("no id")
            )
        })?;
        centers.push(c);
    }
    Ok(centers)
}

pub fn to_json(centers: &[ServiceCenter]) -> String {
    let mut s = serde_json::to_string_pretty(centers).expect("centers serialise");
    s.push('\n');
    s
}

#[derive(Serialize, Deserialize)]
struct Row {
    id: String,
    name: String,
    kind: String,
    region: String,
    locality: String,
    postal_code: String,
    address: String,
    phone: String,
    email: String,
    utc_offset: String,
    /// Space-separated: registration identity_confirmation access_recovery.
    services: String,
    latitude: String,
    longitude: String,
    mon: String,
    tue: String,
    wed: String,
    thu: String,
    fri: String,
    sat: String,
    sun: String,
}

pub fn to_csv(centers: &[ServiceCenter]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for c in centers {
        let h = &c.hours;
        w.serialize(Row {
            id: c.id.clone(),
            name: c.name.clone(),
            kind: c.kind.as_str().into(),
            region: c.region.clone(),
            locality: c.locality.clone(),
            postal_code: c.postal_code.clone(),
            address: c.address.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            utc_offset: format_offset(c.utc_offset),
            services: c
                .services
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            latitude: c.latitude.map(|v| v.to_string()).unwrap_or_default(),
            longitude: c.longitude.map(|v| v.to_string()).unwrap_or_default(),
            mon: h.mon.to_string(),
            tue: h.tue.to_string(),
            wed: h.wed.to_string(),
            thu: h.thu.to_string(),
            fri: h.fri.to_string(),
            sat: h.sat.to_string(),
            sun: h.sun.to_string(),
        })?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

pub fn parse_csv(text: &str) -> anyhow::Result<Vec<ServiceCenter>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let mut centers = Vec::new();
    for (i, row) in r.deserialize::<Row>().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("line {line}"))?;
        let at = |what: &str| format!("line {line} ({}): {what}", row.id);
        let day = |s: &str| DayHours::parse(s).map_err(|e| anyhow::anyhow!("{}: {e}", at("hours")));
        let coord = |s: &str| -> anyhow::Result<Option<f64>> {
            if s.trim().is_empty() {
                Ok(None)
            } else {
                Ok(Some(s.trim().parse().with_context(|| at("coordinates"))?))
            }
        };
        centers.push(ServiceCenter {
            kind: CenterKind::parse(&row.kind)
                .with_context(|| at("kind must be mfc, rostelecom, post or administration"))?,
            utc_offset: parse_offset(&row.utc_offset)
                .with_context(|| at("utc_offset must look like +03:00"))?,
            services: row
                .services
                .split_whitespace()
                .map(|s| CenterService::parse(s).with_context(|| at("unknown service")))
                .collect::<anyhow::Result<_>>()?,
            latitude: coord(&row.latitude)?,
            longitude: coord(&row.longitude)?,
            hours: WeekHours {
                mon: day(&row.mon)?,
                tue: day(&row.tue)?,
                wed: day(&row.wed)?,
                thu: day(&row.thu)?,
                fri: day(&row.fri)?,
                sat: day(&row.sat)?,
                sun: day(&row.sun)?,
            },
            id: row.id,
            name: row.name,
            region: row.region,
            locality: row.locality,
            postal_code: row.postal_code,
            address: row.address,
            phone: row.phone,
            email: row.email,
        });
    }
    Ok(centers)
}

/// Reads a file of centers by its extension (`.csv` or `.json`).
pub fn read(path: &std::path::Path) -> anyhow::Result<Vec<ServiceCenter>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match extension(path)? {
        Format::Csv => parse_csv(&text),
        Format::Json => parse_json(&text),
    }
    .with_context(|| format!("{} is not a valid file of centers", path.display()))
}

pub fn write(path: &std::path::Path, centers: &[ServiceCenter]) -> anyhow::Result<()> {
    let text = match extension(path)? {
        Format::Csv => to_csv(centers)?,
        Format::Json => to_json(centers),
    };
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

enum Format {
    Csv,
    Json,
}

fn extension(path: &std::path::Path) -> anyhow::Result<Format> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Json),
        _ => bail!("{}: name the file .csv or .json", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_is_valid_and_covers_the_seeds() {
        let centers = parse_json(SHIPPED).unwrap();
        for c in &centers {
            c.validate().unwrap();
        }
        let find = |s: &str| centers.iter().any(|c| c.address.contains(s));
        // Seed 000: the Kaluga region's «Мои Документы» and Rostelecom.
        assert!(find("ул. Хрустальная, 34а") && find("г. Юхнов, ул. Ленина, д. 22"));
        assert!(find("ул. Достоевского, д. 39"));
        // Seed 001: Kogalym, with its hours and lunch break.
        let admin = centers
            .iter()
            .find(|c| c.id == "kogalym-administration")
            .unwrap();
        assert_eq!(admin.hours.mon.to_string(), "08:30-12:30,14:00-18:00");
        assert_eq!(format_offset(admin.utc_offset), "+05:00");
        assert!(centers.len() >= 38);
    }

    #[test]
    fn csv_and_json_round_trip() {
        let centers = parse_json(SHIPPED).unwrap();
        let csv = to_csv(&centers).unwrap();
        assert!(csv.starts_with("id,name,kind,region,locality,postal_code,address,"));
        assert!(
            csv.contains("\"г. Калуга, ул. Ленина, д. 126, стр. 1\""),
            "commas are quoted"
        );
        assert_eq!(parse_csv(&csv).unwrap(), centers);
        assert_eq!(parse_json(&to_json(&centers)).unwrap(), centers);
    }

    #[test]
    fn a_bad_row_is_named() {
        let centers = parse_json(SHIPPED).unwrap();
        let csv = to_csv(&centers[..1])
            .unwrap()
            .replace("08:00-20:00", "8-20");
        let e = format!("{:#}", parse_csv(&csv).unwrap_err());
        assert!(e.contains("line 2") && e.contains("hours"), "{e}");
        let e = format!("{:#}", parse_json("{\"x\": 1}").unwrap_err());
        assert!(e.contains("expected an array"), "{e}");
    }
}
