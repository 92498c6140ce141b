//! A panic hook for supervised actors: message and location, no backtrace.
//!
//! A panicking actor is the common failure a supervisor handles, and the
//! default hook's backtrace capture (with `RUST_BACKTRACE=1`) makes a
//! panic-and-restart about 15x slower. This hook prints the message and
//! location as the default hook does, without a backtrace, and keeps the
//! last few panics so a supervisor can add the location to the failure
//! it logs (ractor passes on the message only).

use std::collections::VecDeque;
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, PoisonError};

/// Panics remembered for [`location_of`].
const REMEMBERED: usize = 64;

static INSTALL: Once = Once::new();
static QUIET: AtomicBool = AtomicBool::new(false);
static RECENT: Mutex<VecDeque<PanicRecord>> = Mutex::new(VecDeque::new());

/// One recorded panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanicRecord {
    /// The panic message.
    pub message: String,
    /// `file:line:column`, when known.
    pub location: Option<String>,
}

fn message_of(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Install the hook, once per process (later calls do nothing). Panics on
/// threads outside a tokio runtime (the embedding program's own) still go
/// to the hook that was installed before, backtrace and all.
pub fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if tokio::runtime::Handle::try_current().is_err() {
                previous(info);
                return;
            }
            let record = PanicRecord {
                message: message_of(info),
                location: info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
            };
            // Printed as the default hook does, less the backtrace: a panic
            // outside an actor (a test's assertion, say) must stay visible.
            if !QUIET.load(Ordering::Relaxed) {
                let thread = std::thread::current();
                eprintln!(
                    "thread '{}' panicked at {}:\n{}",
                    thread.name().unwrap_or("<unnamed>"),
                    record.location.as_deref().unwrap_or("<unknown>"),
                    record.message
                );
            }
            let mut recent = RECENT.lock().unwrap_or_else(PoisonError::into_inner);
            if recent.len() == REMEMBERED {
                recent.pop_front();
            }
            recent.push_back(record);
        }));
    });
}

/// Stop (or resume) printing panics inside a tokio runtime: for a program
/// that provokes them on purpose by the thousand (`strand bench actors`).
/// They are still recorded for [`location_of`].
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// The location of the most recent recorded panic whose message is
/// `message`.
pub fn location_of(message: &str) -> Option<String> {
    let recent = RECENT.lock().unwrap_or_else(PoisonError::into_inner);
    recent
        .iter()
        .rev()
        .find(|r| message.contains(&r.message))
        .and_then(|r| r.location.clone())
}
