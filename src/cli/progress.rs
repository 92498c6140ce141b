//! Progress bars for long work (replay, export, import) on stderr, drawn
//! only when stderr is a terminal and `-q` is off.

use indicatif::{ProgressBar, ProgressStyle};

use super::Context;

/// A progress bar, or nothing when bars are off.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar labelled `what`, counting `unit`s, when `ctx` allows bars.
    pub fn new(ctx: &Context, what: &str, unit: &str) -> Self {
        if !ctx.progress_enabled() {
            return Self(None);
        }
        let bar = ProgressBar::new(0);
        let template = format!(
            "{{msg}} [{{bar:40}}] {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, eta {{eta}})"
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        Self(Some(bar))
    }

    /// Whether a bar is drawn.
    pub fn is_drawn(&self) -> bool {
        self.0.is_some()
    }

    /// `done` of `total`.
    pub fn update(&self, done: u64, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    /// Remove the bar from the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.finish();
    }
}
