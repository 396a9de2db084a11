//! The output layer: the only place text is made from the models. One module per model —
//! `evidence` (the report and its blocks), `validation` (text, Markdown; `textfile` for
//! node_exporter), `scan` (table, Markdown), `heap` — plus `json` for every model, `chart`
//! (SVG), the block table (`blocks`) and one handlebars registry (`registry`). Numbers
//! are worded by `crate::units`, one formatter per quantity. Nothing here decides: each
//! renderer formats fields of the models.

pub mod blocks;
pub mod chart;
pub mod dashboard;
pub mod evidence;
pub mod gclog;
pub mod heap;
pub mod json;
pub mod registry;
pub mod scan;
pub mod textfile;
pub mod validation;
