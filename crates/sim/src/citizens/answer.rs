//! How each registry compares a request with its records: the Social Fund
//! by SNILS, the Interior Ministry by passport, both by name and birth date.
use uslugi_app::registries::{PassportInvalidity, PersonFacts, RegistryAnswer, RegistryRequest};
use uslugi_domain::{PersonName, Snils};

use super::{Citizen, PassportStatus, SimRegistry};

impl SimRegistry {
    /// The registry's answer to `request`. Names are compared as
    /// [`PersonName::normalized_for_comparison`] folds them (letter case and
    /// ё/е do not matter); no patronymic and an empty one are the same.
    pub fn answer(&self, request: &RegistryRequest) -> RegistryAnswer {
        match request {
            RegistryRequest::Sfr { snils, person, sex } => {
                let found = Snils::parse(snils)
                    .ok()
                    .and_then(|snils| self.by_snils.get(snils.digits()))
                    .map(|&index| &self.citizens[index]);
                match found {
                    None => RegistryAnswer::SfrNotFound,
                    Some(citizen) if citizen.sex == *sex && same_person(citizen, person) => {
                        RegistryAnswer::SfrMatch
                    }
                    Some(_) => RegistryAnswer::SfrMismatch,
                }
            }
            RegistryRequest::Mvd {
                series_number,
                issue_date,
                department_code,
                person,
            } => {
                let found = self
                    .by_passport
                    .get(series_number.trim())
                    .map(|&index| &self.citizens[index])
                    .filter(|citizen| {
                        citizen.passport.issue_date == *issue_date
                            && citizen.passport.department_code == department_code.trim()
                            && same_person(citizen, person)
                    });
                match found.map(|citizen| (citizen.passport.status, citizen)) {
                    None => RegistryAnswer::MvdNotFound,
                    Some((PassportStatus::Valid, citizen)) => RegistryAnswer::MvdValid {
                        registration_address: citizen.registration_address.clone(),
                    },
                    Some((PassportStatus::Lost, _)) => RegistryAnswer::MvdInvalid {
                        reason: PassportInvalidity::Lost,
                    },
                    Some((PassportStatus::Expired, _)) => RegistryAnswer::MvdInvalid {
                        reason: PassportInvalidity::Expired,
                    },
                    Some((PassportStatus::Replaced, _)) => RegistryAnswer::MvdInvalid {
                        reason: PassportInvalidity::Replaced,
                    },
                }
            }
        }
    }
}

/// Surname, given name, patronymic and birth date: what both registries
/// compare.
fn same_person(citizen: &Citizen, person: &PersonFacts) -> bool {
    let typed_patronymic = person
        .patronymic
        .as_deref()
        .filter(|patronymic| !patronymic.trim().is_empty());
    let patronymic_equal = match (&citizen.patronymic, typed_patronymic) {
        (None, None) => true,
        (Some(recorded), Some(typed)) => same_name(recorded, typed),
        _ => false,
    };
    citizen.birth_date == person.birth_date
        && same_name(&citizen.surname, &person.surname)
        && same_name(&citizen.given_name, &person.given_name)
        && patronymic_equal
}

/// A typed name that is not a valid name cannot be the recorded one, which
/// always is.
fn same_name(recorded: &PersonName, typed: &str) -> bool {
    PersonName::parse(typed).is_ok_and(|typed| {
        typed.normalized_for_comparison() == recorded.normalized_for_comparison()
    })
}

#[cfg(test)]
mod tests {
    use time::Date;
    use time::macros::date;
    use uslugi_app::registries::Sex;

    use super::*;

    fn person(surname: &str, given: &str, patronymic: Option<&str>, born: Date) -> PersonFacts {
        PersonFacts {
            surname: surname.into(),
            given_name: given.into(),
            patronymic: patronymic.map(Into::into),
            birth_date: born,
        }
    }

    fn sfr(snils: &str, person: PersonFacts, sex: Sex) -> RegistryRequest {
        RegistryRequest::Sfr {
            snils: snils.into(),
            person,
            sex,
        }
    }

    fn mvd(
        series_number: &str,
        issued: Date,
        department: &str,
        person: PersonFacts,
    ) -> RegistryRequest {
        RegistryRequest::Mvd {
            series_number: series_number.into(),
            issue_date: issued,
            department_code: department.into(),
            person,
        }
    }

