//! Human-readable output, in the spirit of the notebook's printed cells.

use std::fmt::{self, Display, Formatter};

use bottles::codegen::queries::messages::Message;
use bottles::{ResetReport, SeedReport};

use crate::cells::{MessagesPreview, QueryReport, UserPreview};

pub fn reset_line(report: &ResetReport) -> String {
    let tables: Vec<String> = report.tables.iter().map(|t| format!("{t:?}")).collect();
    let version = match &report.version {
        Some(version) => format!(", recorded at migration {version}"),
        None => String::new(),
    };
    format!(
        "reset: dropped and created tables {} from schema.sql{version}",
        tables.join(", ")
    )
}

pub fn seed_line(report: &SeedReport) -> String {
    format!(
        "seed: inserted {} users and {} messages",
        report.users, report.messages
    )
}

impl Display for QueryReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "users: {}", self.user_count)?;
        writeln!(f, "messages: {}", self.message_count)?;

        writeln!(f, "\nusers with their messages (joined load):")?;
        if self.users_with_messages.is_empty() {
            writeln!(f, "  (no users)")?;
        }
        for user in &self.users_with_messages {
            writeln!(f, "  {}", UserLine(user))?;
        }
        if let Some(first) = self.users_with_messages.first() {
            writeln!(f, "first user: {}", Text(&first.name))?;
            write_contents(f, &first.first_messages)?;
        }

        let name = Text(&self.name);
        writeln!(f, "\nuser {name:?} (chained filter, select-in load):")?;
        if self.users_named.is_empty() {
            writeln!(f, "  no such user")?;
        }
        for user in &self.users_named {
            writeln!(f, "  {}", UserLine(user))?;
            write_contents(f, &user.first_messages)?;
        }

        let MessagesPreview {
            count,
            first_messages,
        } = &self.messages_from_user;
        writeln!(
            f,
            "\nmessages from user {name:?} (Message.afrom_user): {count}"
        )?;
        for message in first_messages {
            writeln!(f, "  {}", MessageLine(message))?;
        }
        Ok(())
    }
}

fn write_contents(f: &mut Formatter<'_>, messages: &[Message]) -> fmt::Result {
    messages
        .iter()
        .try_for_each(|message| writeln!(f, "    {}", Text(&message.content)))
}

struct UserLine<'a>(&'a UserPreview);

impl Display for UserLine<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let UserPreview {
            id,
            name,
            message_count,
            ..
        } = self.0;
        let noun = if *message_count == 1 {
            "message"
        } else {
            "messages"
        };
        write!(
            f,
            "User(id={id}, name={:?}): {message_count} {noun}",
            Text(name)
        )
    }
}

struct MessageLine<'a>(&'a Message);

impl Display for MessageLine<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Message {
            id,
            content,
            user_id,
        } = self.0;
        write!(
            f,
            "Message(user_id={user_id}, id={id}, content={:?})",
            Text(content)
        )
    }
}

/// Text from the database, with control characters escaped so that stored data cannot drive
/// the terminal. `{:?}` also quotes it.
struct Text<'a>(&'a str);

impl Display for Text<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?
            } else {
                write!(f, "{c}")?
            }
        }
        Ok(())
    }
}

/// Quoted the way Python's `repr` quotes: single quotes, or double quotes when the text holds
/// a single quote and no double quote.
impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0.contains('\'') && !self.0.contains('"') {
            write!(f, "\"{self}\"")
        } else {
            write!(f, "'{}'", self.to_string().replace('\'', "\\'"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn text_is_quoted_like_python_and_cannot_drive_the_terminal() {
        assert_eq!(format!("{:?}", Text("Eli")), "'Eli'");
        assert_eq!(format!("{:?}", Text("O'Brien")), "\"O'Brien\"");
        assert_eq!(format!("{:?}", Text(r#"a'b"c"#)), r#"'a\'b"c'"#);
        assert_eq!(format!("{}", Text("red\u{1b}[31m\n")), "red\\u{1b}[31m\\n");
    }
}
