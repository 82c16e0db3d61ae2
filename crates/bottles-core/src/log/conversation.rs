//! Follows a live connection's requests and responses and produces one [`Finished`] statement
//! for each query it executed, whoever sent it: a generated query, a raw `client.query`, a
//! `COPY`, or the `BEGIN`/`COMMIT` of a transaction.
//!
//! The server answers in the order it was asked, so a queue of what is outstanding pairs each
//! response with its request, pipelined or not. Named statements are remembered from their
//! `Parse` so that each later `Bind` knows its SQL and parameter types.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::statements::{Named, Statements};
use crate::wire::framer::Body;

/// One parameter as bound: its type, wire format and bytes (`None` for SQL NULL).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Param {
    pub type_oid: u32,
    pub binary: bool,
    pub value: Option<Vec<u8>>,
}

/// A statement that ran: what was sent, with what, how it ended and how long it took.
#[derive(Debug)]
pub(crate) struct Finished {
    pub sql: Arc<str>,
    /// The catalog entry when the statement is one of `queries/` or `copy/`.
    pub named: Option<&'static Named>,
    pub params: Vec<Param>,
    pub outcome: Outcome,
    pub elapsed: Duration,
    /// Sent unprepared: an unnamed statement parsed in the same request.
    pub unnamed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Rows returned.
    Rows(u64),
    /// Rows inserted, updated, deleted or copied.
    Affected(u64),
    /// A command with no rows (`BEGIN`, `CREATE TABLE`, …).
    Done,
    /// The server's error: message and SQLSTATE.
    Failed(String),
}

#[derive(Debug)]
struct Prepared {
    sql: Arc<str>,
    named: Option<&'static Named>,
    types: Vec<u32>,
}

#[derive(Debug)]
struct Running {
    sql: Arc<str>,
    named: Option<&'static Named>,
    params: Vec<Param>,
    started: Instant,
    rows: u64,
    tag: Option<String>,
    error: Option<String>,
    unnamed: bool,
    /// Already handed out: a simple query that failed is reported at its error, since the
    /// caller hears of the error before the `ReadyForQuery` that ends it.
    reported: bool,
}

impl Running {
    fn finish(self, now: Instant) -> Option<Finished> {
        if self.reported {
            return None;
        }
        let outcome = match (self.error, self.tag) {
            (Some(error), _) => Outcome::Failed(error),
            (None, tag) => outcome_of(tag.as_deref().unwrap_or_default(), self.rows),
        };
        Some(Finished {
            sql: self.sql,
            named: self.named,
            params: self.params,
            outcome,
            elapsed: now.saturating_duration_since(self.started),
            unnamed: self.unnamed,
        })
    }
}

/// A `Bind`: the statement's SQL, its catalog entry, the parameters, and whether the statement
/// is the unnamed one.
#[derive(Debug)]
struct Bound {
    sql: Arc<str>,
    named: Option<&'static Named>,
    params: Vec<Param>,
    unnamed: bool,
}

/// What the connection still expects an answer to, oldest first.
#[derive(Debug)]
enum Pending {
    /// A statement being prepared, and when it was sent.
    Parse(Arc<str>, Instant),
    /// `Describe` of a statement (its name) or of a portal (`None`).
    Describe(Option<String>),
    Execute(Running),
    Simple(Running),
    Sync,
}

#[derive(Debug, Default)]
pub(crate) struct Conversation {
    catalog: Option<&'static Statements>,
    statements: HashMap<String, Prepared>,
    /// The statement and parameters of the last `Bind`, run by the next `Execute`.
    bound: Option<Bound>,
    pending: VecDeque<Pending>,
}

/// Frontend messages whose bodies the conversation reads.
pub(crate) fn reads_frontend(kind: u8) -> bool {
    matches!(kind, b'P' | b'B' | b'D' | b'Q' | b'C')
}

/// Backend messages whose bodies the conversation reads.
pub(crate) fn reads_backend(kind: u8) -> bool {
    matches!(kind, b'C' | b'E' | b't')
}

