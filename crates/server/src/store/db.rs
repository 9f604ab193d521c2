//! One SQL, two databases. Every query of the store is written once, with SQLite's numbered
//! parameters (`?1`), and runs on either backend: SQLite in process (one connection behind an
//! async mutex) or PostgreSQL through a connection pool, where the parameters become `$1`.
//! Values cross in a few plain shapes ([`Param`], [`Cell`]): integers, text, bytes and booleans,
//! so that both drivers agree on every column.

use std::sync::Arc;

use bytes::BytesMut;
use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};
use tokio_postgres::types::{IsNull, ToSql as PgToSql, Type, to_sql_checked};

use super::{Result, StoreError};

/// A parameter of a query.
#[derive(Debug, Clone)]
pub(crate) enum Param<'a> {
    /// An integer.
    I64(i64),
    /// An integer or NULL.
    OptI64(Option<i64>),
    /// Text.
    Text(&'a str),
    /// Text or NULL.
    OptText(Option<&'a str>),
    /// Bytes.
    Bytes(&'a [u8]),
    /// A boolean (an integer 0/1 in SQLite).
    Bool(bool),
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::I64(v)
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        Param::OptI64(v)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Param::OptText(v)
    }
}

impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Param::OptText(v.as_deref())
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(v: &'a [u8]) -> Self {
        Param::Bytes(v)
    }
}

impl From<bool> for Param<'_> {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}

/// The parameters of a query, in order: `params![a, b]`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::store::db::Param::from($value)),*][..]
    };
}
pub(crate) use params;

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::I64(v) => ToSqlOutput::from(*v),
            Param::OptI64(v) => match v {
                Some(v) => ToSqlOutput::from(*v),
                None => ToSqlOutput::from(rusqlite::types::Null),
            },
            Param::Text(v) => ToSqlOutput::from(*v),
            Param::OptText(v) => match v {
                Some(v) => ToSqlOutput::from(*v),
                None => ToSqlOutput::from(rusqlite::types::Null),
            },
            Param::Bytes(v) => ToSqlOutput::from(*v),
            Param::Bool(v) => ToSqlOutput::from(*v),
        })
    }
}

impl PgToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::I64(v) => v.to_sql(ty, out),
            Param::OptI64(v) => v.to_sql(ty, out),
            Param::Text(v) => v.to_sql(ty, out),
            Param::OptText(v) => v.to_sql(ty, out),
            Param::Bytes(v) => v.to_sql(ty, out),
            Param::Bool(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Each variant's own type decides at `to_sql`; a mismatch is an error there.
        true
    }

    to_sql_checked!();
}

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    I64(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row(Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell> {
        self.0.get(i).ok_or(StoreError::Corrupt("column"))
    }

    /// Column `i` as an integer.
    pub(crate) fn i64(&self, i: usize) -> Result<i64> {
        match self.cell(i)? {
            Cell::I64(v) => Ok(*v),
            _ => Err(StoreError::Corrupt("integer column")),
        }
    }

    /// Column `i` as an integer or NULL.
    pub(crate) fn opt_i64(&self, i: usize) -> Result<Option<i64>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            _ => self.i64(i).map(Some),
        }
    }

    /// Column `i` as text.
    pub(crate) fn text(&self, i: usize) -> Result<String> {
        match self.cell(i)? {
            Cell::Text(v) => Ok(v.clone()),
            _ => Err(StoreError::Corrupt("text column")),
        }
    }

    /// Column `i` as text or NULL.
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// Column `i` as bytes or NULL.
    pub(crate) fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Bytes(v) => Ok(Some(v.clone())),
            _ => Err(StoreError::Corrupt("bytes column")),
        }
    }

    /// Column `i` as bytes.
    pub(crate) fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        self.opt_bytes(i)?
            .ok_or(StoreError::Corrupt("bytes column"))
    }

    /// Column `i` as a boolean stored as an integer.
    pub(crate) fn flag(&self, i: usize) -> Result<bool> {
        Ok(self.i64(i)? != 0)
    }

    fn of_sqlite(row: &rusqlite::Row<'_>, columns: usize) -> rusqlite::Result<Row> {
        let mut cells = Vec::with_capacity(columns);
        for i in 0..columns {
            cells.push(match row.get_ref(i)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::I64(v),
                ValueRef::Real(v) => Cell::I64(v as i64),
                ValueRef::Text(v) => Cell::Text(String::from_utf8_lossy(v).into_owned()),
                ValueRef::Blob(v) => Cell::Bytes(v.to_vec()),
            });
        }
        Ok(Row(cells))
    }

    fn of_postgres(row: &tokio_postgres::Row) -> Result<Row> {
        let mut cells = Vec::with_capacity(row.len());
        for (i, column) in row.columns().iter().enumerate() {
            let ty = column.type_();
            let cell = if *ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)?.map(Cell::I64)
            } else if *ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)?
                    .map(|v| Cell::I64(i64::from(v)))
            } else if *ty == Type::INT2 {
                row.try_get::<_, Option<i16>>(i)?
                    .map(|v| Cell::I64(i64::from(v)))
            } else if *ty == Type::BOOL {
                row.try_get::<_, Option<bool>>(i)?
                    .map(|v| Cell::I64(i64::from(v)))
            } else if *ty == Type::BYTEA {
                row.try_get::<_, Option<Vec<u8>>>(i)?.map(Cell::Bytes)
            } else {
                row.try_get::<_, Option<String>>(i)?.map(Cell::Text)
            };
            cells.push(cell.unwrap_or(Cell::Null));
        }
        Ok(Row(cells))
    }
}

