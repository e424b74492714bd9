//! A citizen's personal data as the standard account holds them: the
//! values, their rules, and the form they are typed into.
//!
//! The form keeps raw strings (a draft is kept as typed); [`PersonalDataForm::parse`]
//! turns it into [`PersonalData`] or names every problem at once, one per
//! field, in the order of the form.
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

use crate::name::{NameError, PersonName};
use crate::snils::{Snils, SnilsError};

/// The youngest age at which a passport is issued and an account is kept.
pub const MIN_AGE: i32 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "male" => Some(Self::Male),
            "female" => Some(Self::Female),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
        }
    }
}

/// Digits of `input`, if it holds exactly `n` digits and otherwise only
/// spaces and hyphens between them (a stray leading or trailing hyphen is
/// more likely a lost digit than a separator).
fn digits_only(input: &str, n: usize) -> Option<String> {
    let input = input.trim();
    let ends_with_digits = input.starts_with(|c: char| c.is_ascii_digit())
        && input.ends_with(|c: char| c.is_ascii_digit());
    if !ends_with_digits
        || !input
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return None;
    }
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == n).then_some(digits)
}

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s)
                    .map_err(|_| serde::de::Error::custom(concat!("invalid ", stringify!($t))))
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Series and number of a passport of a citizen of the Russian Federation:
/// four digits and six, shown `4510 123456`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PassportNumber(String);

impl PassportNumber {
    /// Accepts the ten digits with any spaces or hyphens between them.
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let d = digits_only(input, 10).ok_or(Problem::PassportFormat)?;
        Ok(Self(format!("{} {}", &d[..4], &d[4..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn series(&self) -> &str {
        &self.0[..4]
    }

    pub fn number(&self) -> &str {
        &self.0[5..]
    }
}
string_serde!(PassportNumber);

/// Код подразделения: six digits, shown `770-001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DepartmentCode(String);

impl DepartmentCode {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let d = digits_only(input, 6).ok_or(Problem::DepartmentCodeFormat)?;
        Ok(Self(format!("{}-{}", &d[..3], &d[3..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_serde!(DepartmentCode);

/// A postal code: six digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

impl PostalCode {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let t = input.trim();
        if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(t.to_owned()))
        } else {
            Err(Problem::PostalCodeFormat)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_serde!(PostalCode);

/// Citizenship, as an ISO 3166 alpha-3 code. Only Russia for now; the type
/// leaves room for others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Citizenship {
    Rus,
}

impl Citizenship {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        match input.trim().to_ascii_uppercase().as_str() {
            "RUS" => Ok(Self::Rus),
            "" => Err(Problem::Missing),
            _ => Err(Problem::UnsupportedCitizenship),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rus => "RUS",
        }
    }
}
string_serde!(Citizenship);

/// The identity document. Only the passport of a citizen of the Russian
/// Federation for now; the type leaves room for others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    RfPassport,
}

impl DocumentType {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        match input.trim() {
            "rf_passport" => Ok(Self::RfPassport),
            "" => Err(Problem::Missing),
            _ => Err(Problem::UnsupportedDocument),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RfPassport => "rf_passport",
        }
    }
}
string_serde!(DocumentType);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    Empty,
    TooLong { max: usize },
    ControlCharacters,
}

/// Free text (a place, an authority, a street): trimmed, inner runs of
/// whitespace made one space, no control characters, not empty, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FreeText(String);

impl FreeText {
    pub fn parse(input: &str, max: usize) -> Result<Self, TextProblem> {
        if input
            .chars()
            .any(|c| (c.is_control() && !c.is_whitespace()) || is_invisible_format(c))
        {
            return Err(TextProblem::ControlCharacters);
        }
        let text = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Err(TextProblem::Empty);
        }
        if text.chars().count() > max {
            return Err(TextProblem::TooLong { max });
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for FreeText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // Stored values were bounded when typed; the largest bound applies.
        FreeText::parse(&s, MAX_TEXT).map_err(|_| serde::de::Error::custom("invalid text"))
    }
}

/// Zero-width and direction-changing characters: invisible on screen, they
/// would let an address or an authority read differently from what is stored.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
    )
}

const MAX_TEXT: usize = 250;
const MAX_PLACE: usize = 200;
const MAX_AUTHORITY: usize = 250;
const MAX_ADDRESS_PART: usize = 200;
const MAX_HOUSE: usize = 20;

/// Why a field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Missing,
    TooLong {
        max: usize,
    },
    Text(TextProblem),
    Name(NameError),
    Snils(SnilsError),
    UnknownSex,
    UnsupportedCitizenship,
    UnsupportedDocument,
    PassportFormat,
    DepartmentCodeFormat,
    PostalCodeFormat,
    /// Not a real date in `ДД.ММ.ГГГГ` or `ГГГГ-ММ-ДД`.
    DateFormat,
    BirthDateInFuture,
    /// Younger than [`MIN_AGE`] today.
    TooYoung,
    IssueDateInFuture,
    /// Issued before the 14th birthday.
    IssuedBeforeFourteen,
}

impl From<TextProblem> for Problem {
    fn from(p: TextProblem) -> Self {
        match p {
            TextProblem::Empty => Self::Missing,
            TextProblem::TooLong { max } => Self::TooLong { max },
            other => Self::Text(other),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub problem: Problem,
}

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

mod date_serde {
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDocument {
    #[serde(rename = "type")]
    pub kind: DocumentType,
    pub series_number: PassportNumber,
    #[serde(with = "date_serde")]
    pub issue_date: Date,
    pub issued_by: FreeText,
    pub department_code: DepartmentCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalData {
    pub surname: PersonName,
    pub given_name: PersonName,
    pub patronymic: Option<PersonName>,
    pub sex: Sex,
    #[serde(with = "date_serde")]
    pub birth_date: Date,
    pub birth_place: FreeText,
    pub snils: Snils,
    pub citizenship: Citizenship,
    pub document: IdentityDocument,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub postal_code: PostalCode,
    pub region: FreeText,
    pub locality: FreeText,
    pub street: FreeText,
    pub house: FreeText,
    pub building: Option<FreeText>,
    pub flat: Option<FreeText>,
}

impl Address {
    /// The address as the portal shows it to someone it is not sure of: the
    /// region and the locality in clear; of the street only its
    /// abbreviations (`ул.`, `пер.`…) and the first letter of its name; the
    /// house, building and flat as `***`; no postal code. The owner
    /// recognises their address (and sees when the ministry has an old one),
    /// a stranger who knows their passport learns too little to find the door.
    pub fn masked(&self) -> String {
        let mut street = Vec::new();
        for word in self.street.as_str().split(' ') {
            if word.ends_with('.') {
                street.push(word.to_owned());
            } else if let Some(first) = word.chars().next() {
                street.push(format!("{first}***"));
                break;
            }
        }
        let mut out = format!(
            "{}, {}, {}, д. ***",
            self.region.as_str(),
            self.locality.as_str(),
            street.join(" ")
        );
        if self.building.is_some() {
            out.push_str(", корп. ***");
        }
        if self.flat.is_some() {
            out.push_str(", кв. ***");
        }
        out
    }
}

/// The entries of the personal data form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersonalDataForm {
    pub surname: String,
    pub given_name: String,
    pub patronymic: String,
    pub sex: String,
    pub birth_date: String,
    pub birth_place: String,
    pub snils: String,
    pub citizenship: String,
    pub document: DocumentForm,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentForm {
    #[serde(rename = "type")]
    pub kind: String,
    pub series_number: String,
    pub issue_date: String,
    pub issued_by: String,
    pub department_code: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddressForm {
    pub postal_code: String,
    pub region: String,
    pub locality: String,
    pub street: String,
    pub house: String,
    pub building: String,
    pub flat: String,
}

/// Collects the problems of a form, field by field.
struct Problems(Vec<FieldProblem>);

impl Problems {
    fn take<T>(&mut self, field: &'static str, r: Result<T, Problem>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(problem) => {
                self.0.push(FieldProblem { field, problem });
                None
            }
        }
    }
}

fn name(input: &str) -> Result<PersonName, Problem> {
    PersonName::parse(input).map_err(|e| match e {
        NameError::Empty => Problem::Missing,
        other => Problem::Name(other),
    })
}

fn optional_name(input: &str) -> Result<Option<PersonName>, Problem> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        name(input).map(Some)
    }
}

fn text(input: &str, max: usize) -> Result<FreeText, Problem> {
    FreeText::parse(input, max).map_err(Problem::from)
}

fn optional_text(input: &str, max: usize) -> Result<Option<FreeText>, Problem> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        text(input, max).map(Some)
    }
}