impl Conversation {
    pub(crate) fn new(catalog: Option<&'static Statements>) -> Self {
        Self {
            catalog,
            ..Self::default()
        }
    }

    fn lookup(&self, sql: &str) -> Option<&'static Named> {
        self.catalog.and_then(|catalog| catalog.lookup(sql))
    }

    /// A message the client sent.
    pub(crate) fn sent(&mut self, kind: u8, body: &[u8], now: Instant) {
        let mut body = Body(body);
        match kind {
            b'P' => {
                let (Some(name), Some(sql)) = (body.cstr(), body.cstr()) else {
                    return;
                };
                let count = body.i16().unwrap_or(0).max(0) as usize;
                let types = (0..count).map_while(|_| body.u32()).collect();
                let sql: Arc<str> = sql.into();
                let named = self.lookup(&sql);
                self.pending.push_back(Pending::Parse(sql.clone(), now));
                self.statements
                    .insert(name.into(), Prepared { sql, named, types });
            }
            b'B' => self.bound = self.bind(&mut body),
            b'D' => {
                let described = match (body.u8(), body.cstr()) {
                    (Some(b'S'), Some(name)) => Some(name.to_string()),
                    _ => None,
                };
                self.pending.push_back(Pending::Describe(described));
            }
            b'E' => {
                if let Some(bound) = self.bound.take() {
                    let mut run = running(bound.sql, bound.named, bound.params, now);
                    run.unnamed = bound.unnamed;
                    self.pending.push_back(Pending::Execute(run));
                }
            }
            b'Q' => {
                let sql: Arc<str> = body.cstr().unwrap_or_default().into();
                let named = self.lookup(&sql);
                self.pending
                    .push_back(Pending::Simple(running(sql, named, Vec::new(), now)));
            }
            b'C' => {
                if let (Some(b'S'), Some(name)) = (body.u8(), body.cstr()) {
                    self.statements.remove(name);
                }
            }
            b'S' => self.pending.push_back(Pending::Sync),
            // CopyDone or CopyFail: a Sync sent while the server was copying in was ignored by
            // it, so it will not be answered.
            b'c' | b'f' => {
                if let Some(copy) = self
                    .pending
                    .iter()
                    .rposition(|p| matches!(p, Pending::Execute(_)))
                {
                    let mut index = 0;
                    self.pending.retain(|p| {
                        index += 1;
                        index <= copy + 1 || !matches!(p, Pending::Sync)
                    });
                }
            }
            _ => {}
        }
    }

    /// Reads a `Bind`: the statement it names and its parameters with their types.
    fn bind(&self, body: &mut Body<'_>) -> Option<Bound> {
        let _portal = body.cstr()?;
        let name = body.cstr()?;
        let prepared = self.statements.get(name)?;
        let formats: Vec<i16> = (0..body.i16()?.max(0)).map_while(|_| body.i16()).collect();
        let count = body.i16()?.max(0) as usize;
        let mut params = Vec::with_capacity(count);
        for index in 0..count {
            let length = body.i32()?;
            let value = match usize::try_from(length) {
                Ok(length) => Some(body.bytes(length)?.to_vec()),
                Err(_) => None,
            };
            let format = match formats.len() {
                0 => 0,
                1 => formats[0],
                _ => *formats.get(index)?,
            };
            params.push(Param {
                type_oid: prepared.types.get(index).copied().unwrap_or(0),
                binary: format == 1,
                value,
            });
        }
        Some(Bound {
            sql: prepared.sql.clone(),
            named: prepared.named,
            params,
            unnamed: name.is_empty(),
        })
    }

    /// A message the server sent; returns the statement it finished, if any.
    pub(crate) fn received(&mut self, kind: u8, body: &[u8], now: Instant) -> Option<Finished> {
        let catalog = self.catalog;
        let lookup = |sql: &str| catalog.and_then(|catalog| catalog.lookup(sql));
        let mut body = Body(body);
        match (kind, self.pending.front_mut()) {
            (b'1', Some(Pending::Parse(..))) => {
                self.pending.pop_front();
            }
            (b't', Some(Pending::Describe(Some(name)))) => {
                let count = body.i16().unwrap_or(0).max(0) as usize;
                let types = (0..count).map_while(|_| body.u32()).collect();
                if let Some(prepared) = self.statements.get_mut(name.as_str()) {
                    prepared.types = types;
                }
            }
            (b'T' | b'n', Some(Pending::Describe(_))) => {
                self.pending.pop_front();
            }
            (b'D', Some(Pending::Execute(running) | Pending::Simple(running))) => {
                running.rows += 1;
            }
            (b'C' | b'I', Some(Pending::Simple(running))) => {
                running.tag = body.cstr().map(str::to_string);
            }
            (b'C' | b'I' | b's', Some(Pending::Execute(running))) => {
                running.tag = body.cstr().map(str::to_string);
                return self.finish_front(now);
            }
            (b'E', Some(front)) => {
                let error = server_error(&mut body);
                return match front {
                    // The rest of the batch will not run; all that follows is ReadyForQuery.
                    Pending::Simple(running) if !running.reported => {
                        let mut failed = self::running(
                            running.sql.clone(),
                            running.named,
                            Vec::new(),
                            running.started,
                        );
                        failed.error = Some(error);
                        running.reported = true;
                        failed.finish(now)
                    }
                    Pending::Execute(running) => {
                        running.error = Some(error);
                        self.finish_front(now)
                    }
                    // A statement that failed to prepare, such as one naming a missing table.
                    Pending::Parse(sql, started) => {
                        let mut failed = running(sql.clone(), lookup(sql), Vec::new(), *started);
                        failed.error = Some(error);
                        self.pending.pop_front();
                        failed.finish(now)
                    }
                    Pending::Simple(_) | Pending::Describe(_) | Pending::Sync => None,
                };
            }
            (b'Z', Some(Pending::Simple(_))) => return self.finish_front(now),
            (b'Z', Some(_)) => {
                // After an error the server skipped everything up to the Sync: drop it all.
                while let Some(pending) = self.pending.pop_front() {
                    if matches!(pending, Pending::Sync) {
                        break;
                    }
                }
            }
            _ => {}
        }
        None
    }

    fn finish_front(&mut self, now: Instant) -> Option<Finished> {
        match self.pending.pop_front()? {
            Pending::Execute(running) | Pending::Simple(running) => running.finish(now),
            _ => None,
        }
    }
}

