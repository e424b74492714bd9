//! Service centers: where a citizen registers, confirms identity or
//! recovers access in person, and when each is open.
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{OffsetDateTime, Time, UtcOffset, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CenterKind {
    /// МФЦ «Мои Документы».
    Mfc,
    Rostelecom,
    /// Почта России.
    Post,
    /// A local administration.
    Administration,
}

impl CenterKind {
    pub const ALL: [Self; 4] = [
        Self::Mfc,
        Self::Rostelecom,
        Self::Post,
        Self::Administration,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mfc => "mfc",
            Self::Rostelecom => "rostelecom",
            Self::Post => "post",
            Self::Administration => "administration",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CenterService {
    Registration,
    IdentityConfirmation,
    AccessRecovery,
}

impl CenterService {
    pub const ALL: [Self; 3] = [
        Self::Registration,
        Self::IdentityConfirmation,
        Self::AccessRecovery,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::IdentityConfirmation => "identity_confirmation",
            Self::AccessRecovery => "access_recovery",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// One opening interval of a day, `[opens, closes)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub opens: Time,
    pub closes: Time,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("opening hours must look like 08:00-12:30,13:30-20:00 (or be empty for a day off): {0}")]
pub struct HoursError(pub String);

fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

fn format_time(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// The hours of one day: intervals in order, not overlapping; a gap between
/// two is a break. Empty: a day off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayHours(Vec<Interval>);

impl DayHours {
    /// `08:00-12:30,13:30-20:00`; empty or `выходной` for a day off.
    pub fn parse(input: &str) -> Result<Self, HoursError> {
        let t = input.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("closed") || t == "выходной" {
            return Ok(Self::default());
        }
        let mut intervals = Vec::new();
        for part in t.split(',') {
            let bad = || HoursError(input.to_owned());
            let (a, b) = part.split_once('-').ok_or_else(bad)?;
            let opens = parse_time(a).ok_or_else(bad)?;
            let closes = parse_time(b).ok_or_else(bad)?;
            if closes <= opens {
                return Err(bad());
            }
            if intervals
                .last()
                .is_some_and(|prev: &Interval| prev.closes > opens)
            {
                return Err(bad());
            }
            intervals.push(Interval { opens, closes });
        }
        Ok(Self(intervals))
    }

    pub fn intervals(&self) -> &[Interval] {
        &self.0
    }

    pub fn is_day_off(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_open_at(&self, t: Time) -> bool {
        self.0.iter().any(|i| i.opens <= t && t < i.closes)
    }

    /// The breaks: the gaps between intervals.
    pub fn breaks(&self) -> Vec<Interval> {
        self.0
            .windows(2)
            .map(|w| Interval {
                opens: w[0].closes,
                closes: w[1].opens,
            })
            .collect()
    }
}

impl fmt::Display for DayHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|i| format!("{}-{}", format_time(i.opens), format_time(i.closes)))
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl Serialize for DayHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DayHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Hours for each day of the week, Monday first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekHours {
    pub mon: DayHours,
    pub tue: DayHours,
    pub wed: DayHours,
    pub thu: DayHours,
    pub fri: DayHours,
    pub sat: DayHours,
    pub sun: DayHours,
}

impl WeekHours {
    pub fn day(&self, d: Weekday) -> &DayHours {
        match d {
            Weekday::Monday => &self.mon,
            Weekday::Tuesday => &self.tue,
            Weekday::Wednesday => &self.wed,
            Weekday::Thursday => &self.thu,
            Weekday::Friday => &self.fri,
            Weekday::Saturday => &self.sat,
            Weekday::Sunday => &self.sun,
        }
    }

    /// The days Monday to Sunday with their hours.
    pub fn days(&self) -> [(Weekday, &DayHours); 7] {
        [
            (Weekday::Monday, &self.mon),
            (Weekday::Tuesday, &self.tue),
            (Weekday::Wednesday, &self.wed),
            (Weekday::Thursday, &self.thu),
            (Weekday::Friday, &self.fri),
            (Weekday::Saturday, &self.sat),
            (Weekday::Sunday, &self.sun),
        ]
    }
}

fn offset_ser<S: Serializer>(o: &UtcOffset, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_offset(*o))
}

fn offset_de<'de, D: Deserializer<'de>>(d: D) -> Result<UtcOffset, D::Error> {
    let s = String::deserialize(d)?;
    parse_offset(&s).ok_or_else(|| serde::de::Error::custom("utc_offset must look like +03:00"))
}

/// `+03:00`, `+05:00`, `-01:30`.
pub fn parse_offset(s: &str) -> Option<UtcOffset> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1i8, &s[1..]),
        b'-' => (-1i8, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

pub fn format_offset(o: UtcOffset) -> String {
    let (h, m, _) = o.as_hms();
    let sign = if h < 0 || m < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.abs(), m.abs())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCenter {
    /// A stable identifier, e.g. `kaluga-mfc-khrustalnaya`.
    pub id: String,
    pub name: String,
    pub kind: CenterKind,
    /// «Калужская область».
    pub region: String,
    /// «г. Калуга», «Боровский район».
    pub locality: String,
    pub postal_code: String,
    /// The address as written on a letter, without the postal code.
    pub address: String,
    pub phone: String,
    pub email: String,
    /// The region's time zone, as its offset (Russia keeps no summer time).
    #[serde(serialize_with = "offset_ser", deserialize_with = "offset_de")]
    pub utc_offset: UtcOffset,
    pub hours: WeekHours,
    pub services: Vec<CenterService>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CenterError {
    #[error("center {id}: {field} is empty")]
    Missing { id: String, field: &'static str },
    #[error("center {id}: the postal code must be 6 digits")]
    PostalCode { id: String },
    #[error("center {id}: the id may hold only a-z, 0-9 and hyphens")]
    Id { id: String },
    #[error("center {id}: coordinates out of range")]
    Coordinates { id: String },
}

impl ServiceCenter {
    /// Whether the center is open at `now`, in its own time zone.
    pub fn is_open_at(&self, now: OffsetDateTime) -> bool {
        let local = now.to_offset(self.utc_offset);
        self.hours.day(local.weekday()).is_open_at(local.time())
    }

    pub fn offers(&self, s: CenterService) -> bool {
        self.services.contains(&s)
    }

    /// Whether every word of `q` is in the name, locality, region or address
    /// (letter case and ё/е do not matter).
    pub fn matches_text(&self, q: &str) -> bool {
        let hay = fold(&format!(
            "{} {} {} {} {}",
            self.name, self.locality, self.region, self.postal_code, self.address
        ));
        fold(q).split_whitespace().all(|w| hay.contains(w))
    }

    /// Checks what a file of centers could get wrong.
    pub fn validate(&self) -> Result<(), CenterError> {
        let id = || self.id.clone();
        if self.id.is_empty()
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(CenterError::Id { id: id() });
        }
        for (field, value) in [
            ("name", &self.name),
            ("region", &self.region),
            ("locality", &self.locality),
            ("address", &self.address),
        ] {
            if value.trim().is_empty() {
                return Err(CenterError::Missing { id: id(), field });
            }
        }
        if self.postal_code.len() != 6 || !self.postal_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CenterError::PostalCode { id: id() });
        }
        if self.services.is_empty() {
            return Err(CenterError::Missing {
                id: id(),
                field: "services",
            });
        }
        let lat_ok = self.latitude.is_none_or(|l| (-90.0..=90.0).contains(&l));
        let lon_ok = self.longitude.is_none_or(|l| (-180.0..=180.0).contains(&l));
        if !lat_ok || !lon_ok || self.latitude.is_some() != self.longitude.is_some() {
            return Err(CenterError::Coordinates { id: id() });
        }
        Ok(())
    }
}

/// Lower case, ё as е: how search compares text.
pub fn fold(s: &str) -> String {
    s.to_lowercase().replace('ё', "е")
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, time};

    use super::*;

    fn center() -> ServiceCenter {
        ServiceCenter {
            id: "kogalym-administration".into(),
            name: "Администрация города Когалыма".into(),
            kind: CenterKind::Administration,
            region: "Ханты-Мансийский автономный округ — Югра".into(),
            locality: "г. Когалым".into(),
            postal_code: "628481".into(),
            address: "г. Когалым, ул. Дружбы народов, д. 7".into(),
            phone: String::new(),
            email: String::new(),
            utc_offset: parse_offset("+05:00").unwrap(),
            hours: WeekHours {
                mon: DayHours::parse("08:30-12:30,14:00-18:00").unwrap(),
                tue: DayHours::parse("08:30-12:30,14:00-17:00").unwrap(),
                wed: DayHours::parse("08:30-12:30,14:00-17:00").unwrap(),
                thu: DayHours::parse("08:30-12:30,14:00-17:00").unwrap(),
                fri: DayHours::parse("08:30-12:30,14:00-17:00").unwrap(),
                sat: DayHours::default(),
                sun: DayHours::default(),
            },
            services: vec![CenterService::IdentityConfirmation],
            latitude: None,
            longitude: None,
        }
    }

    #[test]
    fn hours_parse_with_breaks_and_days_off() {
        let d = DayHours::parse("08:30-12:30, 14:00-18:00").unwrap();
        assert_eq!(d.intervals().len(), 2);
        assert_eq!(d.to_string(), "08:30-12:30,14:00-18:00");
        assert_eq!(
            d.breaks(),
            vec![Interval {
                opens: time!(12:30),
                closes: time!(14:00)
            }]
        );
        assert!(
            d.is_open_at(time!(08:30))
                && !d.is_open_at(time!(12:30))
                && !d.is_open_at(time!(18:00))
        );
        assert!(DayHours::parse("").unwrap().is_day_off());
        assert!(DayHours::parse("выходной").unwrap().is_day_off());
        for bad in [
            "8-20",
            "08:00-07:00",
            "09:00-13:00,12:00-18:00",
            "25:00-26:00",
            "08:00",
        ] {
            assert!(DayHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn open_now_is_judged_in_the_centers_own_time_zone() {
        let c = center();
        // 04:00 UTC on a Monday is 09:00 in Kogalym (+05:00): open.
        assert!(c.is_open_at(datetime!(2026-03-02 04:00 UTC)));
        // 08:00 UTC is 13:00 there: the lunch break.
        assert!(!c.is_open_at(datetime!(2026-03-02 08:00 UTC)));
        // 12:30 UTC is 17:30 on Monday (open until 18:00), on Tuesday closed.
        assert!(c.is_open_at(datetime!(2026-03-02 12:30 UTC)));
        assert!(!c.is_open_at(datetime!(2026-03-03 12:30 UTC)));
        // Saturday: a day off. And 20:00 UTC on Sunday is already Monday 01:00.
        assert!(!c.is_open_at(datetime!(2026-03-07 06:00 UTC)));
        assert!(!c.is_open_at(datetime!(2026-03-08 20:00 UTC)));
    }

    #[test]
    fn text_search_ignores_case_and_yo() {
        let mut c = center();
        assert!(c.matches_text("когалым дружбы"));
        assert!(c.matches_text("КОГАЛЫМ"));
        assert!(!c.matches_text("калуга"));
        c.address = "ул. Берёзовая, д. 1".into();
        assert!(c.matches_text("березовая"));
        assert!(c.matches_text("628481"));
    }

    #[test]
    fn centers_round_trip_through_json_and_are_validated() {
        let c = center();
        c.validate().unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"utc_offset\":\"+05:00\""), "{json}");
        assert!(
            json.contains("\"mon\":\"08:30-12:30,14:00-18:00\""),
            "{json}"
        );
        assert!(json.contains("\"sat\":\"\""), "{json}");
        assert_eq!(serde_json::from_str::<ServiceCenter>(&json).unwrap(), c);
        let mut bad = c.clone();
        bad.postal_code = "62848".into();
        assert!(matches!(
            bad.validate(),
            Err(CenterError::PostalCode { .. })
        ));
        let mut bad = c.clone();
        bad.id = "Когалым".into();
        assert!(matches!(bad.validate(), Err(CenterError::Id { .. })));
        let mut bad = c;
        bad.latitude = Some(62.26);
        assert!(
            matches!(bad.validate(), Err(CenterError::Coordinates { .. })),
            "a latitude without a longitude"
        );
    }

    #[test]
    fn offsets_parse_and_print() {
        for s in ["+03:00", "+05:00", "-01:30", "+00:00"] {
            assert_eq!(format_offset(parse_offset(s).unwrap()), s);
        }
        for bad in ["03:00", "+3:00", "UTC+3", ""] {
            assert!(parse_offset(bad).is_none(), "{bad}");
        }
    }
}
