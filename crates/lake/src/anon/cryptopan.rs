//! Crypto-PAn (Xu, Fan, Ammar, Moon, 2002): prefix-preserving IP anonymization with
//! AES-128 as the pseudo-random function, for IPv4 and IPv6.
//!
//! Bit `i` of the output is bit `i` of the input flipped by the first bit of
//! `AES(first i input bits ‖ pad bits i..)`. So two addresses that share their first
//! `k` bits map to addresses that share exactly their first `k` bits, and without the
//! key the mapping can neither be inverted nor predicted. Output matches the reference
//! implementation bit for bit (see the reference vectors in the tests).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aes::Aes128;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};

/// Length of a Crypto-PAn key: 16 bytes of AES key and 16 bytes of pad.
pub const KEY_LEN: usize = 32;

/// A keyed Crypto-PAn instance.
#[derive(Clone)]
pub struct CryptoPan {
    aes: Aes128,
    /// The second half of the key, encrypted: the bits that fill each PRF input.
    pad: u128,
}

impl std::fmt::Debug for CryptoPan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("CryptoPan { .. }")
    }
}

impl CryptoPan {
    pub fn new(key: &[u8; KEY_LEN]) -> CryptoPan {
        let aes = Aes128::new(GenericArray::from_slice(&key[..16]));
        let mut pad = GenericArray::clone_from_slice(&key[16..]);
        aes.encrypt_block(&mut pad);
        CryptoPan {
            aes,
            pad: u128::from_be_bytes(pad.into()),
        }
    }

    /// The first bit of AES(block).
    fn prf_bit(&self, block: u128) -> u128 {
        let mut b = GenericArray::from(block.to_be_bytes());
        self.aes.encrypt_block(&mut b);
        u128::from(b[0] >> 7)
    }

    /// Anonymizes the top `bits` bits of `addr` (left-aligned in a u128). IPv4 uses the
    /// first 32 bits of the block, as the reference implementation does.
    fn anonymize_bits(&self, addr: u128, bits: u32) -> u128 {
        let mut flips: u128 = 0;
        for pos in 0..bits {
            // First `pos` bits from the address, the rest from the pad.
            let keep = if pos == 0 {
                0
            } else {
                u128::MAX << (128 - pos)
            };
            let block = (addr & keep) | (self.pad & !keep);
            flips |= self.prf_bit(block) << (127 - pos);
        }
        addr ^ flips
    }

    pub fn anonymize_v4(&self, ip: Ipv4Addr) -> Ipv4Addr {
        let addr = u128::from(u32::from(ip)) << 96;
        Ipv4Addr::from((self.anonymize_bits(addr, 32) >> 96) as u32)
    }

    pub fn anonymize_v6(&self, ip: Ipv6Addr) -> Ipv6Addr {
        Ipv6Addr::from(self.anonymize_bits(u128::from(ip), 128))
    }

