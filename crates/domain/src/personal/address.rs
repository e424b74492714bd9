//! A postal address: its values and the form it is typed into.
use serde::{Deserialize, Serialize};

use super::problem::{FieldProblem, Problem, Problems, optional_text, required, text};
use super::text::{FreeText, MAX_ADDRESS_PART, MAX_HOUSE};

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
    use super::*;

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
        assert_eq!(
            crate::personal::tests::address_problems(&bad),
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
}
