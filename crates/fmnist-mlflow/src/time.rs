//! The manifests' UTC times (`2026-11-28T15:04:05Z`, as `fmnist_metrics::rfc3339`
//! writes them) as the milliseconds since 1970 that MLflow's runs and metrics take.

/// Milliseconds since 1970-01-01T00:00:00Z, or `None` when `text` is not
/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
pub(crate) fn unix_millis(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z')?;
    let (date, clock) = text.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let (y, m, day) = (d.next()?, d.next()?, d.next()?);
    let (whole, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut c = whole.splitn(3, ':');
    let (h, min, s) = (c.next()?, c.next()?, c.next()?);
    let field = |t: &str, digits: usize, max: i64| -> Option<i64> {
        let v: i64 = (t.len() == digits && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())??;
        (v <= max).then_some(v)
    };
    let (y, m, day) = (field(y, 4, 9999)?, field(m, 2, 12)?, field(day, 2, 31)?);
    let (h, min, s) = (field(h, 2, 23)?, field(min, 2, 59)?, field(s, 2, 60)?);
    if m == 0 || day == 0 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Milliseconds of the fraction: its first three digits, padded.
    let millis: i64 = format!("{fraction:0<3}")[..3].parse().ok()?;
    let days = days_from_civil(y, m, day);
    Some(((days * 24 + h) * 60 + min) * 60_000 + s * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm, the inverse of the one `fmnist_metrics::rfc3339` uses).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn times_read_back_what_the_store_writes() {
        for secs in [
            0u64,
            951_782_400,
            1_700_000_000,
            1_796_548_749,
            4_102_444_800,
        ] {
            let text = fmnist_metrics::rfc3339(UNIX_EPOCH + Duration::from_secs(secs));
            assert_eq!(unix_millis(&text), Some(secs as i64 * 1000), "{text}");
        }
        assert_eq!(unix_millis("1970-01-01T00:00:01.25Z"), Some(1250));
        // 2000 is a leap year: 29 February exists.
        assert_eq!(
            unix_millis("2000-03-01T00:00:00Z").unwrap()
                - unix_millis("2000-02-28T00:00:00Z").unwrap(),
            2 * 86_400_000
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "2026-11-28",
            "2026-11-28T15:04:05",
            "2026-11-28 15:04:05Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T15:04:05.x1Z",
            "2026-11-28T15:04:05+01:00",
        ] {
            assert_eq!(unix_millis(bad), None, "{bad}");
        }
    }
}
