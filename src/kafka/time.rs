//! RFC 3339 timestamps to milliseconds since the epoch (for offset resets by time).

/// Parses `2026-11-24T03:04:05Z`, `2026-11-24T03:04:05.123+09:00` (or with a space instead
/// of `T`) into ms since the Unix epoch.
pub fn parse_rfc3339_ms(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = || format!("expected YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM), got {t:?}");
    if t.len() < 20 || !t.is_char_boundary(19) || !t[..19].is_ascii() {
        return Err(bad());
    }
    let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let b = t.as_bytes();
    if b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let (year, month, day) = (num(&t[0..4])?, num(&t[5..7])?, num(&t[8..10])?);
    let (hour, minute, second) = (num(&t[11..13])?, num(&t[14..16])?, num(&t[17..19])?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let mut rest = &t[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Err(bad());
        }
        let padded = format!("{:0<3}", &digits[..digits.len().min(3)]);
        millis = num(&padded)?;
        rest = &frac[digits.len()..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        zone if zone.len() == 6
            && zone.is_ascii()
            && (zone.starts_with('+') || zone.starts_with('-'))
            && &zone[3..4] == ":" =>
        {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (num(&zone[1..3])? * 60 + num(&zone[4..6])?)
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Ok(seconds * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(
            parse_rfc3339_ms("2026-11-24T03:04:05.123Z").unwrap(),
            1_795_489_445_123
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-24T12:04:05+09:00").unwrap(),
            parse_rfc3339_ms("2026-11-24T03:04:05Z").unwrap()
        );
        assert!(parse_rfc3339_ms("yesterday").is_err());
        assert!(parse_rfc3339_ms("2026-13-01T00:00:00Z").is_err());
    }
}
