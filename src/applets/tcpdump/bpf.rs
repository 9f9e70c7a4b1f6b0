//! Classic BPF, the program the kernel runs on every packet of a capture socket: instructions
//! (the kernel's `struct sock_filter`), the text `tcpdump -d` prints for them, and an
//! interpreter with the kernel's rules, which applies the same program to packets read from a
//! file (`-r`) and lets the filter compiler be tested without a socket. Pure.

/// One instruction: opcode, jump offsets when true and false, constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

// Instruction classes, sizes, modes and operations (linux/filter.h, linux/bpf_common.h).
pub const LD: u16 = 0x00;
pub const LDX: u16 = 0x01;
pub const ST: u16 = 0x02;
pub const ALU: u16 = 0x04;
pub const JMP: u16 = 0x05;
pub const RET: u16 = 0x06;
pub const MISC: u16 = 0x07;
pub const W: u16 = 0x00;
pub const H: u16 = 0x08;
pub const B: u16 = 0x10;
pub const IMM: u16 = 0x00;
pub const ABS: u16 = 0x20;
pub const IND: u16 = 0x40;
pub const MEM: u16 = 0x60;
pub const LEN: u16 = 0x80;
pub const MSH: u16 = 0xa0;
pub const ADD: u16 = 0x00;
pub const SUB: u16 = 0x10;
pub const MUL: u16 = 0x20;
pub const DIV: u16 = 0x30;
pub const OR: u16 = 0x40;
pub const AND: u16 = 0x50;
pub const LSH: u16 = 0x60;
pub const RSH: u16 = 0x70;
pub const MOD: u16 = 0x90;
pub const XOR: u16 = 0xa0;
pub const JA: u16 = 0x00;
pub const JEQ: u16 = 0x10;
pub const JGT: u16 = 0x20;
pub const JGE: u16 = 0x30;
pub const JSET: u16 = 0x40;
pub const K: u16 = 0x00;
pub const X: u16 = 0x08;
pub const RET_A: u16 = 0x10;
pub const TAX: u16 = 0x00;
pub const TXA: u16 = 0x80;

/// The kernel's ancillary loads (SKF_AD_OFF + n): data the kernel keeps beside the packet.
pub const AD_OFF: u32 = 0xffff_f000;
pub const AD_PROTOCOL: u32 = AD_OFF;
pub const AD_VLAN_TAG: u32 = AD_OFF + 44;
pub const AD_VLAN_TAG_PRESENT: u32 = AD_OFF + 48;

/// Scratch memory words (BPF_MEMWORDS).
pub const MEMWORDS: usize = 16;

impl Insn {
    pub fn stmt(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    pub fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
        Insn { code, jt, jf, k }
    }
}

/// What the ancillary loads answer for one packet (the kernel knows them; a file does not).
#[derive(Debug, Clone, Copy, Default)]
pub struct Meta {
    pub protocol: u16,
    pub vlan: Option<u16>,
}

/// Run `prog` on `pkt` (`wire_len` bytes on the wire) as the kernel does: the number returned
/// is how many bytes to keep, 0 to drop. A load past the captured bytes, a division by zero or
/// a jump out of the program drops the packet.
pub fn run(prog: &[Insn], pkt: &[u8], wire_len: u32, meta: Meta) -> u32 {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; MEMWORDS];
    let mut pc = 0usize;
    let load = |off: u32, size: u16| -> Option<u32> {
        if off >= AD_OFF {
            return match off {
                AD_PROTOCOL => Some(meta.protocol as u32),
                AD_VLAN_TAG => Some(meta.vlan.unwrap_or(0) as u32),
                AD_VLAN_TAG_PRESENT => Some(meta.vlan.is_some() as u32),
                _ => None,
            };
        }
        let at = off as usize;
        let n = match size {
            W => 4,
            H => 2,
            _ => 1,
        };
        let b = pkt.get(at..at.checked_add(n)?)?;
        Some(b.iter().fold(0u32, |v, byte| (v << 8) | *byte as u32))
    };
    // Every instruction moves forward, so a program ends after at most its length in steps.
    while let Some(i) = prog.get(pc) {
        pc += 1;
        let class = i.code & 0x07;
        match class {
            LD | LDX => {
                let size = i.code & 0x18;
                let v = match i.code & 0xe0 {
                    IMM => i.k,
                    LEN => wire_len,
                    MEM => mem[i.k as usize % MEMWORDS],
                    ABS => match load(i.k, size) {
                        Some(v) => v,
                        None => return 0,
                    },
                    IND => match x.checked_add(i.k).and_then(|o| load(o, size)) {
                        Some(v) => v,
                        None => return 0,
                    },
                    MSH => match load(i.k, B) {
                        Some(v) => (v & 0xf) * 4,
                        None => return 0,
                    },
                    _ => return 0,
                };
                if class == LD { a = v } else { x = v }
            }
            ST => mem[i.k as usize % MEMWORDS] = a,
            0x03 => mem[i.k as usize % MEMWORDS] = x,
            ALU => {
                let v = if i.code & X != 0 { x } else { i.k };
                a = match i.code & 0xf0 {
                    ADD => a.wrapping_add(v),
                    SUB => a.wrapping_sub(v),
                    MUL => a.wrapping_mul(v),
                    DIV if v == 0 => return 0,
                    DIV => a / v,
                    MOD if v == 0 => return 0,
                    MOD => a % v,
                    OR => a | v,
                    AND => a & v,
                    LSH => a.checked_shl(v).unwrap_or(0),
                    RSH => a.checked_shr(v).unwrap_or(0),
                    XOR => a ^ v,
                    0x80 => a.wrapping_neg(),
                    _ => return 0,
                };
            }
            JMP => {
                let v = if i.code & X != 0 { x } else { i.k };
                let taken = match i.code & 0xf0 {
                    JA => {
                        pc += i.k as usize;
                        continue;
                    }
                    JEQ => a == v,
                    JGT => a > v,
                    JGE => a >= v,
                    JSET => a & v != 0,
                    _ => return 0,
                };
                pc += if taken { i.jt } else { i.jf } as usize;
            }
            RET => return if i.code & RET_A != 0 { a } else { i.k },
            MISC => {
                if i.code & 0xf8 == TXA {
                    a = x
                } else {
                    x = a
                }
            }
            _ => return 0,
        }
    }
    0
}

