//! Just enough DER to read a certificate's validity and subject alternative names (RFC 5280
//! 4.1): rustls checks them but reports neither for a certificate it accepts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT Version`, `[3] EXPLICIT Extensions` in `TBSCertificate`.
const VERSION: u8 = 0xA0;
const EXTENSIONS: u8 = 0xA3;
/// `dNSName [2] IA5String` and `iPAddress [7] OCTET STRING` in `GeneralName`.
const DNS_NAME: u8 = 0x82;
const IP_ADDRESS: u8 = 0x87;
/// id-ce-subjectAltName, 2.5.29.17.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1D, 0x11];

/// What a probe reports of the server's own certificate.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Leaf {
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// DNS names and IP addresses of the subjectAltName extension, in order.
    pub names: Vec<String>,
}

impl Leaf {
    /// The parts of a DER certificate a probe reports, or None when it is not one.
    pub fn parse(der: &[u8]) -> Option<Leaf> {
        let (certificate, _) = element(der, SEQUENCE)?;
        let (mut tbs, _) = element(certificate, SEQUENCE)?;
        if tbs.first() == Some(&VERSION) {
            tbs = element(tbs, VERSION)?.1;
        }
        // serialNumber, signature, issuer
        for tag in [INTEGER, SEQUENCE, SEQUENCE] {
            tbs = element(tbs, tag)?.1;
        }
        let (validity, mut tbs) = element(tbs, SEQUENCE)?;
        let (not_before, validity) = time(validity)?;
        let (not_after, _) = time(validity)?;
        // subject, subjectPublicKeyInfo
        for tag in [SEQUENCE, SEQUENCE] {
            tbs = element(tbs, tag)?.1;
        }
        let names = subject_alt_names(tbs).unwrap_or_default();
        Some(Leaf { not_before, not_after, names })
    }
}

/// The names of the subjectAltName extension in what follows subjectPublicKeyInfo: the
/// optional unique identifiers, then `[3] Extensions`.
fn subject_alt_names(mut rest: &[u8]) -> Option<Vec<String>> {
    while let Some(&tag) = rest.first() {
        let (value, after) = any_element(rest)?;
        rest = after;
        if tag != EXTENSIONS {
            continue;
        }
        let (mut extensions, _) = element(value, SEQUENCE)?;
        while !extensions.is_empty() {
            let (extension, after) = element(extensions, SEQUENCE)?;
            extensions = after;
            let (id, mut extension) = element(extension, OID)?;
            if id != SUBJECT_ALT_NAME {
                continue;
            }
            if extension.first() == Some(&BOOLEAN) {
                extension = element(extension, BOOLEAN)?.1;
            }
            let (value, _) = element(extension, OCTET_STRING)?;
            let (mut general_names, _) = element(value, SEQUENCE)?;
            let mut names = Vec::new();
            while let Some(&tag) = general_names.first() {
                let (name, after) = any_element(general_names)?;
                general_names = after;
                match tag {
                    DNS_NAME => names.push(String::from_utf8_lossy(name).into_owned()),
                    IP_ADDRESS => names.extend(ip_address(name)),
                    _ => {}
                }
            }
            return Some(names);
        }
    }
    None
}

fn ip_address(octets: &[u8]) -> Option<String> {
    let ip: std::net::IpAddr = match octets.len() {
        4 => <[u8; 4]>::try_from(octets).ok()?.into(),
        16 => <[u8; 16]>::try_from(octets).ok()?.into(),
        _ => return None,
    };
    Some(ip.to_string())
}

/// The value of the element at the start of `input` if it has `tag`, and what follows it.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if input.first() != Some(&tag) {
        return None;
    }
    any_element(input)
}

/// The value of the element at the start of `input`, whatever its (one-byte) tag, and what
/// follows it.
fn any_element(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let octets = usize::from(first & 0x7F);
        if octets == 0 || octets > 4 || rest.len() < octets {
            return None;
        }
        let (length, rest) = rest.split_at(octets);
        (length.iter().fold(0usize, |length, &octet| length << 8 | usize::from(octet)), rest)
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}

