//! `uslugi admin letters export`: a day's letters for the mailing center,
//! as a PDF ready to print (one page per letter) and a CSV registry of the
//! batch with the tracking numbers (the codes are only in the PDF).
use std::path::{Path, PathBuf};

use anyhow::Context;
use time::Date;
use uslugi_app::letters::{BatchLetter, Letters, address_lines};

use crate::config::LetterSender;

/// The day of a batch: `YYYY-MM-DD` or `ДД.ММ.ГГГГ`.
pub fn parse_date(s: &str) -> anyhow::Result<Date> {
    let iso = time::macros::format_description!("[year]-[month]-[day]");
    let ru = time::macros::format_description!("[day].[month].[year]");
    Date::parse(s.trim(), &iso)
        .or_else(|_| Date::parse(s.trim(), &ru))
        .with_context(|| format!("--date must be YYYY-MM-DD or DD.MM.YYYY, not {s:?}"))
}

/// The registry of the batch: what the post office stamps, without codes.
pub fn registry_csv(
    day: Date,
    letters: &[BatchLetter],
    letters_uc: &Letters,
) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "n",
        "tracking_number",
        "recipient",
        "postal_code",
        "address",
        "batch_date",
        "sent_at",
        "code_valid_until",
    ])?;
    for (i, l) in letters.iter().enumerate() {
        let lines = address_lines(&l.address);
        w.write_record([
            (i + 1).to_string(),
            l.tracking_number.clone(),
            l.recipient.clone(),
            l.address.postal_code.as_str().to_owned(),
            lines[1..].join(", "),
            day.to_string(),
            letters_uc.format_date(l.sent_at),
            letters_uc.format_date(l.expires_at),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Writes `letters-DAY.pdf` and `letters-DAY.csv` into `dir`; the paths.
pub async fn export(
    letters: &Letters,
    day: Date,
    dir: &Path,
    sender: &LetterSender,
    base_url: &str,
) -> anyhow::Result<(PathBuf, PathBuf, usize)> {
    let batch = letters.batch(day).await?;
    let printed: Vec<uslugi_print::PrintedLetter> = batch
        .iter()
        .map(|l| uslugi_print::PrintedLetter {
            tracking_number: l.tracking_number.clone(),
            recipient: l.recipient.clone(),
            address_lines: address_lines(&l.address),
            code: l.code.grouped(),
            valid_until: letters.format_date(l.expires_at),
            portal_url: base_url.to_owned(),
        })
        .collect();
    let day_text = format!(
        "{:02}.{:02}.{}",
        day.day(),
        u8::from(day.month()),
        day.year()
    );
    let pdf = uslugi_print::letters_pdf(
        &uslugi_print::Sender {
            name: sender.name.clone(),
            address_lines: sender.address.clone(),
        },
        &day_text,
        &printed,
    );
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pdf_path = dir.join(format!("letters-{day}.pdf"));
    let csv_path = dir.join(format!("letters-{day}.csv"));
    write_private(&pdf_path, &pdf)?;
    write_private(&csv_path, registry_csv(day, &batch, letters)?.as_bytes())?;
    Ok((pdf_path, csv_path, batch.len()))
}

/// The files hold codes and addresses: readable by their owner only.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_both_ways() {
        let d = parse_date("2026-12-01").unwrap();
        assert_eq!(parse_date("01.12.2026").unwrap(), d);
        assert!(parse_date("2026/12/01").is_err());
        assert!(parse_date("31.02.2026").is_err());
    }
}

/// The post's status file for `admin letters import-tracking`: a CSV with a
/// header naming the columns `tracking_number`, `status` (`accepted`,
/// `in_transit`, `arrived`, `handed_over`) and `time` (RFC 3339, e.g.
/// `2026-12-05T14:30:00+03:00`), in any order. Every line is read before
/// anything is applied: a file with a wrong line is refused whole, each
/// wrong line named.
pub fn read_tracking(text: &str) -> Result<Vec<uslugi_app::post::TrackingUpdate>, Vec<String>> {
    use time::format_description::well_known::Rfc3339;
    use uslugi_domain::{PostStatus, Token, TrackingNumber};

    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![format!("line 1: not CSV: {e}")]),
    };
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
    };
    let (Some(number_at), Some(status_at), Some(time_at)) =
        (column("tracking_number"), column("status"), column("time"))
    else {
        return Err(vec![
            "line 1: the header must name the columns tracking_number, status, time".into(),
        ]);
    };
    let mut updates = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("line {line}: not CSV: {e}"));
                continue;
            }
        };
        let field = |at: usize| record.get(at).unwrap_or("");
        let number = TrackingNumber::parse(field(number_at))
            .map_err(|e| format!("tracking_number {:?}: {e}", field(number_at)));
        let status = PostStatus::parse(field(status_at)).ok_or_else(|| {
            format!(
                "status {:?} is none of {}",
                field(status_at),
                PostStatus::forms().join(", ")
            )
        });
        let at = time::OffsetDateTime::parse(field(time_at), &Rfc3339).map_err(|_| {
            format!(
                "time {:?} is not like 2026-12-05T14:30:00+03:00",
                field(time_at)
            )
        });
        match (number, status, at) {
            (Ok(number), Ok(status), Ok(at)) => updates.push(uslugi_app::post::TrackingUpdate {
                line,
                number,
                status,
                at,
            }),
            (number, status, at) => {
                let errors: Vec<String> = [number.err(), status.err(), at.err()]
                    .into_iter()
                    .flatten()
                    .collect();
                problems.push(format!("line {line}: {}", errors.join("; ")));
            }
        }
    }
    if problems.is_empty() {
        Ok(updates)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tracking_tests {
    use super::*;

    #[test]
    fn every_wrong_line_is_named_and_a_good_file_is_read_whole() {
        let good = uslugi_domain::TrackingRange::parse("10100012", "00001", "00009")
            .unwrap()
            .number(1)
            .unwrap();
        let text = format!(
            "\u{feff}status,tracking_number,time\n\
             in_transit,{good},2026-12-05T10:00:00+03:00\n\
             handed_over, {good} ,2026-12-06T11:00:00Z\n"
        );
        let read = read_tracking(&text).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!((read[0].line, read[1].line), (2, 3));
        assert_eq!(read[1].status, uslugi_domain::PostStatus::HandedOver);

        let bad = format!(
            "tracking_number,status,time\n\
             {good},in_transit,2026-12-05T10:00:00+03:00\n\
             10100012000010,lost,yesterday\n\
             {good},arrived\n"
        );
        let problems = read_tracking(&bad).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("line 3: tracking_number"),
            "{problems:?}"
        );
        assert!(
            problems[0].contains("status \"lost\"") && problems[0].contains("time \"yesterday\"")
        );
        assert!(problems[1].starts_with("line 4: time"), "{problems:?}");

        let headless =
            read_tracking(&format!("{good},arrived,2026-12-05T10:00:00Z\n")).unwrap_err();
        assert!(headless[0].contains("header"), "{headless:?}");
    }
}
