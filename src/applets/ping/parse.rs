//! iputils' words for ICMP errors. The wire format itself (requests, replies, quoted echoes)
//! is the shared crate::icmp.

pub use crate::icmp::{echo_reply, echo_request, icmp6_error, quoted_echo};

/// iputils' text for an ICMP error (pr_icmph for IPv4, print_icmp for IPv6).
pub fn error_text(v6: bool, icmp_type: u8, code: u8, info: u32) -> String {
    if v6 {
        return match icmp_type {
            1 => format!(
                "Destination unreachable: {}",
                match code {
                    0 => "No route".to_string(),
                    1 => "Administratively prohibited".to_string(),
                    2 => "Beyond scope of source address".to_string(),
                    3 => "Address unreachable".to_string(),
                    4 => "Port unreachable".to_string(),
                    5 => "Source address failed ingress/egress policy".to_string(),
                    6 => "Reject route to destination".to_string(),
                    c => format!("Unknown code {c}"),
                }
            ),
            2 => {
                if code != 0 {
                    format!("Packet too big: mtu={info}, code={code}")
                } else {
                    format!("Packet too big: mtu={info}")
                }
            }
            3 => match code {
                0 => "Time exceeded: Hop limit".into(),
                1 => "Time exceeded: Defragmentation failure".into(),
                c => format!("Time exceeded: code {c}"),
            },
            4 => {
                let what = match code {
                    0 => "Wrong header field ".to_string(),
                    1 => "Unknown header ".to_string(),
                    2 => "Unknown option ".to_string(),
                    c => format!("code {c} "),
                };
                format!("Parameter problem: {what}at {info}")
            }
            t => format!("unknown icmp type: {t}"),
        };
    }
    match icmp_type {
        3 => match code {
            0 => "Destination Net Unreachable".into(),
            1 => "Destination Host Unreachable".into(),
            2 => "Destination Protocol Unreachable".into(),
            3 => "Destination Port Unreachable".into(),
            4 => format!("Frag needed and DF set (mtu = {info})"),
            5 => "Source Route Failed".into(),
            6 => "Destination Net Unknown".into(),
            7 => "Destination Host Unknown".into(),
            8 => "Source Host Isolated".into(),
            9 => "Destination Net Prohibited".into(),
            10 => "Destination Host Prohibited".into(),
            11 => "Destination Net Unreachable for Type of Service".into(),
            12 => "Destination Host Unreachable for Type of Service".into(),
            13 => "Packet filtered".into(),
            14 => "Precedence Violation".into(),
            15 => "Precedence Cutoff".into(),
            c => format!("Dest Unreachable, Bad Code: {c}"),
        },
        4 => "Source Quench".into(),
        11 => match code {
            0 => "Time to live exceeded".into(),
            1 => "Frag reassembly time exceeded".into(),
            c => format!("Time exceeded, Bad Code: {c}"),
        },
        12 => format!("Parameter problem: pointer = {info}"),
        t => format!("Bad ICMP type: {t}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_match_iputils() {
        assert_eq!(error_text(false, 3, 1, 0), "Destination Host Unreachable");
        assert_eq!(error_text(false, 11, 0, 0), "Time to live exceeded");
        assert_eq!(
            error_text(false, 3, 4, 1400),
            "Frag needed and DF set (mtu = 1400)"
        );
        assert_eq!(
            error_text(true, 1, 3, 0),
            "Destination unreachable: Address unreachable"
        );
        assert_eq!(error_text(true, 2, 0, 1280), "Packet too big: mtu=1280");
        assert_eq!(error_text(true, 3, 0, 0), "Time exceeded: Hop limit");
    }
}