/// A `Time` (UTCTime or GeneralizedTime, in the forms RFC 5280 4.1.2.5 allows) and what
/// follows it.
fn time(input: &[u8]) -> Option<(SystemTime, &[u8])> {
    let year_digits = match *input.first()? {
        UTC_TIME => 2,
        GENERALIZED_TIME => 4,
        _ => return None,
    };
    let (text, rest) = any_element(input)?;
    Some((parse_time(text, year_digits)?, rest))
}

/// `YYMMDDHHMMSSZ` (years 1950 to 2049) or `YYYYMMDDHHMMSSZ`.
fn parse_time(text: &[u8], year_digits: usize) -> Option<SystemTime> {
    let (zone, digits) = text.split_last()?;
    if *zone != b'Z' || digits.len() != year_digits + 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |at: usize, len: usize| digits[at..at + len].iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    let year = match year_digits {
        2 if number(0, 2) < 50 => 2000 + number(0, 2),
        2 => 1900 + number(0, 2),
        _ => number(0, 4),
    };
    let [month, day, hour, minute, second] = [0, 1, 2, 3, 4].map(|i| number(year_digits + 2 * i, 2));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    let offset = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 { UNIX_EPOCH.checked_add(offset) } else { UNIX_EPOCH.checked_sub(offset) }
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `2026-05-01 12:00:00 UTC`, for messages.
pub(crate) fn utc(time: SystemTime) -> String {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        Err(before) => -(before.duration().as_secs() as i64),
    };
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's `civil_from_days`.
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (second_of_day / 3_600, second_of_day / 60 % 60, second_of_day % 60);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn times_in_both_forms() {
        assert_eq!(parse_time(b"700101000000Z", 2), Some(at(0)));
        assert_eq!(parse_time(b"491231235959Z", 2), Some(at(2_524_607_999)));
        assert_eq!(parse_time(b"20500101000000Z", 4), Some(at(2_524_608_000)));
        assert_eq!(parse_time(b"240229120000Z", 2), Some(at(1_709_208_000)));
        let before_1970 = parse_time(b"500101000000Z", 2).unwrap();
        assert_eq!(UNIX_EPOCH.duration_since(before_1970).unwrap(), Duration::from_secs(631_152_000));
    }

    #[test]
    fn malformed_times_are_none() {
        for text in [&b"700101000000"[..], b"7001010000Z", b"701301000000Z", b"70010100000aZ", b"", b"Z"] {
            assert_eq!(parse_time(text, 2), None, "{}", String::from_utf8_lossy(text));
        }
        assert_eq!(parse_time(b"700101000000Z", 4), None);
    }

    #[test]
    fn utc_renders_the_date() {
        assert_eq!(utc(at(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(at(1_709_208_000 + 3_723)), "2024-02-29 13:02:03 UTC");
        assert_eq!(utc(at(2_524_608_000)), "2050-01-01 00:00:00 UTC");
        assert_eq!(utc(parse_time(b"500101000000Z", 2).unwrap()), "1950-01-01 00:00:00 UTC");
    }

    #[test]
    fn lengths_in_long_form_and_truncation() {
        let mut long = vec![OCTET_STRING, 0x82, 0x01, 0x00];
        long.extend([7; 256]);
        long.push(0xFF);
        let (value, rest) = element(&long, OCTET_STRING).unwrap();
        assert_eq!((value.len(), rest), (256, &[0xFF][..]));
        assert_eq!(element(&long[..100], OCTET_STRING), None);
        assert_eq!(element(&long, SEQUENCE), None);
        assert_eq!(any_element(&[SEQUENCE, 0x80]), None);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert_eq!(Leaf::parse(b""), None);
        assert_eq!(Leaf::parse(b"\x30\x03\x30\x01\x02"), None);
        assert_eq!(Leaf::parse(&[0x30; 64]), None);
    }
}
