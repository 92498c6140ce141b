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

/// Anonymous resident memory of this process, in bytes (Linux's
/// `RssAnon`; 0 elsewhere): the heap, stacks and anonymous maps, without
/// the pages of the program's code and of mapped files, which grow as new
/// paths of the code run for the first time (a first checkpoint, a first
/// trim) and say nothing of what the program holds.
pub fn anon_resident_bytes() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
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

/// Bytes the allocator has handed out and not had back (glibc's
/// `mallinfo2`: small blocks in use plus mmapped ones; 0 elsewhere): the
/// heap the program holds, without the free pages and fragments that
/// resident memory also counts.
pub fn heap_in_use_bytes() -> u64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        #[expect(unsafe_code, reason = "a call into glibc; it takes no pointer")]
        // SAFETY: mallinfo2 only reads the allocator's counters and returns
        // them by value.
        let info = unsafe { libc::mallinfo2() };
        u64::try_from(info.uordblks.saturating_add(info.hblkhd)).unwrap_or(u64::MAX)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    0
}