/// Where the store's data lives.
#[derive(Clone)]
pub(crate) enum Db {
    Sqlite(Arc<tokio::sync::Mutex<Connection>>),
    Postgres(deadpool_postgres::Pool),
}

/// `?1` → `$1`: SQLite's numbered parameters in PostgreSQL's spelling.
fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a text parameter holds a NUL character, which PostgreSQL's text cannot hold and
/// SQLite's can. No stored value holds one (input is checked before it is written), so a
/// statement that only looks rows up by it finds none, as it would on SQLite.
fn no_row_can_match(sql: &str, params: &[Param<'_>]) -> bool {
    let nul = params.iter().any(|p| match p {
        Param::Text(v) => v.contains('\0'),
        Param::OptText(v) => v.is_some_and(|v| v.contains('\0')),
        _ => false,
    });
    let verb = sql.trim_start().get(..6).unwrap_or("").to_ascii_uppercase();
    nul && matches!(verb.as_str(), "SELECT" | "UPDATE" | "DELETE")
}

fn pg_params<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn PgToSql + Sync)> {
    params.iter().map(|p| p as &(dyn PgToSql + Sync)).collect()
}

impl Db {
    /// Whether this is PostgreSQL: the few statements that must differ (row locks, advisory
    /// locks) ask.
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Opens a transaction: every statement until [`Tx::commit`] commits together, or none.
    pub(crate) async fn begin(&self) -> Result<Tx<'_>> {
        match self {
            Db::Sqlite(conn) => {
                let conn = conn.lock().await;
                conn.execute_batch("BEGIN IMMEDIATE")?;
                Ok(Tx::Sqlite { conn, open: true })
            }
            Db::Postgres(pool) => {
                let client = pool.get().await?;
                client.batch_execute("BEGIN").await?;
                Ok(Tx::Postgres {
                    client: Some(Box::new(client)),
                })
            }
        }
    }

    /// Runs one statement on its own; answers the rows it returns.
    pub(crate) async fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        match self {
            Db::Sqlite(conn) => sqlite_query(&*conn.lock().await, sql, params),
            Db::Postgres(_) if no_row_can_match(sql, params) => Ok(Vec::new()),
            Db::Postgres(pool) => {
                let client = pool.get().await?;
                let statement = client.prepare_cached(&postgres_sql(sql)).await?;
                let rows = client.query(&statement, &pg_params(params)).await?;
                rows.iter().map(Row::of_postgres).collect()
            }
        }
    }

    /// As [`Db::query`], for a statement that returns at most one row.
    pub(crate) async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// As [`Db::query`], for a statement that returns exactly one row.
    pub(crate) async fn query_one(&self, sql: &str, params: &[Param<'_>]) -> Result<Row> {
        self.query_opt(sql, params)
            .await?
            .ok_or(StoreError::Corrupt("missing row"))
    }

    /// Runs one statement on its own; answers how many rows it changed.
    pub(crate) async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        match self {
            Db::Sqlite(conn) => sqlite_execute(&*conn.lock().await, sql, params),
            Db::Postgres(_) if no_row_can_match(sql, params) => Ok(0),
            Db::Postgres(pool) => {
                let client = pool.get().await?;
                let statement = client.prepare_cached(&postgres_sql(sql)).await?;
                Ok(client.execute(&statement, &pg_params(params)).await?)
            }
        }
    }
}

