//! A progress line on standard error while inputs are read (indicatif): how many inputs are
//! done and how many exchanges have been read, at what rate.
//!
//! Shown only when standard error is a terminal, never in pipes, files or CI logs, and only
//! once reading has taken a second ([`DELAY`]; `HARKEN_PROGRESS_DELAY_MS` overrides it, which
//! the tests use), so a quick run prints nothing. The line is cleared when reading ends, before
//! any output is written.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long reading runs before the progress line appears.
pub const DELAY: Duration = Duration::from_secs(1);

/// Exchanges counted between two looks at the clock.
const EVERY: u64 = 1024;

/// Progress of one read of all inputs; shared by the reading threads.
pub struct Progress {
    /// None when standard error is not a terminal: every method is then a counter bump.
    bar: Option<ProgressBar>,
    start: Instant,
    delay: Duration,
    inputs: u64,
    done: AtomicU64,
    read: AtomicU64,
    shown: AtomicBool,
}

impl Progress {
    /// Progress over `inputs` inputs, drawn only if standard error is a terminal.
    pub fn new(inputs: usize) -> Progress {
        Progress::with_terminal(inputs, std::io::stderr().is_terminal())
    }

    fn with_terminal(inputs: usize, terminal: bool) -> Progress {
        let delay = std::env::var("HARKEN_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(DELAY);
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            let style =
                ProgressStyle::with_template("{spinner} reading {msg}: {human_pos} exchanges ({per_sec}, {elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar
        });
        let p = Progress {
            bar,
            start: Instant::now(),
            delay,
            inputs: inputs as u64,
            done: AtomicU64::new(0),
            read: AtomicU64::new(0),
            shown: AtomicBool::new(false),
        };
        p.set_message();
        p
    }

    fn set_message(&self) {
        if let Some(bar) = &self.bar {
            let done = self.done.load(Ordering::Relaxed);
            bar.set_message(if self.inputs == 1 {
                "1 input".to_string()
            } else {
                format!("{done} of {} inputs done", self.inputs)
            });
        }
    }

    /// One exchange read (called from any reading thread).
    pub fn exchange(&self) {
        self.exchanges_read(1);
    }

    /// `n` exchanges read.
    pub fn exchanges_read(&self, n: u64) {
        let before = self.read.fetch_add(n, Ordering::Relaxed);
        if (before + n) / EVERY != before / EVERY {
            self.update(before + n);
        }
    }

    /// One input finished.
    pub fn input_done(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.set_message();
        self.update(self.read.load(Ordering::Relaxed));
    }

    fn update(&self, n: u64) {
        let Some(bar) = &self.bar else { return };
        bar.set_position(n);
        if !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed() >= self.delay
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.tick();
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    /// Reading is over: the line disappears.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Exchanges counted so far.
    pub fn exchanges(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_without_a_terminal_and_draws_nothing() {
        let p = Progress::with_terminal(2, false);
        for _ in 0..3000 {
            p.exchange();
        }
        p.input_done();
        assert_eq!(p.exchanges(), 3000);
        assert!(p.bar.is_none());
        assert!(!p.shown.load(Ordering::Relaxed));
    }
}
