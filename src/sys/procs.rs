//! Which processes hold which sockets (`ss -p`): every /proc/PID/fd/N that links to
//! `socket:[INODE]`. Only the processes this PID namespace shows, and only those whose fd
//! directory we may read (as with ss: a pod sees its own, a node pod with hostPID sees all).

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The command name from /proc/PID/stat (up to the first `)`, as ss reads it).
    pub comm: String,
    pub pid: i32,
    pub tid: i32,
    pub fd: i32,
}

/// Socket inode -> its owners, in the order ss prints them (the last found first).
pub fn socket_owners(threads: bool) -> HashMap<u32, Vec<Owner>> {
    let mut map: HashMap<u32, Vec<Owner>> = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return map;
    };
    let mut pids: Vec<i32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    // readdir of /proc lists PIDs in ascending order.
    pids.sort_unstable();
    for pid in pids {
        scan_task(&format!("/proc/{pid}"), pid, pid, &mut map);
        if threads {
            let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
                continue;
            };
            let mut tids: Vec<i32> = tasks
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .filter(|t| *t != pid)
                .collect();
            tids.sort_unstable();
            for tid in tids {
                scan_task(&format!("/proc/{tid}"), pid, tid, &mut map);
            }
        }
    }
    for owners in map.values_mut() {
        owners.reverse();
    }
    map
}

fn scan_task(base: &str, pid: i32, tid: i32, map: &mut HashMap<u32, Vec<Owner>>) {
    let Ok(fds) = std::fs::read_dir(format!("{base}/fd")) else {
        return;
    };
    let mut fds: Vec<i32> = fds
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    let mut comm: Option<String> = None;
    for fd in fds {
        let Ok(target) = std::fs::read_link(format!("{base}/fd/{fd}")) else {
            continue;
        };
        let Some(inode) = socket_inode(&target) else {
            continue;
        };
        let comm = comm.get_or_insert_with(|| command_name(&format!("{base}/stat")));
        map.entry(inode).or_default().push(Owner {
            comm: comm.clone(),
            pid,
            tid,
            fd,
        });
    }
}

fn socket_inode(target: &Path) -> Option<u32> {
    let t = target.to_str()?;
    t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// `%*d (%[^)])` over /proc/PID/stat: the name up to the first `)`, at most 15 bytes.
fn command_name(stat: &str) -> String {
    let Ok(bytes) = super::files::read_bounded(Path::new(stat), 4096) else {
        return String::new();
    };
    parse_comm(&bytes)
}

pub fn parse_comm(stat: &[u8]) -> String {
    let Some(open) = stat.iter().position(|b| *b == b'(') else {
        return String::new();
    };
    let rest = &stat[open + 1..];
    let end = rest.iter().position(|b| *b == b')').unwrap_or(rest.len());
    let name = &rest[..end.min(15)];
    crate::output::raw_text(name)
}

/// cgroup v2 directories by id (what sock_diag's INET_DIAG_CGROUP_ID names): the kernel's
/// cgroup id is the directory's inode number. Paths are relative to the cgroup2 mount, `/` for
/// its root; none when no cgroup2 file system is mounted.
pub fn cgroup_paths() -> HashMap<u64, String> {
    use std::os::unix::fs::MetadataExt;
    let mut map = HashMap::new();
    let Ok(mounts) = super::files::read_bounded(Path::new("/proc/self/mounts"), 1 << 20) else {
        return map;
    };
    let text = String::from_utf8_lossy(&mounts);
    let Some(root) = text.lines().find_map(|l| {
        let mut w = l.split(' ');
        let (_, dir, fstype) = (w.next()?, w.next()?, w.next()?);
        (fstype == "cgroup2").then(|| dir.to_string())
    }) else {
        return map;
    };
    let Ok(root_meta) = std::fs::metadata(&root) else {
        return map;
    };
    let dev = root_meta.dev();
    let mut stack = vec![(std::path::PathBuf::from(&root), "/".to_string())];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&dir) else {
            continue;
        };
        if meta.dev() != dev {
            continue;
        }
        map.insert(meta.ino(), rel.clone());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let name = e.file_name().to_string_lossy().into_owned();
                let child = if rel == "/" {
                    format!("/{name}")
                } else {
                    format!("{rel}/{name}")
                };
                stack.push((e.path(), child));
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_names_as_ss_reads_them() {
        assert_eq!(parse_comm(b"123 (nginx) S 1 2 3"), "nginx");
        assert_eq!(parse_comm(b"123 (a)b) S"), "a");
        assert_eq!(parse_comm(b"garbage"), "");
        assert_eq!(socket_inode(Path::new("socket:[12345]")), Some(12345));
        assert_eq!(socket_inode(Path::new("pipe:[1]")), None);
        crate::testing::check(&[b"1 (x) S"], 2000, |b| {
            let _ = parse_comm(b);
        });
    }
}
