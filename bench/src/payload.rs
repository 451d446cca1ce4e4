//! The text every bench message carries: who sent it, its number, and when (microseconds since
//! the run began, on the generator's one clock), padded to the payload size.
//! `SSSS:NNNNNNNN:TTTTTTTTTTTT:xxxx…`

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload {
    pub sender: u32,
    pub seq: u32,
    pub micros: u64,
}

impl Payload {
    /// At least the header (28 bytes); padded with `x` up to `bytes`.
    pub fn render(&self, bytes: usize) -> String {
        let mut text = format!("{:04}:{:08}:{:012}:", self.sender, self.seq, self.micros);
        if text.len() < bytes {
            text.extend(std::iter::repeat_n('x', bytes - text.len()));
        }
        text
    }

    pub fn parse(text: &str) -> Option<Self> {
        let mut fields = text.splitn(4, ':');
        let sender = fields.next()?.parse().ok()?;
        let seq = fields.next()?.parse().ok()?;
        let micros = fields.next()?.parse().ok()?;
        fields.next()?;
        Some(Self {
            sender,
            seq,
            micros,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_reads_back_and_has_its_size() {
        let payload = Payload {
            sender: 3,
            seq: 1_234,
            micros: 987_654_321,
        };
        let text = payload.render(128);
        assert_eq!(text.len(), 128);
        assert_eq!(Payload::parse(&text), Some(payload));
        assert_eq!(Payload::parse("hola"), None);
    }
}
