//! What the kernel says about a process and the machine: CPU time (utime + stime from
//! `/proc/<pid>/stat`), resident memory and its high-water mark (`/proc/<pid>/status`, reset
//! through `clear_refs`), and the machine's busy and idle time (`/proc/stat`).

use std::time::Duration;

/// Clock ticks per second, for the tick counts in `/proc` (`getconf CLK_TCK`, almost always 100).
pub fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t: &u64| t > 0)
        .unwrap_or(100)
}

/// CPU time the process has used so far, in clock ticks (all its threads, user and system).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the man page; `rest` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
pub fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        let kb: u64 = value.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    })
}

pub fn rss(pid: u32) -> Option<u64> {
    status_bytes(pid, "VmRSS")
}

pub fn peak_rss(pid: u32) -> Option<u64> {
    status_bytes(pid, "VmHWM")
}

/// Resets the process's peak RSS to its current RSS (`echo 5 > /proc/<pid>/clear_refs`).
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// The machine's CPU time so far: busy and total, in clock ticks over all cores.
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineCpu {
    pub busy: u64,
    pub total: u64,
}

pub fn machine_cpu() -> MachineCpu {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return MachineCpu::default();
    };
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = v.iter().sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    MachineCpu {
        busy: total.saturating_sub(idle),
        total,
    }
}

/// The pid of the database server on this machine, if it runs here (`pidof mariadbd mysqld`).
pub fn database_pid() -> Option<u32> {
    let out = std::process::Command::new("pidof")
        .args(["mariadbd", "mysqld"])
        .output()
        .ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The 1-minute load average.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time in ticks as a duration.
pub fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    Duration::from_micros(ticks * 1_000_000 / per_second.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(cpu_ticks(me).is_some());
        assert!(rss(me).unwrap() > 0);
        assert!(peak_rss(me).unwrap() >= rss(me).unwrap() / 2);
        let m = machine_cpu();
        assert!(m.total >= m.busy && m.total > 0);
    }
}
