//! Everything that can stop `sala`: a one-line message for people and an exit code for scripts.

use protocol::Rejection;

/// Why `sala` stopped. Its display is the one line printed after `sala: `.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("no se puede conectar con {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("el servidor rechazó la conexión: {0}")]
    Refused(String),
    /// The server refused a message ([`protocol::Ack::Rejected`]).
    #[error("{message} ({code})", code = code_of(*reason))]
    Rejected { reason: Rejection, message: String },
    /// A message whose frame the server would cut the connection off for
    /// ([`protocol::DEFAULT_MAX_FRAME_BYTES`]): refused before it is sent.
    #[error("el mensaje ocupa {bytes} bytes y el servidor no admite más de {limit} por trama (too_long)")]
    FrameTooLong { bytes: usize, limit: usize },
    #[error("el servidor no confirmó el mensaje (se intentó {attempts} veces): puede que no se haya guardado")]
    NoAck { attempts: u32 },
    #[error("se perdió la conexión con el servidor")]
    Lost,
    #[error("no se pudo leer el historial: {0}")]
    History(String),
    #[error("no hay una terminal: usa `sala send` o `sala tail` (ver `sala --help`)")]
    NoTerminal,
    #[error("entrada/salida: {0}")]
    Io(#[from] std::io::Error),
}

/// The exit codes, as `sala --help` lists them.
pub const EXIT_CODES_HELP: &str = "Códigos de salida:
  0  hecho (send: el servidor guardó cada mensaje)
  1  otro error (terminal, historial, salida)
  2  uso incorrecto (argumentos; sin terminal y sin orden)
  3  el servidor no responde
  4  el servidor rechazó la conexión (nombre, sala, demasiadas conexiones…)
  5  mensaje o trama demasiado largos
  6  demasiado rápido
  7  mensaje rechazado por otro motivo (vacío, caracteres no permitidos…)
  8  el servidor no pudo guardar el mensaje
  9  sin confirmación: la conexión se perdió y no volvió a tiempo";

impl Failure {
    /// This failure's exit code ([`EXIT_CODES_HELP`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::History(_) | Failure::Io(_) => 1,
            Failure::NoTerminal => 2,
            Failure::Unreachable { .. } => 3,
            Failure::Refused(_) => 4,
            Failure::FrameTooLong { .. }
            | Failure::Rejected {
                reason: Rejection::TooLong,
                ..
            } => 5,
            Failure::Rejected {
                reason: Rejection::TooFast,
                ..
            } => 6,
            Failure::Rejected {
                reason: Rejection::Unavailable,
                ..
            } => 8,
            Failure::Rejected { .. } => 7,
            Failure::NoAck { .. } | Failure::Lost => 9,
        }
    }

    /// Whether sending the same message again (with the same client offset) may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Failure::NoAck { .. } | Failure::Lost)
    }
}

/// A refusal's stable code, as it is on the wire (`too_fast`…).
fn code_of(reason: Rejection) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|code| code.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_their_wire_code() {
        let failure = Failure::Rejected {
            reason: Rejection::TooFast,
            message: Rejection::TooFast.to_string(),
        };
        assert_eq!(
            failure.to_string(),
            "Vas demasiado rápido: espera un momento. (too_fast)"
        );
        assert_eq!(failure.exit_code(), 6);
    }

    #[test]
    fn every_code_is_in_the_help() {
        let failures = [
            Failure::Unreachable {
                url: "u".into(),
                reason: "r".into(),
            },
            Failure::Refused("r".into()),
            Failure::FrameTooLong { bytes: 1, limit: 0 },
            Failure::Rejected {
                reason: Rejection::Empty,
                message: String::new(),
            },
            Failure::Rejected {
                reason: Rejection::Unavailable,
                message: String::new(),
            },
            Failure::NoAck { attempts: 1 },
            Failure::NoTerminal,
            Failure::History("h".into()),
        ];
        for failure in failures {
            let code = failure.exit_code();
            assert!(
                EXIT_CODES_HELP.contains(&format!("\n  {code}  ")),
                "{failure:?} exits with {code}, which the help does not list"
            );
        }
    }
}
