//! The command line: `sala [--url URL] [--name NAME] [--room ROOM] [send … | tail …]`.

use clap::{Parser, Subcommand};

use crate::{failure::EXIT_CODES_HELP, profile::ProfileFile};

/// The server `sala` talks to unless told otherwise: the chat run on this machine.
pub const DEFAULT_URL: &str = "http://127.0.0.1:3000";

#[derive(Debug, Parser)]
#[command(
    name = "sala",
    version,
    about = "La sala de chat desde una terminal y desde scripts.",
    long_about = "La sala de chat desde una terminal y desde scripts.\n\n\
        Sin orden, en una terminal: la sala a pantalla completa (Intro envía, Alt+Intro añade \
        una línea; /sala NOMBRE, /nombre NOMBRE, /salas, /salir).\n\
        `sala send` envía mensajes; `sala tail` escribe los de una sala, uno por línea.\n\n\
        La identidad que da el servidor se guarda en la carpeta de configuración del usuario \
        (o en SALA_CONFIG_DIR): quien ejecuta `sala` dos veces es una sola persona en la sala.",
    after_help = EXIT_CODES_HELP
)]
pub struct Args {
    /// Dirección del servidor de chat.
    #[arg(long, env = "SALA_URL", default_value = DEFAULT_URL, global = true)]
    pub url: String,
    /// Tu nombre en la sala (1–32 caracteres). Sin él: el último que usaste, o «Anónimo».
    #[arg(long, env = "SALA_NAME", global = true)]
    pub name: Option<String>,
    /// La sala (letras minúsculas, cifras, «-» y «_»).
    #[arg(long, env = "SALA_ROOM", default_value = protocol::DEFAULT_ROOM, global = true)]
    pub room: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Envía un mensaje (o uno por línea de la entrada estándar) y termina cuando el servidor
    /// lo ha guardado: escribe su id, y sale con 0; si no, con el código del motivo.
    Send(Send),
    /// Escribe los mensajes de la sala, uno por línea: primero el historial, después los que
    /// lleguen. Sobrevive a los reinicios del servidor sin perder ni repetir ninguno.
    Tail(Tail),
}

#[derive(Debug, clap::Args)]
pub struct Send {
    /// El texto del mensaje.
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub text: Option<String>,
    /// Envía cada línea no vacía de la entrada estándar como un mensaje, en orden.
    #[arg(long)]
    pub stdin: bool,
}

#[derive(Debug, clap::Args)]
pub struct Tail {
    /// Empieza después del mensaje con este id (0: todo el historial). Sin él: los últimos
    /// mensajes de la sala (una página de historial).
    #[arg(long)]
    pub since: Option<i64>,
    /// Un objeto JSON por mensaje (`text`, `id`, `user`, `person`, `room`, `at`), para bots
    /// y tuberías.
    #[arg(long)]
    pub json: bool,
}

/// What `sala` was asked to do.
pub enum Mode<'a> {
    Send(&'a Send),
    Tail(&'a Tail),
    Interactive,
}

/// Where and as whom: what every mode needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The server's base URL, without a trailing `/`.
    pub url: String,
    pub room: String,
    /// The name asked for on the command line, if any.
    pub name: Option<String>,
    pub profile: ProfileFile,
}

impl Args {
    pub fn mode(&self) -> Mode<'_> {
        match &self.command {
            Some(Command::Send(send)) => Mode::Send(send),
            Some(Command::Tail(tail)) => Mode::Tail(tail),
            None => Mode::Interactive,
        }
    }

    pub fn settings(&self) -> Settings {
        Settings {
            url: self.url.trim_end_matches('/').to_owned(),
            room: self.room.clone(),
            name: self.name.clone(),
            profile: ProfileFile::locate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn send_takes_a_text_or_stdin_not_both() {
        assert!(Args::try_parse_from(["sala", "send", "hola"]).is_ok());
        assert!(Args::try_parse_from(["sala", "send", "--stdin"]).is_ok());
        assert!(Args::try_parse_from(["sala", "send"]).is_err());
        assert!(Args::try_parse_from(["sala", "send", "--stdin", "hola"]).is_err());
    }

    #[test]
    fn global_flags_go_before_or_after_the_command() {
        let args = Args::try_parse_from(["sala", "tail", "--room", "rust", "--json"]).unwrap();
        assert_eq!(args.room, "rust");
        let args = Args::try_parse_from(["sala", "--url", "http://h:1/", "tail"]).unwrap();
        assert_eq!(args.settings().url, "http://h:1");
    }
}
