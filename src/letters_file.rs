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
