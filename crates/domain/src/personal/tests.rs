//! The personal data and address forms as a whole: every field, its
//! problems, and the round trip through drafts and JSON.
use proptest::prelude::*;
use time::Date;
use time::macros::date;

use super::*;
use crate::name::{NameError, PersonName};
use crate::snils::SnilsError;

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
    fields(form.parse(TODAY).unwrap_err())
}

/// The problems of an address the form refuses, field by field.
pub(super) fn address_problems(form: &AddressForm) -> Vec<(&'static str, Problem)> {
    fields(form.parse().unwrap_err())
}

fn fields(problems: Vec<FieldProblem>) -> Vec<(&'static str, Problem)> {
    problems.into_iter().map(|p| (p.field, p.problem)).collect()
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

    assert_eq!(
        address_problems(&AddressForm::default()),
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
        assert_eq!(
            address_problems(&a),
            vec![(field, Problem::TooLong { max })]
        );
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
        serde_json::from_str(r#"{"surname":"Иванов","document":{"type":"rf_passport"}}"#).unwrap();
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
}
