//! What the monitor says of each node.

use crate::Error;

/// One node as the monitor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    /// `node1`, `node2`.
    pub name: String,
    pub port: u16,
    /// The state its keeper last reported (`primary`, `secondary`, `wait_primary`, …).
    pub reported: String,
    /// The state the monitor assigned it.
    pub assigned: String,
}

impl NodeState {
    pub(crate) fn is(&self, state: &str) -> bool {
        self.reported == state && self.assigned == state
    }
}

/// One line of the monitor's node table: `name|port|reported|assigned`.
pub(crate) fn parse(line: &str) -> Result<NodeState, Error> {
    let fields: Vec<&str> = line.split('|').collect();
    let bad = || Error::Formation(format!("the monitor answered {line:?}"));
    let [name, port, reported, assigned] = fields.as_slice() else {
        return Err(bad());
    };
    Ok(NodeState {
        name: name.to_string(),
        port: port.parse().map_err(|_| bad())?,
        reported: reported.to_string(),
        assigned: assigned.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_of_the_node_table_reads_as_a_state() {
        let state = parse("node2|6702|wait_primary|primary").unwrap();
        assert_eq!(state.name, "node2");
        assert_eq!(state.port, 6702);
        assert!(!state.is("primary"));
        assert!(parse("node2|port|x|y").is_err());
        assert!(parse("node2|6702|primary").is_err());
    }
}