fn running(
    sql: Arc<str>,
    named: Option<&'static Named>,
    params: Vec<Param>,
    started: Instant,
) -> Running {
    Running {
        sql,
        named,
        params,
        started,
        rows: 0,
        tag: None,
        error: None,
        unnamed: false,
        reported: false,
    }
}

/// An `ErrorResponse` as "message (SQLSTATE code)".
fn server_error(body: &mut Body<'_>) -> String {
    let (mut message, mut code) = ("", "");
    while let Some(field) = body.u8().filter(|&field| field != 0) {
        let value = body.cstr().unwrap_or_default();
        match field {
            b'M' => message = value,
            b'C' => code = value,
            _ => {}
        }
    }
    format!("{message} (SQLSTATE {code})")
}

/// What a command tag (`SELECT 3`, `INSERT 0 5`, `COPY 100`, `BEGIN`) says, given the rows the
/// statement returned.
fn outcome_of(tag: &str, rows: u64) -> Outcome {
    let command = tag.split(' ').next().unwrap_or_default();
    let count = tag.rsplit(' ').next().and_then(|n| n.parse::<u64>().ok());
    match (command, count) {
        ("SELECT" | "FETCH", _) => Outcome::Rows(rows),
        _ if rows > 0 => Outcome::Rows(rows),
        ("INSERT" | "UPDATE" | "DELETE" | "MERGE" | "COPY" | "MOVE", Some(count)) => {
            Outcome::Affected(count)
        }
        _ => Outcome::Done,
    }
}

#[cfg(test)]
mod tests;
