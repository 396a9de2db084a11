//! Drafts people write from the team template: leakcollect-owned blocks inside them
//! (`blocks`), the recorded parameters (`params`), and safe updates on disk (`write`).

pub mod blocks;
pub mod facts;
pub mod params;
pub mod place;
pub mod session;
pub mod template;
pub mod write;

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DraftError {
    #[error("{path}: not UTF-8 text (byte {offset}); leakcollect only edits UTF-8 drafts")]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{path}, line {line}: {detail}")]
    Malformed {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error(
        "{path}: the {id} block was edited by hand since leakcollect wrote it; move your text outside the block, or use --force to overwrite it\n{diff}"
    )]
    EditedBlock {
        path: PathBuf,
        id: String,
        diff: String,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} already exists (use --force to replace it)")]
    Exists { path: PathBuf },
    #[error("another leakcollect is updating drafts in {dir}; gave up after {seconds}s")]
    Locked { dir: PathBuf, seconds: u64 },
    #[error("cannot create the folder {dir} for the draft: {source}")]
    CreateFolder {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lock {dir}: {source}")]
    Lock {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: no recorded parameters and no {flag} given (run `leakcollect init` or pass {flag})"
    )]
    MissingParam { path: PathBuf, flag: &'static str },
    #[error(
        "{path} does not exist{link}: create the draft first with `leakcollect init {path} --service NAME --from TIME`"
    )]
    Missing { path: PathBuf, link: String },
    #[error(
        "{path} is {kind}: a draft must be a regular file (or a symbolic link to one), since it is read, updated and replaced"
    )]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
}

impl DraftError {
    /// 2 for what the user must give (a parameter, a draft made by `init`, `--force` over
    /// an existing draft), else 5: the draft could not be read or updated.
    pub fn code(&self) -> i32 {
        match self {
            DraftError::MissingParam { .. }
            | DraftError::Missing { .. }
            | DraftError::Exists { .. } => crate::exit::USAGE,
            _ => crate::exit::OUTPUT,
        }
    }
}
