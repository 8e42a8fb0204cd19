//! The messages of the status line: what happened, the newest last, a few dozen kept.

/// Messages kept for the status line.
pub const MESSAGES_KEPT: usize = 50;

/// A line for the status bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub is_error: bool,
}

/// The newest [`MESSAGES_KEPT`] messages, the newest last.
#[derive(Debug, Default)]
pub struct Messages {
    kept: Vec<Message>,
}

impl Messages {
    /// Add a message; the oldest goes once there are more than [`MESSAGES_KEPT`].
    pub fn push(&mut self, text: impl Into<String>, is_error: bool) {
        self.kept.push(Message {
            text: text.into(),
            is_error,
        });
        if self.kept.len() > MESSAGES_KEPT {
            self.kept.remove(0);
        }
    }

    pub fn all(&self) -> &[Message] {
        &self.kept
    }

    /// The message the status line shows.
    pub fn last(&self) -> Option<&Message> {
        self.kept.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_messages_go_and_the_newest_is_shown() {
        let mut messages = Messages::default();
        for i in 0..MESSAGES_KEPT + 3 {
            messages.push(format!("m{i}"), i % 2 == 1);
        }
        assert_eq!(messages.all().len(), MESSAGES_KEPT);
        assert_eq!(messages.all()[0].text, "m3");
        let last = messages.last().unwrap();
        assert_eq!(last.text, format!("m{}", MESSAGES_KEPT + 2));
        assert_eq!(last.is_error, (MESSAGES_KEPT + 2) % 2 == 1);
    }
}
