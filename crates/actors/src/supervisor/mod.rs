//! Durable supervisors: OTP strategies and restart types, per-failure
//! directives, restart intensity, backoff and circuit breakers, each action
//! logged on the supervisor's stream before it takes effect.

mod actor;
mod handle;
mod inspect;
mod memory;
mod reference;
mod spec;

pub use actor::{LOST_AT_EXIT, Supervisor, SupervisorMsg, SupervisorState};
pub use handle::ChildHandle;
pub use inspect::{ChildInfo, ChildState, ChildStatus, Health};
pub use reference::SupervisorRef;
pub use spec::{
    ChildContext, ChildSpec, Decider, Directive, InspectFn, Restart, StartFn, Strategy,
    SupervisorSpec,
};
