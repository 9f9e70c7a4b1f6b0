//! Which processes hold which sockets (`ss -p`): every /proc/PID/fd/N that links to
//! `socket:[INODE]`. Only the processes this PID namespace shows, and only those whose fd
//! directory we may read (as with ss: a pod sees its own, a node pod with hostPID sees all).

use std::collections::HashMap;
use std::path::Path;

/// One process's hold on a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner<'a> {
    /// The command name from /proc/PID/stat (up to the first `)`, as ss reads it).
    pub comm: &'a str,
    pub pid: i32,
    pub tid: i32,
    pub fd: i32,
}

/// Every socket's owners, compactly: one name per process, and 20 bytes per (socket, fd), so
/// a node with 100,000 sockets costs 2 MB, not a map of vectors of strings.
#[derive(Debug, Default)]
pub struct Owners {
    names: Vec<String>,
    /// (inode, name index, pid, tid, fd), sorted by inode, in the order they were found.
    entries: Vec<(u32, u32, i32, i32, i32)>,
}

impl Owners {
    /// The owners of socket `inode` in the order ss prints them (the last found first); None
    /// when no process we can see holds it.
    pub fn get(&self, inode: &u32) -> Option<Vec<Owner<'_>>> {
        let from = self.entries.partition_point(|e| e.0 < *inode);
        let to = self.entries.partition_point(|e| e.0 <= *inode);
        let list: Vec<Owner<'_>> = self.entries[from..to]
            .iter()
            .rev()
            .map(|&(_, name, pid, tid, fd)| Owner {
                comm: self.names.get(name as usize).map_or("", String::as_str),
                pid,
                tid,
                fd,
            })
            .collect();
        (!list.is_empty()).then_some(list)
    }
}

/// Socket inode -> its owners: every /proc/PID/fd (and with `threads` every task's) that we
/// may read.
pub fn socket_owners(threads: bool) -> Owners {
    let mut owners = Owners::default();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return owners;
    };
    let mut pids: Vec<i32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    // readdir of /proc lists PIDs in ascending order.
    pids.sort_unstable();
    for pid in pids {
        scan_task(&format!("/proc/{pid}"), pid, pid, &mut owners);
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
                scan_task(&format!("/proc/{tid}"), pid, tid, &mut owners);
            }
        }
    }
    // Stable: a socket's owners keep the order they were found in.
    owners.entries.sort_by_key(|e| e.0);
    owners.entries.shrink_to_fit();
    owners
}

fn scan_task(base: &str, pid: i32, tid: i32, owners: &mut Owners) {
    let Ok(fds) = std::fs::read_dir(format!("{base}/fd")) else {
        return;
    };
    let mut fds: Vec<i32> = fds
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    let mut name: Option<u32> = None;
    for fd in fds {
        let Ok(target) = std::fs::read_link(format!("{base}/fd/{fd}")) else {
            continue;
        };
        let Some(inode) = socket_inode(&target) else {
            continue;
        };
        let name = *name.get_or_insert_with(|| {
            owners
                .names
                .push(command_name(&format!("{base}/stat")).unwrap_or_default());
            (owners.names.len() - 1) as u32
        });
        owners.entries.push((inode, name, pid, tid, fd));
    }
}

fn socket_inode(target: &Path) -> Option<u32> {
    let t = target.to_str()?;
    t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// `%*d (%[^)])` over /proc/PID/stat: the name up to the first `)`, at most 15 bytes; None
/// when the file cannot be read or holds no name.
fn command_name(stat: &str) -> Option<String> {
    let bytes = super::files::read_bounded(Path::new(stat), 4096).ok()?;
    bytes.contains(&b'(').then(|| parse_comm(&bytes))
}

/// The command name of process `pid` (as ss -p and netlink listings show it).
pub fn comm_of(pid: i32) -> Option<String> {
    command_name(&format!("/proc/{pid}/stat"))
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
