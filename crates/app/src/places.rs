//! The approximate place of a network, for the sessions page and the notice
//! of a new device («Москва», «Калужская обл.»): only when the operator of
//! the portal gives a file of networks and places (`places_file`), as no
//! GeoIP database ships with uslugi. The file is CSV, one network per line:
//!
//! ```text
//! # network,place
//! 95.165.0.0/16,Москва
//! 2a02:6b8::/32,Москва
//! ```
//!
//! The most specific network wins. Only the network the session already
//! keeps (the address without its last part) is ever looked up, so the place
//! says no more than that network does.
use std::collections::HashMap;
use std::net::IpAddr;

use uslugi_domain::IpNetwork;
use uslugi_domain::network::mask;

/// Networks and their places, looked up by the longest matching prefix.
#[derive(Debug, Default, Clone)]
pub struct Places {
    /// Per prefix length (IPv4 lengths + 128 apart from IPv6's), the
    /// networks of that length.
    by_len: Vec<(u8, bool, HashMap<u128, String>)>,
    count: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {problem}")]
pub struct PlacesError {
    pub line: usize,
    pub problem: String,
}

fn key(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

impl Places {
    /// Reads the CSV text; a line that cannot be read is an error naming it,
    /// so a broken file stops the start instead of hiding places.
    pub fn parse(text: &str) -> Result<Self, PlacesError> {
        let mut places = Self::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |problem: String| PlacesError {
                line: i + 1,
                problem,
            };
            let (network, place) = line
                .split_once(',')
                .ok_or_else(|| err("expected «network,place»".into()))?;
            let place = place.trim().trim_matches('"').trim();
            if place.is_empty() {
                return Err(err("the place is empty".into()));
            }
            // A place is of a network: a bare address is a mistake here.
            if !network.contains('/') {
                return Err(err(format!(
                    "«{}» is not a network like 95.165.0.0/16",
                    network.trim()
                )));
            }
            let network = IpNetwork::parse(network).map_err(|e| err(e.to_string()))?;
            let (v6, bits) = key(network.first());
            places.insert(v6, network.prefix_len(), bits, place.to_owned());
        }
        // Longest prefixes first: the first hit is the most specific.
        places.by_len.sort_by_key(|e| std::cmp::Reverse(e.0));
        Ok(places)
    }

    fn insert(&mut self, v6: bool, len: u8, network: u128, place: String) {
        let slot = match self
            .by_len
            .iter_mut()
            .find(|(l, six, _)| *l == len && *six == v6)
        {
            Some((_, _, map)) => map,
            None => {
                self.by_len.push((len, v6, HashMap::new()));
                &mut self.by_len.last_mut().expect("just pushed").2
            }
        };
        if slot.insert(network, place).is_none() {
            self.count += 1;
        }
    }

    /// How many networks the file gave.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The place of the most specific network holding `ip`.
    pub fn of_ip(&self, ip: IpAddr) -> Option<&str> {
        let (v6, bits) = key(ip);
        self.by_len
            .iter()
            .filter(|(_, six, _)| *six == v6)
            .find_map(|(len, _, map)| map.get(&mask(bits, *len, v6)))
            .map(String::as_str)
    }

    /// The place of a network as sessions keep it (`192.168.17.0/24`),
    /// looked up by its first address.
    pub fn of_network(&self, network: &str) -> Option<&str> {
        self.of_ip(IpNetwork::parse(network).ok()?.first())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# network,place\n\
        95.165.0.0/16,Москва\n\
        95.165.128.0/17, \"Зеленоград\"\n\
        \n\
        2a02:6b8::/32,Москва\n\
        0.0.0.0/0,Россия\n";

    #[test]
    fn the_most_specific_network_wins() {
        let p = Places::parse(FILE).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p.of_ip("95.165.12.7".parse().unwrap()), Some("Москва"));
        assert_eq!(p.of_ip("95.165.200.1".parse().unwrap()), Some("Зеленоград"));
        assert_eq!(p.of_ip("8.8.8.8".parse().unwrap()), Some("Россия"));
        assert_eq!(p.of_ip("2a02:6b8:0:1::5".parse().unwrap()), Some("Москва"));
        assert_eq!(
            p.of_ip("2001:db8::1".parse().unwrap()),
            None,
            "no IPv6 default"
        );
        assert_eq!(p.of_network("95.165.130.0/24"), Some("Зеленоград"));
        assert_eq!(p.of_network("2a02:6b8:0::/48"), Some("Москва"));
        assert_eq!(p.of_network("not a network"), None);
    }

    #[test]
    fn a_broken_line_is_named() {
        let e = Places::parse("95.165.0.0/16,Москва\n95.165.0.0,Москва\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Places::parse("10.0.0.0/33,Там\n").unwrap_err();
        assert!(e.problem.contains("/33"), "{e}");
        let e = Places::parse("10.0.0.0/8,\n").unwrap_err();
        assert_eq!(e.problem, "the place is empty");
        assert!(Places::parse("# nothing\n").unwrap().is_empty());
    }
}
