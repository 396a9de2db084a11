//! What Node's and DevTools' default snapshot file names say: when the snapshot was
//! taken and, for Node's, by which process.

/// Node's and DevTools' default file names carry the local time the snapshot was taken:
/// `Heap.20261201.154501.4242.0.001.heapsnapshot`, `Heap-20261201T154501.heapsnapshot`.
pub fn taken_at_from_name(path: &std::path::Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let digits = |s: &str| s.len() >= 6 && s.bytes().all(|b| b.is_ascii_digit());
    let (date, time) = if let Some(rest) = name.strip_prefix("Heap.") {
        let mut parts = rest.split('.');
        (parts.next()?, parts.next()?)
    } else if let Some(rest) = name.strip_prefix("Heap-") {
        let stamp = rest.split('.').next()?;
        stamp.split_once('T')?
    } else {
        return None;
    };
    if date.len() != 8 || !digits(date) || time.len() != 6 || !digits(time) {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{} (local time, from the file name)",
        &date[..4],
        &date[4..6],
        &date[6..],
        &time[..2],
        &time[2..4],
        &time[4..]
    ))
}

/// The process id in Node's default file name (`Heap.DATE.TIME.PID.THREAD.SEQ…`).
pub fn pid_from_name(path: &std::path::Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    let mut parts = name.strip_prefix("Heap.")?.split('.');
    let (_date, _time, pid) = (parts.next()?, parts.next()?, parts.next()?);
    pid.parse().ok()
}