fn sqlite_query(conn: &Connection, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
    let mut statement = conn.prepare_cached(sql)?;
    let columns = statement.column_count();
    let rows = statement.query_map(rusqlite::params_from_iter(params.iter()), |r| {
        Row::of_sqlite(r, columns)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn sqlite_execute(conn: &Connection, sql: &str, params: &[Param<'_>]) -> Result<u64> {
    let mut statement = conn.prepare_cached(sql)?;
    Ok(statement.execute(rusqlite::params_from_iter(params.iter()))? as u64)
}

/// An open transaction. Dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx<'a> {
    Sqlite {
        conn: tokio::sync::MutexGuard<'a, Connection>,
        open: bool,
    },
    Postgres {
        client: Option<Box<deadpool_postgres::Object>>,
    },
}

impl Tx<'_> {
    /// Runs one statement in the transaction; answers the rows it returns.
    pub(crate) async fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        match self {
            Tx::Sqlite { conn, .. } => sqlite_query(conn, sql, params),
            Tx::Postgres { .. } if no_row_can_match(sql, params) => Ok(Vec::new()),
            Tx::Postgres { client } => {
                let client = client.as_ref().ok_or(StoreError::Corrupt("transaction"))?;
                let statement = client.prepare_cached(&postgres_sql(sql)).await?;
                let rows = client.query(&statement, &pg_params(params)).await?;
                rows.iter().map(Row::of_postgres).collect()
            }
        }
    }

    /// As [`Tx::query`], for a statement that returns at most one row.
    pub(crate) async fn query_opt(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Option<Row>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Runs one statement in the transaction; answers how many rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        match self {
            Tx::Sqlite { conn, .. } => sqlite_execute(conn, sql, params),
            Tx::Postgres { .. } if no_row_can_match(sql, params) => Ok(0),
            Tx::Postgres { client } => {
                let client = client.as_ref().ok_or(StoreError::Corrupt("transaction"))?;
                let statement = client.prepare_cached(&postgres_sql(sql)).await?;
                Ok(client.execute(&statement, &pg_params(params)).await?)
            }
        }
    }

    /// Runs several statements without parameters (a migration).
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Tx::Sqlite { conn, .. } => conn.execute_batch(sql)?,
            Tx::Postgres { client } => {
                let client = client.as_ref().ok_or(StoreError::Corrupt("transaction"))?;
                client.batch_execute(sql).await?;
            }
        }
        Ok(())
    }

    /// Commits every statement of the transaction.
    pub(crate) async fn commit(mut self) -> Result<()> {
        match &mut self {
            Tx::Sqlite { conn, open } => {
                conn.execute_batch("COMMIT")?;
                *open = false;
            }
            Tx::Postgres { client } => {
                if let Some(c) = client.as_ref() {
                    c.batch_execute("COMMIT").await?;
                }
                // Committed: the connection goes back to the pool clean.
                drop(client.take());
            }
        }
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        match self {
            Tx::Sqlite { conn, open } => {
                if *open {
                    let _ = conn.execute_batch("ROLLBACK");
                }
            }
            Tx::Postgres { client } => {
                // Not committed: the connection leaves the pool, and closing it rolls back.
                if let Some(client) = client.take() {
                    drop(deadpool_postgres::Object::take(*client));
                }
            }
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    /// Only the SQLSTATE: a server's message may quote the values of the failing row.
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Postgres(match e.code() {
            Some(state) => format!("SQLSTATE {}", state.code()),
            None if e.is_closed() => "the connection closed".into(),
            None => "no answer from the server".into(),
        })
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            _ => StoreError::Postgres("no connection from the pool".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_are_spelled_for_postgresql() {
        assert_eq!(
            postgres_sql("SELECT a FROM t WHERE b = ?1 AND c IN (?2, ?12) AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $12) AND d = '?'"
        );
    }
}
