//! Dates as people type them and as drafts and JSON keep them, and the
//! birthday rule the age checks rest on.
use time::{Date, Month};

use super::Problem;

/// The youngest age at which a passport is issued and an account is kept.
pub const MIN_AGE: i32 = 14;

/// Parses `ДД.ММ.ГГГГ` (as people type) or `ГГГГ-ММ-ДД` (as `<input type=date>` sends).
pub fn parse_date(input: &str) -> Result<Date, Problem> {
    let t = input.trim();
    if t.is_empty() {
        return Err(Problem::Missing);
    }
    let parts: Vec<&str> = if t.contains('.') {
        let mut p: Vec<&str> = t.split('.').collect();
        p.reverse();
        p
    } else {
        t.split('-').collect()
    };
    let [y, m, d] = parts.as_slice() else {
        return Err(Problem::DateFormat);
    };
    let well_formed = y.len() == 4
        && (1..=2).contains(&m.len())
        && (1..=2).contains(&d.len())
        && [y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(Problem::DateFormat);
    }
    let year: i32 = y.parse().map_err(|_| Problem::DateFormat)?;
    let month: u8 = m.parse().map_err(|_| Problem::DateFormat)?;
    let day: u8 = d.parse().map_err(|_| Problem::DateFormat)?;
    let month = Month::try_from(month).map_err(|_| Problem::DateFormat)?;
    Date::from_calendar_date(year, month, day).map_err(|_| Problem::DateFormat)
}

/// `ГГГГ-ММ-ДД`, the form drafts and JSON keep dates in.
pub fn format_iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The day a person born on `birth` turns `years`; someone born on 29
/// February has that birthday on 1 March in other years.
pub fn birthday(birth: Date, years: i32) -> Option<Date> {
    let year = birth.year() + years;
    Date::from_calendar_date(year, birth.month(), birth.day())
        .ok()
        .or_else(|| Date::from_calendar_date(year, Month::March, 1).ok())
}

pub(super) mod date_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_iso(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_date(&s).map_err(|_| serde::de::Error::custom("invalid date"))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn dates_are_typed_with_dots_or_sent_as_iso() {
        assert_eq!(parse_date("17.05.1980"), Ok(date!(1980 - 05 - 17)));
        assert_eq!(parse_date("7.5.1980"), Ok(date!(1980 - 05 - 07)));
        assert_eq!(parse_date("1980-05-17"), Ok(date!(1980 - 05 - 17)));
        for s in [
            "31.02.2000",
            "17/05/1980",
            "1980.05.17",
            "17.05.80",
            "завтра",
        ] {
            assert_eq!(parse_date(s), Err(Problem::DateFormat), "{s}");
        }
        assert_eq!(parse_date("  "), Err(Problem::Missing));
    }
}
