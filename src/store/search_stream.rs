//! [`SearchStream`]: a search's rows one at a time, read from one
//! snapshot a page at a time, so that a long result is never held whole.

use crate::error::StoreError;
use crate::query::run::{self, Scan, Snapshot};
use crate::query::{Cursor, Field, Row, Search};

/// Rows read per page of a stream: a few megabytes of instances at a
/// time, and few enough pages that re-judging the files' order columns
/// for each costs little beside reading the records.
const PAGE_ROWS: usize = 16_384;

/// The rows of a search, in its order, from one consistent snapshot of
/// the store (see [`Store::search_stream`](super::Store::search_stream)).
///
/// It reads 16,384 rows at a time (see [`SearchStream::page_rows`]), each page after the last one's
/// position, so memory stays bounded however many rows there are, while
/// every page sees the same instances: the snapshot holds the import files
/// it was taken with (and the instances then held in memory) until the
/// stream is dropped. A search ordered first by `id` or `status`, which
/// the files' columns cannot judge, reads its rows in one page, and so does
/// the rest of one whose page had to read some file's selected records
/// whole (a first key with too many distinct texts to project, or a file
/// holding old versions of amended instances), or more rows tied with the
/// page's last first key than a page holds (a long run of one value, or
/// of unset ones).
pub struct SearchStream {
    snapshot: Snapshot,
    /// The search of the next page (its cursor, offset and limit move on
    /// page by page).
    search: Search,
    /// Rows still to return under the caller's limit; `None` for all.
    remaining: Option<usize>,
    /// Whether the search can read page by page (see above).
    paged: bool,
    /// Rows per page.
    page_rows: usize,
    rows: std::vec::IntoIter<Row>,
    done: bool,
    /// Where the rows after the caller's limit start, once it is reached.
    more: Option<Cursor>,
    /// Set by [`SearchStream::unordered`]: rows in storage order.
    scan: Option<Scan>,
}

impl SearchStream {
    pub(super) fn new(snapshot: Snapshot, search: Search) -> SearchStream {
        let paged = !matches!(search.order().first().0, Field::Id | Field::Status);
        SearchStream {
            snapshot,
            remaining: search.limit,
            search,
            paged,
            page_rows: PAGE_ROWS,
            rows: Vec::new().into_iter(),
            done: false,
            more: None,
            scan: None,
        }
    }

    /// Returns the rows in storage order instead of the search's order:
    /// the instances held in memory, then the import files' one file after
    /// another, [`SearchStream::page_rows`] at a time. No order key is
    /// judged and no page re-reads the files' order columns, so a whole
    /// activity streams at the cost of decoding its records once (what
    /// `bamdb export` reads). The search's order keys and cursor are
    /// ignored; its offset and limit count rows in this order, and
    /// [`SearchStream::next_page`] stays `None`. Set it before the first
    /// row is read.
    pub fn unordered(mut self) -> SearchStream {
        self.scan = Some(Scan::new());
        self
    }

    /// Splits an [`SearchStream::unordered`] stream into `n` streams (at
    /// least 1) that together return its rows, each once, from its one
    /// snapshot: the instances held in memory and every `n`th import file
    /// go to each, so `n` threads can decode records at once. Gives the
    /// stream back (`Err`) when it is not unordered, has an offset or a
    /// limit (which count rows across all of them), or was read from.
    pub fn split(self, n: usize) -> Result<Vec<SearchStream>, Box<SearchStream>> {
        let untouched = self.scan.is_some()
            && self.search.offset == 0
            && self.remaining.is_none()
            && self.rows.len() == 0
            && !self.done;
        if !untouched {
            return Err(Box::new(self));
        }
        let SearchStream {
            snapshot,
            search,
            page_rows,
            ..
        } = self;
        Ok(snapshot
            .split(n)
            .into_iter()
            .map(|part| {
                SearchStream::new(part, search.clone())
                    .page_rows(page_rows)
                    .unordered()
            })
            .collect())
    }

    /// Reads `rows` rows per page instead of 16,384 (at least 1): fewer
    /// hold less in memory at a time, more re-judge the files' order
    /// columns less often. Set it before the first row is read.
    pub fn page_rows(mut self, rows: usize) -> SearchStream {
        self.page_rows = rows.max(1);
        self
    }

    /// Once the stream has ended at the search's limit with rows left
    /// after it: the cursor that starts the next page (set it as
    /// [`Search::after`] of the same search). `None` before the end, and
    /// when no row was left.
    pub fn next_page(&self) -> Option<&Cursor> {
        self.more.as_ref()
    }

    /// Reads the next chunk in storage order.
    fn fetch_unordered(&mut self) -> Result<(), StoreError> {
        let Some(scan) = self.scan.as_mut() else {
            return Ok(());
        };
        let chunk = match self.remaining {
            Some(0) => {
                self.done = true;
                return Ok(());
            }
            Some(r) => r.min(self.page_rows).saturating_add(self.search.offset),
            None => self.page_rows,
        };
        let mut instances = scan.next_chunk(&mut self.snapshot, &self.search, chunk)?;
        if instances.is_empty() {
            self.done = true;
            return Ok(());
        }
        let skip = self.search.offset.min(instances.len());
        instances.drain(..skip);
        self.search.offset -= skip;
        if let Some(r) = &mut self.remaining {
            instances.truncate(*r);
            *r -= instances.len();
        }
        let columns: Option<Vec<Field>> = self
            .search
            .columns
            .as_ref()
            .map(|cols| cols.iter().map(|c| Field::new(c)).collect());
        self.rows = instances
            .into_iter()
            .map(|inst| Row::project(inst, columns.as_deref()))
            .collect::<Vec<_>>()
            .into_iter();
        Ok(())
    }

    /// Reads the next page.
    fn fetch(&mut self) -> Result<(), StoreError> {
        if self.scan.is_some() {
            return self.fetch_unordered();
        }
        self.search.limit = match (self.paged, self.remaining) {
            (_, Some(0)) => {
                self.done = true;
                return Ok(());
            }
            (true, Some(r)) => Some(r.min(self.page_rows)),
            (true, None) => Some(self.page_rows),
            (false, r) => r,
        };
        let paged = self.paged;
        let (page, read_whole) = run::search_reporting(&self.snapshot, &self.search)?;
        // A page that had to read some file's selected records whole
        // would read them again for each page: read the rest at once.
        if read_whole {
            self.paged = false;
        }
        self.search.offset = 0;
        if let Some(r) = &mut self.remaining {
            *r = r.saturating_sub(page.rows.len());
        }
        match page.next {
            Some(cursor) if self.remaining == Some(0) || !paged => {
                self.more = Some(cursor);
                self.done = true;
            }
            Some(cursor) => self.search.after = Some(cursor),
            None => self.done = true,
        }
        self.rows = page.rows.into_iter();
        Ok(())
    }
}

impl Iterator for SearchStream {
    type Item = Result<Row, StoreError>;

    fn next(&mut self) -> Option<Result<Row, StoreError>> {
        loop {
            if let Some(row) = self.rows.next() {
                return Some(Ok(row));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.fetch() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}
