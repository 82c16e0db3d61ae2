//! A command that failed: its one line, and its exit code.

/// The line, and the exit code (1 unless a subcommand documents another, as `migrate check`
/// does for pending files).
pub struct Failed {
    pub message: String,
    pub code: u8,
}

impl From<String> for Failed {
    fn from(message: String) -> Self {
        Self { message, code: 1 }
    }
}
