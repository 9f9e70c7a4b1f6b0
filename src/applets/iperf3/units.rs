//! iperf3's numbers: sizes and rates with K/M/G/T suffixes on the command line, and the
//! four-character "2.57 GByte" / "22.1 Gbit" columns of its reports. Pure.

/// A size: 1024-based suffixes (`-n 10M`, `-l 128K`, `-w 4M`), as iperf3's unit_atof.
pub fn parse_size(s: &str) -> Option<f64> {
    parse_with(s, 1024.0)
}

/// A rate: 1000-based suffixes (`-b 10M` is 10,000,000 bit/s), as iperf3's unit_atof_rate.
pub fn parse_rate(s: &str) -> Option<f64> {
    parse_with(s, 1000.0)
}

fn parse_with(s: &str, base: f64) -> Option<f64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], base),
        'm' | 'M' => (&s[..s.len() - 1], base * base),
        'g' | 'G' => (&s[..s.len() - 1], base * base * base),
        't' | 'T' => (&s[..s.len() - 1], base * base * base * base),
        _ => (s, 1.0),
    };
    let n: f64 = num.parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some(n * mult)
}

const BYTE_LABELS: [&str; 5] = ["Byte", "KByte", "MByte", "GByte", "TByte"];
const BIT_LABELS: [&str; 5] = ["bit", "Kbit", "Mbit", "Gbit", "Tbit"];

/// iperf3's unit_snprintf: `bytes` as a number and a label. Lower-case formats are bits
/// (`a` adaptive, `k`, `m`, `g`, `t`), upper-case bytes (`A`, `K`, …); adaptive picks the largest
/// unit that keeps the number under 1000 (bits) or 1024 (bytes).
pub fn unit(bytes: f64, format: char) -> String {
    let bits = format.is_ascii_lowercase();
    let mut n = if bits { bytes * 8.0 } else { bytes };
    let step = if bits { 1000.0 } else { 1024.0 };
    let conv = match format.to_ascii_uppercase() {
        'B' => 0,
        'K' => 1,
        'M' => 2,
        'G' => 3,
        'T' => 4,
        _ => {
            let mut t = n;
            let mut c = 0;
            while t >= step && c < 4 {
                t /= step;
                c += 1;
            }
            c
        }
    };
    n /= step.powi(conv as i32);
    let label = if bits {
        BIT_LABELS[conv]
    } else {
        BYTE_LABELS[conv]
    };
    if n < 9.995 {
        format!("{n:4.2} {label}")
    } else if n < 99.95 {
        format!("{n:4.1} {label}")
    } else {
        format!("{n:4.0} {label}")
    }
}

/// C's `%.2g` (the loss percentage): two significant digits, trailing zeros dropped, exponent
/// notation when the exponent is below -4 or at least 2.
pub fn g2(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    // The exponent after rounding to two significant digits, as printf finds it.
    let e_form = format!("{x:.1e}");
    let (mant, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..2).contains(&exp) {
        let decimals = (1 - exp) as usize;
        strip(&format!("{x:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mant), exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_as_iperf3_prints_them() {
        assert_eq!(unit(2_759_360_512.0, 'A'), "2.57 GByte");
        assert_eq!(unit(21_882_205_548.0 / 8.0, 'a'), "21.9 Gbit");
        assert_eq!(unit(1_277_952.0, 'A'), "1.22 MByte");
        assert_eq!(unit(1_277_952.0, 'a'), "10.2 Mbit");
        assert_eq!(unit(916_480.0, 'A'), " 895 KByte");
        assert_eq!(unit(0.0, 'A'), "0.00 Byte");
        assert_eq!(unit(1_000_000.0 / 8.0, 'm'), "1.00 Mbit");
        assert_eq!(unit(5_452_595_200.0, 'G'), "5.08 GByte");
    }

    #[test]
    fn suffixes_for_sizes_and_rates() {
        assert_eq!(parse_size("128K"), Some(131_072.0));
        assert_eq!(parse_size("10M"), Some(10_485_760.0));
        assert_eq!(parse_rate("10M"), Some(10_000_000.0));
        assert_eq!(parse_rate("1.5g"), Some(1_500_000_000.0));
        assert_eq!(parse_rate("100"), Some(100.0));
        assert_eq!(parse_rate("x"), None);
        assert_eq!(parse_rate("-1"), None);
        assert_eq!(parse_rate(""), None);
    }

    #[test]
    fn percentages_as_printf_g() {
        assert_eq!(g2(0.0), "0");
        assert_eq!(g2(50.0), "50");
        assert_eq!(g2(2.5641), "2.6");
        assert_eq!(g2(0.123), "0.12");
        assert_eq!(g2(100.0), "1e+02");
        assert_eq!(g2(0.5), "0.5");
    }
}