fn required<T>(input: &str, parse: impl FnOnce(&str) -> Result<T, Problem>) -> Result<T, Problem> {
    if input.trim().is_empty() {
        Err(Problem::Missing)
    } else {
        parse(input)
    }
}

impl PersonalDataForm {
    /// Every problem at once, one per field at most, in the form's order.
    pub fn parse(&self, today: Date) -> Result<PersonalData, Vec<FieldProblem>> {
        let mut p = Problems(Vec::new());
        let surname = p.take("surname", name(&self.surname));
        let given_name = p.take("given_name", name(&self.given_name));
        let patronymic = p.take("patronymic", optional_name(&self.patronymic));
        let sex = p.take(
            "sex",
            required(&self.sex, |s| Sex::parse(s).ok_or(Problem::UnknownSex)),
        );
        let birth_date = p.take(
            "birth_date",
            parse_date(&self.birth_date).and_then(|d| {
                if d >= today {
                    Err(Problem::BirthDateInFuture)
                } else if birthday(d, MIN_AGE).is_none_or(|b| b > today) {
                    Err(Problem::TooYoung)
                } else {
                    Ok(d)
                }
            }),
        );
        let birth_place = p.take("birth_place", text(&self.birth_place, MAX_PLACE));
        let snils = p.take(
            "snils",
            Snils::parse(&self.snils).map_err(|e| match e {
                SnilsError::Empty => Problem::Missing,
                other => Problem::Snils(other),
            }),
        );
        let citizenship = p.take("citizenship", Citizenship::parse(&self.citizenship));
        let d = &self.document;
        let kind = p.take("document.type", DocumentType::parse(&d.kind));
        let series_number = p.take(
            "document.series_number",
            required(&d.series_number, PassportNumber::parse),
        );
        let issue_date = p.take(
            "document.issue_date",
            parse_date(&d.issue_date).and_then(|issued| {
                if issued > today {
                    return Err(Problem::IssueDateInFuture);
                }
                match birth_date.and_then(|b| birthday(b, MIN_AGE)) {
                    Some(fourteen) if issued < fourteen => Err(Problem::IssuedBeforeFourteen),
                    _ => Ok(issued),
                }
            }),
        );
        let issued_by = p.take("document.issued_by", text(&d.issued_by, MAX_AUTHORITY));
        let department_code = p.take(
            "document.department_code",
            required(&d.department_code, DepartmentCode::parse),
        );
        match (
            surname,
            given_name,
            patronymic,
            sex,
            birth_date,
            birth_place,
            snils,
            citizenship,
            kind,
            series_number,
            issue_date,
            issued_by,
            department_code,
        ) {
            (
                Some(surname),
                Some(given_name),
                Some(patronymic),
                Some(sex),
                Some(birth_date),
                Some(birth_place),
                Some(snils),
                Some(citizenship),
                Some(kind),
                Some(series_number),
                Some(issue_date),
                Some(issued_by),
                Some(department_code),
            ) if p.0.is_empty() => Ok(PersonalData {
                surname,
                given_name,
                patronymic,
                sex,
                birth_date,
                birth_place,
                snils,
                citizenship,
                document: IdentityDocument {
                    kind,
                    series_number,
                    issue_date,
                    issued_by,
                    department_code,
                },
            }),
            _ => Err(p.0),
        }
    }