/// The program as `tcpdump -d` lists it.
pub fn listing(prog: &[Insn]) -> String {
    let mut out = String::new();
    for (n, i) in prog.iter().enumerate() {
        let size = match i.code & 0x18 {
            W => "",
            H => "h",
            _ => "b",
        };
        let load_k = |k: u32| -> String {
            match k {
                AD_PROTOCOL => "proto".into(),
                AD_VLAN_TAG => "vlan_tci".into(),
                AD_VLAN_TAG_PRESENT => "vlan_avail".into(),
                _ => k.to_string(),
            }
        };
        let v = |i: &Insn| {
            if i.code & X != 0 {
                "x".to_string()
            } else {
                format!("#0x{:x}", i.k)
            }
        };
        let jt = n + 1 + i.jt as usize;
        let jf = n + 1 + i.jf as usize;
        let text = match i.code & 0x07 {
            LD | LDX => {
                let op = if i.code & 0x07 == LD { "ld" } else { "ldx" };
                match i.code & 0xe0 {
                    IMM => format!("{op}      #{}", i.k),
                    LEN => format!("{op}      #pktlen"),
                    MEM => format!("{op}      M[{}]", i.k),
                    ABS => format!("{op}{size:<6} [{}]", load_k(i.k)),
                    IND => format!("{op}{size:<6} [x + {}]", i.k),
                    _ => format!("{op}xb    4*([{}]&0xf)", i.k),
                }
            }
            ST => format!("st       M[{}]", i.k),
            0x03 => format!("stx      M[{}]", i.k),
            ALU => {
                let op = match i.code & 0xf0 {
                    ADD => "add",
                    SUB => "sub",
                    MUL => "mul",
                    DIV => "div",
                    MOD => "mod",
                    OR => "or",
                    AND => "and",
                    LSH => "lsh",
                    RSH => "rsh",
                    XOR => "xor",
                    _ => "neg",
                };
                format!("{op:<8} {}", v(i))
            }
            JMP => match i.code & 0xf0 {
                JA => format!("ja       {}", n + 1 + i.k as usize),
                c => {
                    let op = match c {
                        JEQ => "jeq",
                        JGT => "jgt",
                        JGE => "jge",
                        _ => "jset",
                    };
                    format!("{op:<8} {:<14} jt {jt}\tjf {jf}", v(i))
                }
            },
            RET => {
                if i.code & RET_A != 0 {
                    "ret      a".to_string()
                } else {
                    format!("ret      #{}", i.k)
                }
            }
            _ => {
                if i.code & 0xf8 == TXA {
                    "txa".to_string()
                } else {
                    "tax".to_string()
                }
            }
        };
        out.push_str(&format!("({n:03}) {text}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_jumps_and_bounds_as_the_kernel() {
        // ldh [12]; jeq #0x800 jt 2 jf 3; ret #262144; ret #0
        let prog = [
            Insn::stmt(LD | H | ABS, 12),
            Insn::jump(JMP | JEQ | K, 0x800, 0, 1),
            Insn::stmt(RET | K, 262144),
            Insn::stmt(RET | K, 0),
        ];
        let mut ip = vec![0u8; 14];
        ip[12] = 8;
        assert_eq!(run(&prog, &ip, 60, Meta::default()), 262144);
        ip[12] = 0x86;
        assert_eq!(run(&prog, &ip, 60, Meta::default()), 0);
        // A load past the end drops the packet.
        assert_eq!(run(&prog, &ip[..12], 60, Meta::default()), 0);
        // ldxb 4*([0]&0xf); txa; ret a
        let msh = [
            Insn::stmt(LDX | B | MSH, 0),
            Insn::stmt(MISC | TXA, 0),
            Insn::stmt(RET | RET_A, 0),
        ];
        assert_eq!(run(&msh, &[0x45], 1, Meta::default()), 20);
        let div0 = [
            Insn::stmt(LD | IMM, 5),
            Insn::stmt(ALU | DIV | X, 0),
            Insn::stmt(RET | RET_A, 0),
        ];
        assert_eq!(run(&div0, &[], 0, Meta::default()), 0);
        assert!(listing(&prog).starts_with("(000) ldh      [12]\n(001) jeq      #0x800"));
    }

    #[test]
    fn random_programs_never_panic_or_loop() {
        crate::testing::check(&[], 3000, |bytes| {
            let prog: Vec<Insn> = bytes
                .chunks(8)
                .filter(|c| c.len() == 8)
                .map(|c| Insn {
                    code: u16::from_le_bytes([c[0], c[1]]),
                    jt: c[2],
                    jf: c[3],
                    k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
                })
                .collect();
            run(&prog, bytes, bytes.len() as u32, Meta::default());
            listing(&prog);
        });
    }
}