    fn ivanov() -> PersonFacts {
        person("Иванов", "Иван", Some("Иванович"), date!(1980 - 05 - 17))
    }

    #[test]
    fn the_demo_set_has_one_citizen_per_outcome() {
        let registry = SimRegistry::demo();
        assert_eq!(registry.citizens().len(), 6);
        let statuses: Vec<_> = registry
            .citizens()
            .iter()
            .map(|c| c.passport.status)
            .collect();
        assert_eq!(
            statuses,
            [
                PassportStatus::Valid,
                PassportStatus::Valid,
                PassportStatus::Lost,
                PassportStatus::Expired,
                PassportStatus::Replaced,
                PassportStatus::Valid
            ]
        );
        let with_address: Vec<bool> = registry
            .citizens()
            .iter()
            .map(|c| c.registration_address.is_some())
            .collect();
        assert_eq!(
            with_address,
            [true, true, true, true, true, false],
            "the last valid passport's holder has no registered address"
        );
        for citizen in registry.citizens() {
            let facts = PersonFacts {
                surname: citizen.surname.to_string(),
                given_name: citizen.given_name.to_string(),
                patronymic: citizen.patronymic.as_ref().map(ToString::to_string),
                birth_date: citizen.birth_date,
            };
            assert_eq!(
                registry.answer(&sfr(citizen.snils.digits(), facts.clone(), citizen.sex)),
                RegistryAnswer::SfrMatch
            );
            let passport = &citizen.passport;
            assert_ne!(
                registry.answer(&mvd(
                    &passport.series_number,
                    passport.issue_date,
                    &passport.department_code,
                    facts
                )),
                RegistryAnswer::MvdNotFound
            );
        }
    }

    #[test]
    fn social_fund_rules() {
        let registry = SimRegistry::demo();
        let male = Sex::Male;
        assert_eq!(
            registry.answer(&sfr("11223344595", ivanov(), male)),
            RegistryAnswer::SfrMatch
        );
        // Any spelling of the number is the same number.
        assert_eq!(
            registry.answer(&sfr("112-233-445 95", ivanov(), male)),
            RegistryAnswer::SfrMatch
        );
        let shouting = person("ИВАНОВ", "иВАН", Some("иванович"), date!(1980 - 05 - 17));
        assert_eq!(
            registry.answer(&sfr("11223344595", shouting, male)),
            RegistryAnswer::SfrMatch
        );
        let with_yo = person("Сидоров", "Пётр", Some("Алексеевич"), date!(1990 - 02 - 14));
        let with_ye = person("СИДОРОВ", "петр", Some("АЛЕКСЕЕВИЧ"), date!(1990 - 02 - 14));
        assert_eq!(
            registry.answer(&sfr("14567890105", with_yo, male)),
            RegistryAnswer::SfrMatch
        );
        assert_eq!(
            registry.answer(&sfr("14567890105", with_ye, male)),
            RegistryAnswer::SfrMatch
        );
        for no_patronymic in [None, Some(""), Some("  ")] {
            let kim = person("Ким", "Елена", no_patronymic, date!(1975 - 08 - 30));
            assert_eq!(
                registry.answer(&sfr("15678901211", kim, Sex::Female)),
                RegistryAnswer::SfrMatch,
                "{no_patronymic:?}"
            );
        }
        let kim_with_patronymic = person("Ким", "Елена", Some("Игоревна"), date!(1975 - 08 - 30));
        assert_eq!(
            registry.answer(&sfr("15678901211", kim_with_patronymic, Sex::Female)),
            RegistryAnswer::SfrMismatch
        );
        let differs = [
            person("Иванова", "Иван", Some("Иванович"), date!(1980 - 05 - 17)),
            person("Иванов", "Иоанн", Some("Иванович"), date!(1980 - 05 - 17)),
            person("Иванов", "Иван", Some("Петрович"), date!(1980 - 05 - 17)),
            person("Иванов", "Иван", None, date!(1980 - 05 - 17)),
            person("Иванов", "Иван", Some("Иванович"), date!(1980 - 05 - 18)),
            person("Иванов2", "Иван", Some("Иванович"), date!(1980 - 05 - 17)),
        ];
        for facts in differs {
            assert_eq!(
                registry.answer(&sfr("11223344595", facts.clone(), male)),
                RegistryAnswer::SfrMismatch,
                "{facts:?}"
            );
        }
        assert_eq!(
            registry.answer(&sfr("11223344595", ivanov(), Sex::Female)),
            RegistryAnswer::SfrMismatch
        );
        assert_eq!(
            registry.answer(&sfr("19876543247", ivanov(), male)),
            RegistryAnswer::SfrNotFound
        );
        assert_eq!(
            registry.answer(&sfr("11223344596", ivanov(), male)),
            RegistryAnswer::SfrNotFound
        );
        assert_eq!(
            registry.answer(&sfr("nonsense", ivanov(), male)),
            RegistryAnswer::SfrNotFound
        );
    }

