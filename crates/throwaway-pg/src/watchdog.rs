//! The `sh` watchdogs each throwaway process runs under: each starts the program as the owner,
//! stops it when our end of its stdin closes (however this process ends), and removes the
//! program's directory.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::{Error, Owner, io_error};

/// Lines on stdin: `stop` stops the program and keeps its files, `start` starts it again,
/// `restart` does both. `$1` is the directory to remove, `$2` the log file, `$3` the signal
/// that stops the program, the rest its command line.
const WATCHDOG: &str = r#"root=$1; log=$2; signal=$3; shift 3
"$@" >>"$log" 2>&1 &
server=$!
while read -r command; do
  case $command in
    stop|restart) kill -"$signal" "$server" 2>/dev/null; wait "$server"; server= ;;
  esac
  case $command in
    start|restart) [ -z "$server" ] && { "$@" >>"$log" 2>&1 & server=$!; } ;;
  esac
done
[ -n "$server" ] && { kill -"$signal" "$server" 2>/dev/null; wait "$server"; }
rm -rf "$root"
"#;

/// For a program that starts processes of its own (`pg_autoctl` and its PostgreSQL): it runs
/// in a session of its own (`setsid`), so that it can be killed whole, as a machine dies.
/// Lines on stdin: `kill` sends SIGKILL to the whole group, `start` starts the program again.
/// At the end the group gets SIGQUIT (PostgreSQL's immediate shutdown, which `pg_autoctl`
/// passes on), and a shared memory segment a killed server left behind (named in its stale
/// `postmaster.pid`, `$3`) is removed with the directory. `$1` is the directory, `$2` the log.
const SESSION_WATCHDOG: &str = r#"root=$1; log=$2; pidfile=$3; shift 3
start() { setsid "$@" >>"$log" 2>&1 & server=$!; echo "$server" >"$root/session"; }
stop() { [ -n "$server" ] && { kill -"$1" -"$server" 2>/dev/null; wait "$server"; }; server=; }
start "$@"
while read -r command; do
  case $command in
    kill) stop KILL ;;
    start) [ -z "$server" ] && start "$@" ;;
  esac
done
stop QUIT
[ -f "$pidfile" ] && ipcrm -m "$(sed -n 7p "$pidfile" | awk '{print $2}')" 2>/dev/null
rm -rf "$root"
"#;

/// Starts `program args` as `owner` under the watchdog, logging to `root/log_name`, stopped
/// with `stop_signal` (`INT` is PostgreSQL's fast shutdown). Returns the watchdog and our end
/// of its stdin, the lifeline.
pub(crate) fn spawn(
    owner: Owner,
    root: &Path,
    log_name: &str,
    stop_signal: &str,
    program: &Path,
    args: &[String],
) -> Result<(Child, ChildStdin), Error> {
    let mut command = owner.command("/bin/sh");
    command
        .current_dir(root)
        .args(["-c", WATCHDOG, "throwaway-pg"])
        .arg(root)
        .arg(root.join(log_name))
        .arg(stop_signal)
        .arg(program)
        .args(args);
    launch(command, program)
}

/// Starts `program args` as `owner`, with `env` added, in a session of its own under the
/// session watchdog (see [`SESSION_WATCHDOG`]), logging to `root/log_name`, with none of this
/// process's `PG*` variables (only those in `env`). `pid_file` is the `postmaster.pid` of the server the program
/// runs, if any.
pub(crate) fn spawn_session(
    owner: Owner,
    root: &Path,
    log_name: &str,
    pid_file: &Path,
    env: &[(&str, &OsStr)],
    program: &Path,
    args: &[&OsStr],
) -> Result<(Child, ChildStdin), Error> {
    let mut command = owner.command("/bin/sh");
    command
        .current_dir(root)
        .args(["-c", SESSION_WATCHDOG, "throwaway-pg"])
        .arg(root)
        .arg(root.join(log_name))
        .arg(pid_file)
        .arg(program)
        .args(args);
    crate::without_pg_environment(&mut command);
    command.envs(env.iter().copied());
    launch(command, program)
}

fn launch(mut command: Command, program: &Path) -> Result<(Child, ChildStdin), Error> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a terminal's Ctrl-C reaches us, and we shut it down in order.
        .process_group(0);
    let mut watchdog = command
        .spawn()
        .map_err(io_error(format!("could not start {}", program.display())))?;
    let lifeline = watchdog.stdin.take().expect("stdin is piped");
    Ok((watchdog, lifeline))
}
