//! The help texts of `bamdb ingest`: `-h` gives the short form, `--help`
//! the whole input format (the only place besides the README where a user
//! sees it; keep both true to src/model/json.rs and to `groups.rs`).

/// After the options, with `-h`.
pub const AFTER_HELP: &str = "\
Input: one JSON object per line, with \"op\" one of begin, update, end, continue,
reference, relate, flush, clear (see --help for every field). A group (the lines
up to {\"op\":\"flush\"} or the end of input) is committed whole or not at all.
stdout: one {\"committed\":LSN,\"events\":N} per durable commit. stderr: errors and
a final summary line.

Exit codes:
  0  every group was committed
  1  some groups were rejected (named on stderr), standard output was closed
     before the end, or (--strict) the bus quarantined frames of this run
  2  usage error, or the store could not be used (locked, damaged, I/O)";

/// After the options, with `--help`.
pub const AFTER_LONG_HELP: &str = "\
INPUT FORMAT
One JSON object per line, UTF-8 (a byte order mark at the start of the input is
ignored; lines may end in \\n or \\r\\n; blank lines are skipped; a line may be at
most 2 MiB + 64 KiB). Every event op has \"activity\" (a deployed activity name),
\"id\" (the instance id, or a continuation token) and an optional \"ts\": an RFC
3339 time such as \"2026-11-22T10:00:00Z\" or \"2026-11-22T12:00:00.5+02:00\"
(absent or null: the time the line is read). A missing field, a field that does
not belong to the op, an unknown op or a duplicate key makes the line bad.

  {\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\",\"ts\":\"2026-11-22T10:00:00Z\"}
      The instance begins.
  {\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\",\"data\":{\"Customer\":\"Contoso\",\"Amount\":125.5}}
      Sets items: \"data\" maps item names to a string, a number or true/false
      (null, arrays and objects are refused). Text items take strings, int
      items integers, float items numbers, bool items true/false, timestamp
      items RFC 3339 strings; any other pairing is quarantined by the bus.
  {\"op\":\"end\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\"}
      The instance (or the continuation named by \"id\") ends.
  {\"op\":\"continue\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\",\"token\":\"SHIP-1\"}
      Enables a continuation: events sent with \"id\":\"SHIP-1\" belong to PO-1,
      which completes once every part has ended.
  {\"op\":\"reference\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\",\"type\":\"DocumentUrl\",\"name\":\"invoice\",\"data\":\"https://...\",\"long_data\":\"...\"}
      Attaches a reference; \"long_data\" is optional (up to 1 MiB), \"data\" is
      at most 1 KiB.
  {\"op\":\"relate\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\",\"related_activity\":\"Shipment\",\"related_id\":\"SH-9\"}
      Relates another activity instance to this one.
  {\"op\":\"flush\"}
      Ends the group: its events are committed as one frame.
  {\"op\":\"flush\",\"seq\":42}
      The same, numbered 42 for this producer (--producer): the store imports
      at most one group per (producer, seq), so sending the input again after
      a crash does not count it twice. Number the groups in increasing order;
      one at or below the highest imported is skipped as a duplicate (the
      summary and `bamdb stats` count them).
  {\"op\":\"clear\"}
      Drops the group so far: nothing of it is written.

GROUPS
A group is the lines up to a flush, a clear or the end of input; with
--threshold N a group also ends after its Nth event line (bad lines do not
count), so each group is still one commit and a bad line rejects only its
batch of N. A group is all or nothing: if one of its lines is bad (not JSON,
not UTF-8, too long, a wrong field, a value over a limit), or it holds more
than fits in one frame (100,000 events or 16 MiB encoded: it is rejected, not
split), nothing of it is written. Each bad line is named with its reason,
then the group with its first and last lines and its bad lines; ingest goes
on with the next group and exits 1. Fix the lines and send the group again. With --direct a group is also rejected, with
the reasons, when it would be quarantined (undeployed activity, unknown item,
wrong type, a value over an item's max_len). At most 20 bad lines and
20 rejected groups are shown; the rest are counted.

OUTPUT
stdout: {\"committed\":LSN,\"events\":N} for each group, printed once the commit
is durable (with --direct: also imported and visible to queries). stderr: the
errors, then one summary line:
  bamdb: summary: G groups committed (E events, last LSN L), R groups rejected,
  Q frames quarantined by the bus
The summary waits for the bus to import what was committed. Buffered groups
are validated by the bus after their commit: Q counts the frames of this run
that it set aside in quarantine (see `bamdb quarantine list --store DIR`).
--quiet prints only the summary. On a terminal a progress bar is shown on
stderr once the input has taken more than a second.
If standard output is closed (`bamdb ingest ... | head -1`), ingest stops after
the commit whose receipt could not be printed and names on stderr that LSN and
the last input line committed; the rest of the input is not read.

PRODUCER ID
Events with equal timestamps are ordered by the producer id of the frame that
carries them (the greater id wins an item), then by its batch and position.
Give each source its own --producer so that such ties break the same way on
every run, whatever order the runs happen in.

Exit codes:
  0  every group was committed (and, with --strict, none was quarantined)
  1  some groups were rejected (named on stderr), standard output was closed
     before the end of input, or (--strict) the bus quarantined frames of
     this run
  2  usage error, or the store could not be used (locked, damaged, I/O);
     nothing is acknowledged after the error";