    #[test]
    fn interior_ministry_rules() {
        let registry = SimRegistry::demo();
        let issued = date!(2000 - 06 - 01);
        let RegistryAnswer::MvdValid {
            registration_address: Some(address),
        } = registry.answer(&mvd("4510 123456", issued, "770-001", ivanov()))
        else {
            panic!("Иванов's passport is valid and he is registered");
        };
        assert_eq!(address.street.as_str(), "ул. Арбат");
        assert_eq!(address.building, None);
        let lower_case = person("иванов", "ИВАН", Some("ИвАнОвИч"), date!(1980 - 05 - 17));
        assert!(matches!(
            registry.answer(&mvd("4510 123456", issued, "770-001", lower_case)),
            RegistryAnswer::MvdValid { .. }
        ));
        let kuznetsova = person(
            "Кузнецова",
            "Мария",
            Some("Викторовна"),
            date!(1992 - 07 - 08),
        );
        assert_eq!(
            registry.answer(&mvd(
                "4512 678901",
                date!(2012 - 08 - 01),
                "770-006",
                kuznetsova
            )),
            RegistryAnswer::MvdValid {
                registration_address: None
            },
            "a valid passport without a registered address"
        );
        for (number, issued_on, department, facts) in [
            ("4510 654321", issued, "770-001", ivanov()),
            ("4510 123456", date!(2000 - 06 - 02), "770-001", ivanov()),
            ("4510 123456", issued, "770-002", ivanov()),
            (
                "4510 123456",
                issued,
                "770-001",
                person("Иванов", "Иван", None, date!(1980 - 05 - 17)),
            ),
            (
                "4510 123456",
                issued,
                "770-001",
                person("Петров", "Иван", Some("Иванович"), date!(1980 - 05 - 17)),
            ),
            (
                "4510 123456",
                issued,
                "770-001",
                person("Иванов", "Иван", Some("Иванович"), date!(1981 - 05 - 17)),
            ),
        ] {
            assert_eq!(
                registry.answer(&mvd(number, issued_on, department, facts.clone())),
                RegistryAnswer::MvdNotFound,
                "{number} {issued_on} {department} {facts:?}"
            );
        }
        let sidorov = person("Сидоров", "Петр", Some("Алексеевич"), date!(1990 - 02 - 14));
        assert_eq!(
            registry.answer(&mvd(
                "4011 345678",
                date!(2011 - 03 - 10),
                "780-003",
                sidorov
            )),
            RegistryAnswer::MvdInvalid {
                reason: PassportInvalidity::Lost
            }
        );
        let kim = person("Ким", "Елена", None, date!(1975 - 08 - 30));
        assert_eq!(
            registry.answer(&mvd("4600 456789", date!(2000 - 09 - 15), "500-004", kim)),
            RegistryAnswer::MvdInvalid {
                reason: PassportInvalidity::Expired
            }
        );
        let smirnov = person(
            "Смирнов",
            "Алексей",
            Some("Дмитриевич"),
            date!(1970 - 01 - 25),
        );
        assert_eq!(
            registry.answer(&mvd(
                "4503 567890",
                date!(2003 - 02 - 10),
                "770-005",
                smirnov.clone()
            )),
            RegistryAnswer::MvdInvalid {
                reason: PassportInvalidity::Replaced
            }
        );
        // An invalid passport is reported only to its holder.
        let other = PersonFacts {
            surname: "Смирнова".into(),
            ..smirnov
        };
        assert_eq!(
            registry.answer(&mvd("4503 567890", date!(2003 - 02 - 10), "770-005", other)),
            RegistryAnswer::MvdNotFound
        );
    }
}