    pub fn from_data(d: &PersonalData) -> Self {
        Self {
            surname: d.surname.as_str().to_owned(),
            given_name: d.given_name.as_str().to_owned(),
            patronymic: d
                .patronymic
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            sex: d.sex.as_str().to_owned(),
            birth_date: format_iso(d.birth_date),
            birth_place: d.birth_place.as_str().to_owned(),
            snils: d.snils.to_string(),
            citizenship: d.citizenship.as_str().to_owned(),
            document: DocumentForm {
                kind: d.document.kind.as_str().to_owned(),
                series_number: d.document.series_number.as_str().to_owned(),
                issue_date: format_iso(d.document.issue_date),
                issued_by: d.document.issued_by.as_str().to_owned(),
                department_code: d.document.department_code.as_str().to_owned(),
            },
        }
    }
}

impl AddressForm {
    pub fn parse(&self) -> Result<Address, Vec<FieldProblem>> {
        let mut p = Problems(Vec::new());
        let postal_code = p.take(
            "postal_code",
            required(&self.postal_code, PostalCode::parse),
        );
        let region = p.take("region", text(&self.region, MAX_ADDRESS_PART));
        let locality = p.take("locality", text(&self.locality, MAX_ADDRESS_PART));
        let street = p.take("street", text(&self.street, MAX_ADDRESS_PART));
        let house = p.take("house", text(&self.house, MAX_HOUSE));
        let building = p.take("building", optional_text(&self.building, MAX_HOUSE));
        let flat = p.take("flat", optional_text(&self.flat, MAX_HOUSE));
        match (postal_code, region, locality, street, house, building, flat) {
            (
                Some(postal_code),
                Some(region),
                Some(locality),
                Some(street),
                Some(house),
                Some(building),
                Some(flat),
            ) if p.0.is_empty() => Ok(Address {
                postal_code,
                region,
                locality,
                street,
                house,
                building,
                flat,
            }),
            _ => Err(p.0),
        }
    }

