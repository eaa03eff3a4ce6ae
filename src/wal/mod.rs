//! The message box: an fsync-committed write-ahead-log segment directory.
