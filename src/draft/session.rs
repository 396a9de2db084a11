//! One draft session, for `attach` and `validate --draft` alike: lock the draft's folder,
//! read the draft (UTF-8, its byte-order mark kept aside), check its blocks, take its
//! recorded parameters, apply fresh blocks and write it back (atomically, with `.bak`)
//! only when something changed. The lock is held from the read to the write.

use super::DraftError;
use super::blocks::{self, Segment};
use super::params::Params;
use super::place::{self, Applied, ApplyError, Edits};
use super::write::{self, FolderLock};
use crate::output::OutputError;
use crate::render::blocks::BlockId;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The id of the block holding the recorded parameters.
pub const PARAMS: BlockId = BlockId::Params;

/// A draft opened for an update.
pub struct Session {
    pub path: PathBuf,
    _lock: FolderLock,
    bom: bool,
    /// The draft as read (without its byte-order mark).
    pub text: String,
}

/// The error for a draft whose blocks do not parse.
pub fn malformed(path: &Path, error: blocks::ParseError) -> DraftError {
    DraftError::Malformed {
        path: path.to_path_buf(),
        line: error.line,
        detail: error.detail,
    }
}

/// The parameters recorded in a draft's params block, if it has one.
pub fn recorded_params(text: &str) -> Option<Params> {
    block_content(text, PARAMS).and_then(|c| Params::from_block_content(&c))
}

/// The content of the block `id` in `text`, if the draft has it.
pub fn block_content(text: &str, id: BlockId) -> Option<String> {
    blocks::parse(text).ok()?.into_iter().find_map(|s| match s {
        Segment::Block(b) if b.id == id.name() => Some(b.content),
        _ => None,
    })
}

impl Session {
    /// Locks the draft's folder (waiting up to `wait`), reads the draft and checks that
    /// its blocks parse. A missing draft says to run `init` first.
    pub fn open(path: &Path, wait: Duration) -> Result<Session, DraftError> {
        let lock = write::lock_existing(path, wait)?;
        let (bom, text) = write::read(path)?;
        blocks::parse(&text).map_err(|e| malformed(path, e))?;
        Ok(Session {
            path: path.to_path_buf(),
            _lock: lock,
            bom,
            text,
        })
    }

    /// The parameters recorded in the draft (none: all unset).
    pub fn recorded(&self) -> Params {
        recorded_params(&self.text).unwrap_or_default()
    }

    /// The content of one of the draft's blocks.
    pub fn block(&self, id: BlockId) -> Option<String> {
        block_content(&self.text, id)
    }

    /// `wanted` applied to the draft, in memory.
    pub fn apply(
        &self,
        wanted: &[(String, Option<String>)],
        edits: Edits,
    ) -> Result<Applied, DraftError> {
        place::apply(&self.text, wanted, edits).map_err(|e| match e {
            ApplyError::Parse(p) => malformed(&self.path, p),
            ApplyError::Edited { id, diff } => DraftError::EditedBlock {
                path: self.path.clone(),
                id,
                diff,
            },
        })
    }

    /// Whether `applied` changes the draft.
    pub fn changes(&self, applied: &Applied) -> bool {
        applied.text != self.text
    }

    /// The unified diff from the draft to `applied`.
    pub fn diff(&self, applied: &Applied) -> String {
        place::unified_diff(&self.text, &applied.text, &self.path.display().to_string())
    }

    /// Writes `applied` when it changes the draft (keeping `.bak` with `backup`).
    pub fn write(&self, applied: &Applied, backup: bool) -> Result<bool, OutputError> {
        if !self.changes(applied) {
            return Ok(false);
        }
        write::write(&self.path, self.bom, &applied.text, backup)?;
        Ok(true)
    }
}
