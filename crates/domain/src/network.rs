//! An IP network written as `address/prefix` (`10.0.0.0/8`, `2a02:6b8::/32`),
//! or a single address: the networks of the places file and the reverse
//! proxies whose `X-Forwarded-For` is believed.
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNetwork {
    /// The first address of the network (host bits cleared).
    first: IpAddr,
    len: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("«{0}» is not an IP address")]
    Address(String),
    #[error("«{0}» is not a prefix length")]
    Prefix(String),
    #[error("/{len} is longer than an address ({max} bits)")]
    TooLong { len: u8, max: u8 },
}

/// The address's bits and whether it is IPv6.
pub(crate) fn bits(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

/// `bits` with all but the first `len` cleared.
pub fn mask(bits: u128, len: u8, v6: bool) -> u128 {
    let width = if v6 { 128 } else { 32 };
    if len == 0 {
        return 0;
    }
    let shift = width - u32::from(len);
    (bits >> shift) << shift
}

impl IpNetwork {
    /// `a.b.c.d/n` or `x::y/n`; a bare address is the network of it alone.
    pub fn parse(s: &str) -> Result<Self, NetworkError> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((addr, len)) => (addr.trim(), Some(len.trim())),
            None => (s, None),
        };
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| NetworkError::Address(addr.to_owned()))?;
        let max: u8 = if ip.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(len) => len
                .parse()
                .map_err(|_| NetworkError::Prefix(len.to_owned()))?,
            None => max,
        };
        if len > max {
            return Err(NetworkError::TooLong { len, max });
        }
        let (v6, b) = bits(ip);
        let first = if v6 {
            IpAddr::from(mask(b, len, true).to_be_bytes())
        } else {
            let v4 = u32::try_from(mask(b, len, false)).expect("an IPv4 address's bits");
            IpAddr::from(v4.to_be_bytes())
        };
        Ok(Self { first, len })
    }

    pub fn first(&self) -> IpAddr {
        self.first
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether `ip` is in this network. An IPv4 address written as IPv6
    /// (`::ffff:10.0.0.1`) is taken as the IPv4 address it is.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let (v6, b) = bits(ip);
        let (net_v6, net) = bits(self.first);
        v6 == net_v6 && mask(b, self.len, v6) == net
    }
}

impl FromStr for IpNetwork {
    type Err = NetworkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.first, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_hold_their_addresses_and_no_others() {
        let n = IpNetwork::parse("10.1.2.3/8").unwrap();
        assert_eq!(n.to_string(), "10.0.0.0/8");
        assert!(n.contains(ip("10.255.0.1")));
        assert!(n.contains(ip("::ffff:10.0.0.1")));
        assert!(!n.contains(ip("11.0.0.1")));
        assert!(!n.contains(ip("::a00:1")), "IPv6 is not IPv4");
        let one = IpNetwork::parse("192.168.1.7").unwrap();
        assert_eq!(one.prefix_len(), 32);
        assert!(one.contains(ip("192.168.1.7")) && !one.contains(ip("192.168.1.8")));
        let v6 = IpNetwork::parse(" 2a02:6b8::/32 ").unwrap();
        assert!(v6.contains(ip("2a02:6b8:1::5")));
        assert!(!v6.contains(ip("2a02:6b9::1")));
        let all = IpNetwork::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("8.8.8.8")));
    }

    #[test]
    fn what_is_not_a_network_is_named() {
        assert_eq!(
            IpNetwork::parse("10.0.0/8"),
            Err(NetworkError::Address("10.0.0".into()))
        );
        assert_eq!(
            IpNetwork::parse("10.0.0.0/x"),
            Err(NetworkError::Prefix("x".into()))
        );
        assert_eq!(
            IpNetwork::parse("10.0.0.0/33"),
            Err(NetworkError::TooLong { len: 33, max: 32 })
        );
        assert!(IpNetwork::parse("::/129").is_err());
    }
}
