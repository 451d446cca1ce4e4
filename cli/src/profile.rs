//! What `sala` remembers between runs: the identity each server gave it, and the name last used.
//!
//! One file, `perfil.json`, in the user's configuration folder (`directories`: on Linux
//! `$XDG_CONFIG_HOME/sala` or `~/.config/sala`), or in `SALA_CONFIG_DIR`. It holds private
//! tokens ([`protocol::Credentials::token`]), so it is written readable by its owner only, and
//! replaced whole (written beside, then renamed) so that two `sala` at once never leave half a
//! file.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
};

use protocol::Credentials;
use serde::{Deserialize, Serialize};

/// Overrides where the profile lives (tests, several people on one account).
pub const CONFIG_DIR_VARIABLE: &str = "SALA_CONFIG_DIR";
const FILE_NAME: &str = "perfil.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The name last chosen (`--name`, or `/nombre` in the full-screen client).
    #[serde(default)]
    pub name: Option<String>,
    /// Each server's identity for this user, by the server's base URL: a token is only good at
    /// the server (or cluster) that signed it.
    #[serde(default)]
    pub identities: BTreeMap<String, Credentials>,
}

/// Where the profile is kept; `None` when the system names no configuration folder (then
/// `sala` is somebody new each run, and says so once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFile {
    dir: Option<PathBuf>,
}

impl ProfileFile {
    pub fn locate() -> Self {
        let dir = match std::env::var_os(CONFIG_DIR_VARIABLE) {
            Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
            _ => directories::ProjectDirs::from("", "", "sala")
                .map(|dirs| dirs.config_dir().to_owned()),
        };
        Self { dir }
    }

    pub fn at(dir: &Path) -> Self {
        Self {
            dir: Some(dir.to_owned()),
        }
    }

    pub fn path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.join(FILE_NAME))
    }

    /// The saved profile; an absent or unreadable one is empty (a damaged file costs the
    /// identity, never the run).
    pub fn load(&self) -> Profile {
        self.path()
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Changes the saved profile with `change` (on top of what is saved now, which another
    /// `sala` may have changed meanwhile).
    pub fn update(&self, change: impl FnOnce(&mut Profile)) -> std::io::Result<()> {
        let (Some(dir), Some(path)) = (&self.dir, self.path()) else {
            return Ok(());
        };
        let mut profile = self.load();
        change(&mut profile);
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile_in(dir)?;
        file.1.write_all(&serde_json::to_vec_pretty(&profile)?)?;
        file.1.sync_all()?;
        std::fs::rename(&file.0, path)
    }
}

/// A new file in `dir` that only its owner may read.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let path = dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
    match options.open(&path) {
        Ok(file) => Ok((path, file)),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            // Left by a `sala` of the same pid that died mid-write.
            std::fs::remove_file(&path)?;
            Ok((path.clone(), options.open(&path)?))
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_identity_is_loaded_again_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let file = ProfileFile::at(dir.path());
        assert_eq!(file.load(), Profile::default());
        let ana = Credentials {
            person: "p".into(),
            token: "t".into(),
        };
        file.update(|profile| {
            profile
                .identities
                .insert("http://127.0.0.1:3000".into(), ana.clone());
        })
        .unwrap();
        file.update(|profile| profile.name = Some("Ana".into()))
            .unwrap();
        let loaded = file.load();
        assert_eq!(loaded.identities["http://127.0.0.1:3000"], ana);
        assert_eq!(loaded.name.as_deref(), Some("Ana"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
        }
    }

    #[test]
    fn a_damaged_profile_is_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        assert_eq!(ProfileFile::at(dir.path()).load(), Profile::default());
    }
}
