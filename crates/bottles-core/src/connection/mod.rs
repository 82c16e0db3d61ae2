//! Connecting the way libpq does: settings from a URL or `key=value` string, a service file,
//! the `PG*` environment and the password file ([`ConnectOptions`]); TLS as a typed
//! [`SslMode`] says; and opening one connection ([`open`]), socket, TLS, start-up and
//! `target_session_attrs` included.

mod config_error;
mod conninfo;
pub(crate) mod open;
mod options;
mod passfile;
mod sslmode;
pub(crate) mod tls;

pub use config_error::{ConfigError, ConfigErrorKind};
pub use options::ConnectOptions;
pub use sslmode::SslMode;