    pub fn from_address(a: &Address) -> Self {
        let opt = |t: &Option<FreeText>| {
            t.as_ref()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default()
        };
        Self {
            postal_code: a.postal_code.as_str().to_owned(),
            region: a.region.as_str().to_owned(),
            locality: a.locality.as_str().to_owned(),
            street: a.street.as_str().to_owned(),
            house: a.house.as_str().to_owned(),
            building: opt(&a.building),
            flat: opt(&a.flat),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 03 - 02);

    fn valid() -> PersonalDataForm {
        PersonalDataForm {
            surname: "Иванов".into(),
            given_name: "Иван".into(),
            patronymic: "Иванович".into(),
            sex: "male".into(),
            birth_date: "17.05.1980".into(),
            birth_place: "  гор.   Калуга ".into(),
            snils: "112-233-445 95".into(),
            citizenship: "RUS".into(),
            document: DocumentForm {
                kind: "rf_passport".into(),
                series_number: "45 10 123456".into(),
                issue_date: "2000-06-01".into(),
                issued_by: "ОВД района Арбат г. Москвы".into(),
                department_code: "770001".into(),
            },
        }
    }

    fn problems(form: &PersonalDataForm) -> Vec<(&'static str, Problem)> {
        form.parse(TODAY)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.problem))
            .collect()
    }

    #[test]
    fn a_valid_form_parses_into_canonical_values() {
        let d = valid().parse(TODAY).unwrap();
        assert_eq!(d.surname.as_str(), "Иванов");
        assert_eq!(
            d.patronymic.as_ref().map(PersonName::as_str),
            Some("Иванович")
        );
        assert_eq!(d.sex, Sex::Male);
        assert_eq!(d.birth_date, date!(1980 - 05 - 17));
        assert_eq!(d.birth_place.as_str(), "гор. Калуга");
        assert_eq!(d.snils.digits(), "11223344595");
        assert_eq!(d.document.series_number.as_str(), "4510 123456");
        assert_eq!(d.document.series_number.series(), "4510");
        assert_eq!(d.document.series_number.number(), "123456");
        assert_eq!(d.document.issue_date, date!(2000 - 06 - 01));
        assert_eq!(d.document.department_code.as_str(), "770-001");
    }

    #[test]
    fn passports_and_codes_accept_the_usual_spellings() {
        for s in [
            "4510 123456",
            "4510123456",
            "45 10 123456",
            "45 10 123 456",
            " 4510-123456 ",
        ] {
            assert_eq!(
                PassportNumber::parse(s).unwrap().as_str(),
                "4510 123456",
                "{s}"
            );
        }
        for s in [
            "4510 12345",
            "4510 1234567",
            "45I0 123456",
            "",
            "4510_123456",
        ] {
            assert_eq!(
                PassportNumber::parse(s),
                Err(Problem::PassportFormat),
                "{s}"
            );
        }
        for s in ["770-001", "770001", "770 001"] {
            assert_eq!(DepartmentCode::parse(s).unwrap().as_str(), "770-001");
        }
        for s in ["77-0001x", "7700011", "77-001"] {
            assert_eq!(DepartmentCode::parse(s), Err(Problem::DepartmentCodeFormat));
        }
        assert_eq!(PostalCode::parse(" 248000 ").unwrap().as_str(), "248000");
        for s in ["24800", "2480000", "248 000", "24800a"] {
            assert_eq!(PostalCode::parse(s), Err(Problem::PostalCodeFormat));
        }
    }

    #[test]
    fn sex_citizenship_and_document_are_closed_sets() {
        assert_eq!(Sex::parse(" Female "), Some(Sex::Female));
        assert_eq!(Sex::parse("м"), None);
        assert_eq!(Citizenship::parse("rus"), Ok(Citizenship::Rus));
        assert_eq!(
            Citizenship::parse("BLR"),
            Err(Problem::UnsupportedCitizenship)
        );
        assert_eq!(
            DocumentType::parse("rf_passport"),
            Ok(DocumentType::RfPassport)
        );
        assert_eq!(
            DocumentType::parse("foreign_passport"),
            Err(Problem::UnsupportedDocument)
        );
    }

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

    #[test]
    fn the_person_is_at_least_fourteen_and_born_in_the_past() {
        let mut f = valid();
        f.document.issue_date = "02.03.2026".into();
        f.birth_date = "02.03.2012".into();
        assert!(f.parse(TODAY).is_ok(), "fourteen today");
        f.birth_date = "03.03.2012".into();
        assert_eq!(problems(&f), vec![("birth_date", Problem::TooYoung)]);
        f.birth_date = "02.03.2026".into();
        assert_eq!(
            problems(&f),
            vec![("birth_date", Problem::BirthDateInFuture)]
        );
        f.birth_date = "01.01.2030".into();
        assert_eq!(
            problems(&f),
            vec![("birth_date", Problem::BirthDateInFuture)]
        );
    }

    #[test]
    fn a_leap_day_birthday_falls_on_the_first_of_march() {
        assert_eq!(
            birthday(date!(2008 - 02 - 29), 14),
            Some(date!(2022 - 03 - 01))
        );
        assert_eq!(
            birthday(date!(2008 - 02 - 29), 16),
            Some(date!(2024 - 02 - 29))
        );
        let mut f = valid();
        f.birth_date = "29.02.2012".into();
        f.document.issue_date = "01.03.2026".into();
        let today = date!(2026 - 02 - 28);
        assert_eq!(
            f.parse(today).unwrap_err()[0].problem,
            Problem::TooYoung,
            "not fourteen until 1 March"
        );
        let d = f.parse(date!(2026 - 03 - 01));
        assert!(d.is_ok(), "{d:?}");
    }

    #[test]
    fn the_passport_is_issued_from_the_fourteenth_birthday_and_not_later_than_today() {
        let mut f = valid();
        f.birth_date = "15.06.2000".into();
        f.document.issue_date = "15.06.2014".into();
        assert!(f.parse(TODAY).is_ok(), "on the 14th birthday");
        f.document.issue_date = "14.06.2014".into();
        assert_eq!(
            problems(&f),
            vec![("document.issue_date", Problem::IssuedBeforeFourteen)]
        );
        f.document.issue_date = "03.03.2026".into();
        assert_eq!(
            problems(&f),
            vec![("document.issue_date", Problem::IssueDateInFuture)]
        );
        f.document.issue_date = "02.03.2026".into();
        assert!(f.parse(TODAY).is_ok(), "issued today");
        // With a wrong birth date only the birth date is reported.
        f.birth_date = "ерунда".into();
        f.document.issue_date = "01.01.1990".into();
        assert_eq!(problems(&f), vec![("birth_date", Problem::DateFormat)]);
    }

    #[test]
    fn every_problem_is_named_at_once_in_form_order() {
        let f = PersonalDataForm {
            given_name: "Ivan2".into(),
            sex: "x".into(),
            snils: "112-233-445 96".into(),
            document: DocumentForm {
                kind: "rf_passport".into(),
                department_code: "77".into(),
                ..DocumentForm::default()
            },
            ..PersonalDataForm::default()
        };
        assert_eq!(
            problems(&f),
            vec![
                ("surname", Problem::Missing),
                ("given_name", Problem::Name(NameError::InvalidCharacters)),
                ("sex", Problem::UnknownSex),
                ("birth_date", Problem::Missing),
                ("birth_place", Problem::Missing),
                ("snils", Problem::Snils(SnilsError::CheckNumberMismatch)),
                ("citizenship", Problem::Missing),
                ("document.series_number", Problem::Missing),
                ("document.issue_date", Problem::Missing),
                ("document.issued_by", Problem::Missing),
                ("document.department_code", Problem::DepartmentCodeFormat),
            ]
        );
    }

    #[test]
    fn the_patronymic_is_optional_and_checked_when_given() {
        let mut f = valid();
        f.patronymic = "   ".into();
        assert_eq!(f.parse(TODAY).unwrap().patronymic, None);
        f.patronymic = "Ivan0vich".into();
        assert_eq!(
            problems(&f),
            vec![("patronymic", Problem::Name(NameError::InvalidCharacters))]
        );
    }

    #[test]
    fn free_text_refuses_invisible_and_direction_characters() {
        for c in ['\u{200B}', '\u{200E}', '\u{202E}', '\u{2066}', '\u{FEFF}'] {
            let s = format!("ул. Ленина{c}, д. 5");
            assert_eq!(
                FreeText::parse(&s, 100),
                Err(TextProblem::ControlCharacters),
                "{c:?}"
            );
        }
    }

    #[test]
    fn free_text_is_tidied_and_bounded() {
        assert_eq!(
            FreeText::parse(" a \t b\n c ", 10).unwrap().as_str(),
            "a b c"
        );
        assert_eq!(FreeText::parse("   ", 10), Err(TextProblem::Empty));
        assert_eq!(
            FreeText::parse("abc\u{0}", 10),
            Err(TextProblem::ControlCharacters)
        );
        assert_eq!(
            FreeText::parse("ёжик", 3),
            Err(TextProblem::TooLong { max: 3 })
        );
        let mut f = valid();
        f.birth_place = "x".repeat(201);
        assert_eq!(
            problems(&f),
            vec![("birth_place", Problem::TooLong { max: 200 })]
        );
    }

    #[test]
    fn data_round_trip_through_the_form_and_json() {
        let d = valid().parse(TODAY).unwrap();
        assert_eq!(PersonalDataForm::from_data(&d).parse(TODAY), Ok(d.clone()));
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("\"birth_date\":\"1980-05-17\""), "{json}");
        assert!(json.contains("\"series_number\":\"4510 123456\""), "{json}");
        assert!(json.contains("\"type\":\"rf_passport\""), "{json}");
        assert_eq!(serde_json::from_str::<PersonalData>(&json).unwrap(), d);
        let form_json = serde_json::to_value(PersonalDataForm::from_data(&d)).unwrap();
        assert_eq!(form_json["document"]["type"], "rf_passport");
    }

    #[test]
    fn a_masked_address_shows_region_locality_and_the_streets_first_letter() {
        let mut a = an_address().parse().unwrap();
        a.flat = Some(FreeText::parse("12", 20).unwrap());
        a.building = None;
        a.street = FreeText::parse("ул. Ленина", 200).unwrap();
        let masked = a.masked();
        assert_eq!(
            masked,
            format!(
                "{}, {}, ул. Л***, д. ***, кв. ***",
                a.region.as_str(),
                a.locality.as_str()
            )
        );
        for hidden in [a.postal_code.as_str(), "Ленина", "12"] {
            assert!(!masked.contains(hidden), "{hidden} in {masked}");
        }
        a.street = FreeText::parse("Ленинский проспект", 200).unwrap();
        a.building = Some(FreeText::parse("2", 20).unwrap());
        a.flat = None;
        assert!(
            a.masked().ends_with(", Л***, д. ***, корп. ***"),
            "{}",
            a.masked()
        );
    }

    #[test]
    fn addresses_need_all_but_building_and_flat() {
        let a = AddressForm {
            postal_code: "248000".into(),
            region: "Калужская обл.".into(),
            locality: "г. Калуга".into(),
            street: "ул. Достоевского".into(),
            house: "39".into(),
            ..AddressForm::default()
        };
        let parsed = a.parse().unwrap();
        assert_eq!((parsed.building.clone(), parsed.flat.clone()), (None, None));
        assert_eq!(
            AddressForm::from_address(&parsed).parse(),
            Ok(parsed.clone())
        );
        let json = serde_json::to_string(&parsed).unwrap();
        assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), parsed);
        let bad = AddressForm {
            postal_code: "2480".into(),
            flat: "x".repeat(21),
            ..AddressForm::default()
        };
        let fields: Vec<_> = bad
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.problem))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("postal_code", Problem::PostalCodeFormat),
                ("region", Problem::Missing),
                ("locality", Problem::Missing),
                ("street", Problem::Missing),
                ("house", Problem::Missing),
                ("flat", Problem::TooLong { max: 20 }),
            ]
        );
    }

    #[test]
    fn separators_stand_only_between_digits() {
        assert_eq!(
            PassportNumber::parse("4510--123456").unwrap().to_string(),
            "4510 123456"
        );
        for s in [
            "-4510123456",
            "4510123456-",
            "4510 123456 -",
            "- 4510 123456",
        ] {
            assert_eq!(
                PassportNumber::parse(s),
                Err(Problem::PassportFormat),
                "{s}"
            );
        }
        assert_eq!(
            DepartmentCode::parse(" 770 001 ").unwrap().to_string(),
            "770-001"
        );
        for s in ["-770001", "770001-", "770-00-"] {
            assert_eq!(
                DepartmentCode::parse(s),
                Err(Problem::DepartmentCodeFormat),
                "{s}"
            );
        }
    }

    #[test]
    fn closed_sets_read_their_codes_and_serialize_as_them() {
        for (s, sex) in [
            ("male", Sex::Male),
            ("MALE", Sex::Male),
            (" male\t", Sex::Male),
            ("Female", Sex::Female),
        ] {
            assert_eq!(Sex::parse(s), Some(sex), "{s}");
        }
        assert_eq!(Sex::parse(""), None);
        assert_eq!(Sex::parse("m"), None);
        assert_eq!(Sex::Male.as_str(), "male");
        assert_eq!(Sex::Female.as_str(), "female");
        assert_eq!(serde_json::to_string(&Sex::Female).unwrap(), "\"female\"");
        assert_eq!(serde_json::from_str::<Sex>("\"male\"").unwrap(), Sex::Male);

        assert_eq!(Citizenship::parse("RUS"), Ok(Citizenship::Rus));
        assert_eq!(Citizenship::parse(" rus "), Ok(Citizenship::Rus));
        assert_eq!(
            Citizenship::parse("RU"),
            Err(Problem::UnsupportedCitizenship)
        );
        assert_eq!(Citizenship::parse("  "), Err(Problem::Missing));
        assert_eq!(Citizenship::Rus.as_str(), "RUS");
        assert_eq!(serde_json::to_string(&Citizenship::Rus).unwrap(), "\"RUS\"");
        assert!(serde_json::from_str::<Citizenship>("\"BLR\"").is_err());

        assert_eq!(DocumentType::RfPassport.as_str(), "rf_passport");
        assert_eq!(DocumentType::parse(""), Err(Problem::Missing));
        assert_eq!(
            serde_json::to_string(&DocumentType::RfPassport).unwrap(),
            "\"rf_passport\""
        );
    }

    #[test]
    fn dates_are_trimmed_and_must_exist() {
        assert_eq!(parse_date(" 17.05.1980\n"), Ok(date!(1980 - 05 - 17)));
        assert_eq!(parse_date("\t1980-05-17 "), Ok(date!(1980 - 05 - 17)));
        assert_eq!(parse_date("29.02.2000"), Ok(date!(2000 - 02 - 29)));
        for s in [
            "2000-02-30",
            "29.02.2001",
            "00.01.2000",
            "01.13.2000",
            "1980-05-17T00:00",
            "17.05.1980.",
            "17.05.1980 г.",
            "17 05 1980",
        ] {
            assert_eq!(parse_date(s), Err(Problem::DateFormat), "{s}");
        }
        let mut f = valid();
        f.birth_date = "31.02.2000".into();
        f.document.issue_date = "2020-13-01".into();
        assert_eq!(
            problems(&f),
            vec![
                ("birth_date", Problem::DateFormat),
                ("document.issue_date", Problem::DateFormat),
            ]
        );
    }

    #[test]
    fn every_required_field_left_blank_is_missing() {
        let blank = PersonalDataForm {
            surname: " ".into(),
            given_name: "\t".into(),
            patronymic: " ".into(),
            sex: " ".into(),
            birth_date: " ".into(),
            birth_place: " ".into(),
            snils: " ".into(),
            citizenship: " ".into(),
            document: DocumentForm {
                kind: " ".into(),
                series_number: " ".into(),
                issue_date: " ".into(),
                issued_by: " ".into(),
                department_code: " ".into(),
            },
        };
        let expected: Vec<_> = [
            "surname",
            "given_name",
            "sex",
            "birth_date",
            "birth_place",
            "snils",
            "citizenship",
            "document.type",
            "document.series_number",
            "document.issue_date",
            "document.issued_by",
            "document.department_code",
        ]
        .into_iter()
        .map(|field| (field, Problem::Missing))
        .collect();
        assert_eq!(problems(&blank), expected);
        assert_eq!(problems(&PersonalDataForm::default()), expected);

        let fields: Vec<_> = AddressForm::default()
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.problem))
            .collect();
        assert_eq!(
            fields,
            ["postal_code", "region", "locality", "street", "house"]
                .into_iter()
                .map(|field| (field, Problem::Missing))
                .collect::<Vec<_>>()
        );
    }

    fn an_address() -> AddressForm {
        AddressForm {
            postal_code: "248000".into(),
            region: "Калужская обл.".into(),
            locality: "г. Калуга".into(),
            street: "ул. Достоевского".into(),
            house: "39".into(),
            building: "2".into(),
            flat: "14".into(),
        }
    }

    #[test]
    fn each_text_field_has_its_limit_in_characters() {
        type Set = fn(&mut PersonalDataForm, String);
        let personal: [(&str, usize, Set); 2] = [
            ("birth_place", 200, |f, s| f.birth_place = s),
            ("document.issued_by", 250, |f, s| f.document.issued_by = s),
        ];
        for (field, max, set) in personal {
            let mut f = valid();
            set(&mut f, "ж".repeat(max));
            assert!(f.parse(TODAY).is_ok(), "{field} at {max}");
            set(&mut f, "ж".repeat(max + 1));
            assert_eq!(problems(&f), vec![(field, Problem::TooLong { max })]);
        }

        type SetAddress = fn(&mut AddressForm, String);
        let address: [(&str, usize, SetAddress); 6] = [
            ("region", 200, |a, s| a.region = s),
            ("locality", 200, |a, s| a.locality = s),
            ("street", 200, |a, s| a.street = s),
            ("house", 20, |a, s| a.house = s),
            ("building", 20, |a, s| a.building = s),
            ("flat", 20, |a, s| a.flat = s),
        ];
        for (field, max, set) in address {
            let mut a = an_address();
            set(&mut a, "ж".repeat(max));
            assert!(a.parse().is_ok(), "{field} at {max}");
            set(&mut a, "ж".repeat(max + 1));
            let got: Vec<_> = a
                .parse()
                .unwrap_err()
                .into_iter()
                .map(|p| (p.field, p.problem))
                .collect();
            assert_eq!(got, vec![(field, Problem::TooLong { max })]);
        }
        assert_eq!(FreeText::parse("ёжик", 4).unwrap().as_str(), "ёжик");
    }

    #[test]
    fn control_characters_are_refused_in_form_fields() {
        let mut f = valid();
        f.birth_place = "гор. Калуга\u{7}".into();
        f.document.issued_by = "ОВД\u{1b}[31m".into();
        assert_eq!(
            problems(&f),
            vec![
                ("birth_place", Problem::Text(TextProblem::ControlCharacters)),
                (
                    "document.issued_by",
                    Problem::Text(TextProblem::ControlCharacters)
                ),
            ]
        );
        let mut a = an_address();
        a.flat = "1\u{7f}".into();
        assert_eq!(
            a.parse().unwrap_err(),
            vec![FieldProblem {
                field: "flat",
                problem: Problem::Text(TextProblem::ControlCharacters)
            }]
        );
        // Line breaks and tabs are whitespace: they collapse, not refuse.
        a.flat = "1\r\n\t2".into();
        assert_eq!(a.parse().unwrap().flat.unwrap().as_str(), "1 2");
    }

    #[test]
    fn drafts_read_missing_entries_as_empty() {
        assert_eq!(
            serde_json::from_str::<PersonalDataForm>("{}").unwrap(),
            PersonalDataForm::default()
        );
        let draft: PersonalDataForm =
            serde_json::from_str(r#"{"surname":"Иванов","document":{"type":"rf_passport"}}"#)
                .unwrap();
        assert_eq!(draft.surname, "Иванов");
        assert_eq!(draft.given_name, "");
        assert_eq!(draft.document.kind, "rf_passport");
        assert_eq!(draft.document.series_number, "");
        assert_eq!(
            serde_json::from_str::<AddressForm>(r#"{"house":"1"}"#).unwrap(),
            AddressForm {
                house: "1".into(),
                ..AddressForm::default()
            }
        );
    }

    #[test]
    fn stored_json_holds_canonical_strings_and_only_valid_values() {
        let mut f = valid();
        f.patronymic = String::new();
        let d = f.parse(TODAY).unwrap();
        assert_eq!(PersonalDataForm::from_data(&d).parse(TODAY), Ok(d.clone()));
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["sex"], "male");
        assert_eq!(json["citizenship"], "RUS");
        assert_eq!(json["snils"], "112-233-445 95");
        assert_eq!(json["patronymic"], serde_json::Value::Null);
        assert_eq!(json["document"]["issue_date"], "2000-06-01");
        assert_eq!(json["document"]["department_code"], "770-001");
        assert_eq!(
            serde_json::from_value::<PersonalData>(json.clone()).unwrap(),
            d
        );
        for (pointer, bad) in [
            ("/snils", "112-233-445 96"),
            ("/surname", "Ivan0v"),
            ("/birth_date", "1980-02-30"),
            ("/document/series_number", "4510 12345"),
            ("/birth_place", "  "),
        ] {
            let mut broken = json.clone();
            *broken.pointer_mut(pointer).unwrap() = bad.into();
            assert!(
                serde_json::from_value::<PersonalData>(broken).is_err(),
                "{pointer}"
            );
        }

        let a = an_address().parse().unwrap();
        assert_eq!(a.building.as_ref().map(FreeText::as_str), Some("2"));
        assert_eq!(AddressForm::from_address(&a), an_address());
        assert_eq!(AddressForm::from_address(&a).parse(), Ok(a.clone()));
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("\"postal_code\":\"248000\""), "{json}");
        assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), a);
    }

    /// A valid form for `TODAY`: a birth date at least 14 years back, a
    /// passport issued between the 14th birthday and today.
    fn valid_form() -> impl Strategy<Value = PersonalDataForm> {
        let earliest = date!(1920 - 01 - 01).to_julian_day();
        let latest = date!(2012 - 03 - 02).to_julian_day();
        (
            earliest..=latest,
            any::<u32>(),
            "[0-9]{10}",
            "[0-9]{6}",
            proptest::option::of(proptest::sample::select(vec!["Петрович", "Kızı"])),
            proptest::sample::select(vec!["male", "female"]),
            any::<bool>(),
        )
            .prop_map(|(birth, pick, passport, code, patronymic, sex, dotted)| {
                let birth = Date::from_julian_day(birth).unwrap();
                let fourteen = birthday(birth, MIN_AGE).unwrap();
                let span = u32::try_from(TODAY.to_julian_day() - fourteen.to_julian_day()).unwrap();
                let issued = Date::from_julian_day(
                    fourteen.to_julian_day() + i32::try_from(pick % (span + 1)).unwrap(),
                )
                .unwrap();
                let spell = |d: Date| {
                    if dotted {
                        format!("{:02}.{:02}.{:04}", d.day(), u8::from(d.month()), d.year())
                    } else {
                        format_iso(d)
                    }
                };
                let mut f = valid();
                f.birth_date = spell(birth);
                f.document.issue_date = spell(issued);
                f.document.series_number = passport;
                f.document.department_code = code;
                f.patronymic = patronymic.unwrap_or_default().to_owned();
                f.sex = sex.to_owned();
                f
            })
    }

    proptest! {
        #[test]
        fn any_ten_digits_make_a_passport_that_reparses(digits in "[0-9]{10}") {
            let p = PassportNumber::parse(&digits).unwrap();
            prop_assert_eq!(PassportNumber::parse(p.as_str()).unwrap(), p.clone());
            prop_assert_eq!(format!("{}{}", p.series(), p.number()), digits);
        }

        #[test]
        fn passports_read_any_separators_between_digits(
            digits in "[0-9]{10}",
            gaps in proptest::collection::vec("[ -]{0,2}", 9),
            before in "[ \t]{0,2}",
            after in "[ \t\n]{0,2}",
        ) {
            let mut spelled = before;
            for (i, digit) in digits.chars().enumerate() {
                spelled.push(digit);
                if let Some(gap) = gaps.get(i) {
                    spelled.push_str(gap);
                }
            }
            spelled.push_str(&after);
            let p = PassportNumber::parse(&spelled).unwrap();
            prop_assert_eq!(p.as_str(), format!("{} {}", &digits[..4], &digits[4..]));
        }

        #[test]
        fn valid_data_round_trip_through_the_form_and_json(form in valid_form()) {
            let d = form.parse(TODAY).unwrap();
            prop_assert_eq!(PersonalDataForm::from_data(&d).parse(TODAY), Ok(d.clone()));
            let json = serde_json::to_string(&d).unwrap();
            prop_assert_eq!(serde_json::from_str::<PersonalData>(&json).unwrap(), d);
        }

        #[test]
        fn parsing_never_panics(
            birth_date in "\\PC{0,12}",
            issue_date in "\\PC{0,12}",
            series_number in "[0-9 -]{0,14}",
        ) {
            let mut f = valid();
            f.birth_date = birth_date;
            f.document.issue_date = issue_date;
            f.document.series_number = series_number;
            if let Err(problems) = f.parse(TODAY) {
                let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
                let mut unique = fields.clone();
                unique.dedup();
                prop_assert_eq!(fields, unique);
            }
        }

        #[test]
        fn free_text_never_keeps_runs_of_spaces(s in "\\PC{0,40}") {
            if let Ok(t) = FreeText::parse(&s, 100) {
                prop_assert!(!t.as_str().contains("  "));
                prop_assert_eq!(t.as_str().trim(), t.as_str());
            }
        }
    }
}