    /// Anonymizes either family. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) maps
    /// its IPv4 part, so a host seen in both notations stays one host.
    pub fn anonymize(&self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(v4) => IpAddr::V4(self.anonymize_v4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V6(self.anonymize_v4(v4).to_ipv6_mapped()),
                None => IpAddr::V6(self.anonymize_v6(v6)),
            },
        }
    }

    /// A keyed, irreversible token for a value that is not an address (a name in an
    /// address column): 64 bits of AES over a SHA-256 of the value.
    pub fn token(&self, value: &str) -> String {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(value.as_bytes());
        let mut b = GenericArray::clone_from_slice(&h[..16]);
        self.aes.encrypt_block(&mut b);
        format!("anon-{}", hex::encode(&b[..8]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The key of the reference implementation's sample trace.
    const REFERENCE_KEY: [u8; 32] = [
        21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131,
        121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
    ];

    #[test]
    fn matches_the_reference_implementation_on_ipv4() {
        let pan = CryptoPan::new(&REFERENCE_KEY);
        for (raw, anon) in [
            ("128.11.68.132", "135.242.180.132"),
            ("129.118.74.4", "134.136.186.123"),
            ("130.132.252.244", "133.68.164.234"),
            ("141.223.7.43", "141.167.8.160"),
            ("141.233.145.108", "141.129.237.235"),
            ("152.163.225.39", "151.140.114.167"),
            ("156.29.3.236", "147.225.12.42"),
            ("165.247.96.84", "162.9.99.234"),
            ("166.107.77.190", "160.132.178.185"),
            ("192.102.249.13", "252.138.62.131"),
        ] {
            assert_eq!(
                pan.anonymize_v4(raw.parse().unwrap()).to_string(),
                anon,
                "{raw}"
            );
        }
    }

    #[test]
    fn matches_published_vectors_on_ipv6() {
        let pan = CryptoPan::new(&REFERENCE_KEY);
        for (raw, anon) in [
            ("::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"),
            ("::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"),
            ("::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"),
            ("2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"),
            ("2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"),
        ] {
            assert_eq!(
                pan.anonymize_v6(raw.parse().unwrap()).to_string(),
                anon,
                "{raw}"
            );
        }
    }

    #[test]
    fn mapped_ipv4_follows_ipv4_and_tokens_hide_values() {
        let pan = CryptoPan::new(&REFERENCE_KEY);
        let v4: Ipv4Addr = "128.11.68.132".parse().unwrap();
        assert_eq!(
            pan.anonymize(IpAddr::V6(v4.to_ipv6_mapped())),
            IpAddr::V6(pan.anonymize_v4(v4).to_ipv6_mapped())
        );
        let t = pan.token("gateway.example.org");
        assert!(t.starts_with("anon-") && !t.contains("gateway"));
        assert_eq!(t, pan.token("gateway.example.org"));
        assert_ne!(t, pan.token("gateway.example.com"));
        assert_ne!(t, CryptoPan::new(&[7; 32]).token("gateway.example.org"));
    }

    fn common_prefix(a: u128, b: u128, width: u32) -> u32 {
        ((a ^ b) << (128 - width) >> (128 - width))
            .leading_zeros()
            .saturating_sub(128 - width)
            .min(width)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The defining property: the common-prefix length of any two addresses is
        /// preserved exactly, IPv4 and IPv6, under any key.
        #[test]
        fn ipv4_common_prefix_length_is_preserved(key in any::<[u8; 32]>(), a in any::<u32>(), b in any::<u32>()) {
            let pan = CryptoPan::new(&key);
            let (x, y) = (pan.anonymize_v4(Ipv4Addr::from(a)), pan.anonymize_v4(Ipv4Addr::from(b)));
            let before = (a ^ b).leading_zeros();
            let after = (u32::from(x) ^ u32::from(y)).leading_zeros();
            prop_assert_eq!(before, after);
        }

        #[test]
        fn ipv6_common_prefix_length_is_preserved(key in any::<[u8; 32]>(), a in any::<u128>(), flip in 0u32..128) {
            let pan = CryptoPan::new(&key);
            // A second address sharing exactly `flip` leading bits with the first.
            let b = a ^ (1u128 << (127 - flip)) ^ (a & ((1u128 << (127 - flip)) - 1));
            let (x, y) = (u128::from(pan.anonymize_v6(Ipv6Addr::from(a))), u128::from(pan.anonymize_v6(Ipv6Addr::from(b))));
            prop_assert_eq!(common_prefix(a, b, 128), flip);
            prop_assert_eq!(common_prefix(x, y, 128), flip);
        }

        /// Addresses in one /24 stay in one /24; addresses in different /24s stay apart.
        #[test]
        fn a_shared_slash_24_stays_shared(key in any::<[u8; 32]>(), net in any::<u32>(), h1 in any::<u8>(), h2 in any::<u8>(), other in any::<u32>()) {
            let pan = CryptoPan::new(&key);
            let base = net & 0xffff_ff00;
            let a = pan.anonymize_v4(Ipv4Addr::from(base | u32::from(h1)));
            let b = pan.anonymize_v4(Ipv4Addr::from(base | u32::from(h2)));
            prop_assert_eq!(&a.octets()[..3], &b.octets()[..3]);
            let c = pan.anonymize_v4(Ipv4Addr::from(other));
            prop_assert_eq!(a.octets()[..3] == c.octets()[..3], base == other & 0xffff_ff00);
        }

        /// A permutation: distinct addresses never collide.
        #[test]
        fn distinct_addresses_stay_distinct(key in any::<[u8; 32]>(), a in any::<u32>(), b in any::<u32>()) {
            let pan = CryptoPan::new(&key);
            prop_assert_eq!(a == b, pan.anonymize_v4(Ipv4Addr::from(a)) == pan.anonymize_v4(Ipv4Addr::from(b)));
        }
    }
}
