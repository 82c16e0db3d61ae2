//! `seed` with a progress bar on a terminal.

use std::io::IsTerminal;

use bottles::{Client, SeedPlan, SeedReport};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::SeedArgs;

/// Seeds, with a progress bar on stderr when `show` and stderr is a terminal.
pub async fn seed_showing_progress(
    client: &mut Client,
    args: &SeedArgs,
    show: bool,
) -> bottles::Result<SeedReport> {
    let plan = SeedPlan::new(args.users, args.messages)?;
    let bar = if show && std::io::stderr().is_terminal() {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "seed [{bar:30}] {human_pos}/{human_len} rows  {elapsed}, eta {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        )
    } else {
        ProgressBar::hidden()
    };
    let report = bottles::seed_with_progress(client, &plan, |progress| {
        bar.set_length(progress.rows_total);
        bar.set_position(progress.rows_done);
    })
    .await;
    bar.finish_and_clear();
    report
}
