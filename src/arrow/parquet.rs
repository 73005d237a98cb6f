//! Parquet files in and out (feature `parquet`).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::ChunkReader;

use super::columns::DEFAULT_SOURCE;
use super::read::{RecordColumns, arrow_error};
use super::write::{ToRecordBatch, read_feature_table_from};
use crate::features::FeatureTable;
use crate::records::HistoryBuilder;
use crate::{Error, Result};

/// Rows decoded at a time when reading: memory stays bounded by a batch
/// (and the row group's compressed pages), whatever the file's size.
pub const PARQUET_BATCH_ROWS: usize = 64 * 1024;

/// Rows per row group when writing (the Parquet crate's default, 1 Mi rows).
pub const PARQUET_ROW_GROUP_ROWS: usize = 1024 * 1024;

fn parquet_error(source: &str, e: ParquetError) -> Error {
    match e {
        ParquetError::ArrowError(_) | ParquetError::External(_) => {
            Error::io(source, std::io::Error::other(e.to_string()))
        }
        e => Error::io(
            source,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        ),
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path.display().to_string(), e))
}

impl HistoryBuilder {
    /// Reads records from a Parquet file (an open `File`, or bytes in
    /// memory), row group by row group in batches of
    /// [`PARQUET_BATCH_ROWS`] rows, decoding only the columns the spec
    /// reads; the spec's type says which records the file holds, as for
    /// [`read_arrow`](Self::read_arrow). Returns the number of rows read.
    ///
    /// Codecs: uncompressed, Snappy and LZ4 are built in. Files compressed
    /// with zstd, gzip or brotli need the `parquet` crate's feature of that
    /// codec enabled in your own `Cargo.toml` (zstd builds C code):
    /// `parquet = { version = "59.3", default-features = false, features = ["zstd"] }`.
    ///
    /// # Errors
    ///
    /// As [`read_arrow`](Self::read_arrow), and
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if the file is not Parquet,
    /// is damaged or uses a codec that is not enabled.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::arrow::{OrderColumns, write_parquet};
    /// use churnwise::records::{HistoryBuilder, UnknownCustomers};
    /// # let batch = churnwise::doc_support::orders_batch(&["customer_id", "date", "amount"])?;
    ///
    /// let mut bytes = Vec::new();
    /// write_parquet(&batch, &mut bytes)?;
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// assert_eq!(b.read_parquet(bytes::Bytes::from(bytes), &OrderColumns::new())?, 3);
    /// assert_eq!(b.build()?.0.order_count(), 3);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn read_parquet<C, R>(&mut self, file: R, spec: &C) -> Result<usize>
    where
        C: RecordColumns,
        R: ChunkReader + 'static,
    {
        let source = spec.source().unwrap_or(DEFAULT_SOURCE);
        let err = |e| parquet_error(source, e);
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(err)?;
        let columns = spec.projection(builder.schema(), source)?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), columns);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(PARQUET_BATCH_ROWS)
            .build()
            .map_err(err)?;
        let batches = reader.map(|batch| batch.map_err(|e| arrow_error(source, e)));
        spec.read_decoded(self, batches, source)
    }

    /// [`read_parquet`](Self::read_parquet) from a file by path; errors
    /// name the file unless the spec sets a source name.
    ///
    /// # Errors
    ///
    /// As `read_parquet`, and [`ErrorKind::Io`](crate::ErrorKind::Io) if
    /// the file cannot be opened.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::arrow::{OrderColumns, write_parquet_path};
    /// use churnwise::records::{HistoryBuilder, UnknownCustomers};
    /// # let batch = churnwise::doc_support::orders_batch(&["customer_id", "date", "amount"])?;
    ///
    /// let path = std::env::temp_dir().join(format!("churnwise-doc-orders-{}.parquet", std::process::id()));
    /// write_parquet_path(&batch, &path)?;
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// assert_eq!(b.read_parquet_path(&path, &OrderColumns::new())?, 3);
    /// # std::fs::remove_file(&path).map_err(|e| e.to_string())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_parquet_path<C: RecordColumns>(
        &mut self,
        path: impl AsRef<Path>,
        spec: &C,
    ) -> Result<usize> {
        let path = path.as_ref();
        let spec = spec.or_source(path.display().to_string());
        self.read_parquet(open(path)?, &spec)
    }
}

/// Writes `value` (a feature table, profiles, alerts, a plan, or a batch)
/// as a Parquet file with Snappy compression and row groups of
/// [`PARQUET_ROW_GROUP_ROWS`] rows, the schema as documented in the
/// [module docs](crate::arrow#schemas), and its metadata (the as-of time)
/// kept.
///
/// # Errors
///
/// [`ErrorKind::Io`](crate::ErrorKind::Io) if writing fails.
///
/// # Example
///
/// ```
/// use churnwise::arrow::{read_feature_table_parquet, write_parquet};
/// # let (_, table) = churnwise::doc_support::table(100, 1, 6)?;
///
/// let mut bytes = Vec::new();
/// write_parquet(&table, &mut bytes)?;
/// assert_eq!(read_feature_table_parquet(bytes::Bytes::from(bytes))?, table);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn write_parquet<T, W>(value: &T, writer: W) -> Result<()>
where
    T: ToRecordBatch + ?Sized,
    W: Write + Send,
{
    write_named(value, writer, "<parquet writer>")
}

fn write_named<T, W>(value: &T, writer: W, name: &str) -> Result<()>
where
    T: ToRecordBatch + ?Sized,
    W: Write + Send,
{
    let batch = value.to_record_batch()?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
        .build();
    let err = |e| parquet_error(name, e);
    let mut w = ArrowWriter::try_new(writer, batch.schema(), Some(props)).map_err(err)?;
    w.write(&batch).map_err(err)?;
    w.close().map_err(err)?;
    Ok(())
}

/// [`write_parquet`] to a file by path (created or truncated).
///
/// # Errors
///
/// [`ErrorKind::Io`](crate::ErrorKind::Io) naming the file if it cannot
/// be created or written.
pub fn write_parquet_path<T>(value: &T, path: impl AsRef<Path>) -> Result<()>
where
    T: ToRecordBatch + ?Sized,
{
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = File::create(path).map_err(|e| Error::io(name.clone(), e))?;
    write_named(value, std::io::BufWriter::new(file), &name)
}

/// Reads a [`FeatureTable`] from a Parquet file written by
/// [`write_parquet`] (or of the shape [`read_feature_table`](super::read_feature_table) reads).
///
/// # Errors
///
/// As [`read_feature_table`](super::read_feature_table), and
/// [`ErrorKind::Io`](crate::ErrorKind::Io) if the file cannot be read.
pub fn read_feature_table_parquet<R: ChunkReader + 'static>(file: R) -> Result<FeatureTable> {
    read_table_named(file, "<parquet reader>")
}

/// [`read_feature_table_parquet`] from a file by path.
///
/// # Errors
///
/// As `read_feature_table_parquet`, naming the file.
pub fn read_feature_table_parquet_path(path: impl AsRef<Path>) -> Result<FeatureTable> {
    let path = path.as_ref();
    read_table_named(open(path)?, &path.display().to_string())
}

fn read_table_named<R: ChunkReader + 'static>(file: R, name: &str) -> Result<FeatureTable> {
    let err = |e| parquet_error(name, e);
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(err)?;
    // The file's schema carries the metadata (the as-of time); batches do not.
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(PARQUET_BATCH_ROWS)
        .build()
        .map_err(err)?;
    let batches = reader
        .map(|b| b.and_then(|b| b.with_schema(schema.clone())))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| arrow_error(name, e))?;
    read_feature_table_from(name, &batches)
}
