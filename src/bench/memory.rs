//! The process's resident memory, for the benches that report it.

/// Resident memory of this process, in bytes (Linux; 0 elsewhere).
pub fn resident_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Resident memory once the allocator has handed its free pages back to
/// the system: glibc keeps the arenas of flushed memtables otherwise, and
/// the figure would be its high-water mark rather than what is live.
pub fn live_resident_bytes() -> u64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[expect(unsafe_code, reason = "a call into glibc; it takes no pointer")]
    // SAFETY: malloc_trim only returns free memory to the system; it reads
    // or frees nothing the program holds.
    unsafe {
        libc::malloc_trim(0);
    }
    resident_bytes()
}
