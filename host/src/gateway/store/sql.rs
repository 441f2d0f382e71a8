//! The store's SQL, written once and run on either engine: every query of
//! the store goes through [`Sql`], so SQLite and PostgreSQL apply the same
//! rules with the same statements.
//!
//! The statements are written in the subset both engines read the same way:
//! `?N` parameters (rewritten to `$N` for PostgreSQL), integers, text and
//! null only, `CAST` where PostgreSQL must be told a parameter's type, and
//! `CASE` instead of the engines' different two-argument `max`. The one
//! statement that cannot be shared (finding a character in a string) asks
//! [`Sql::dialect`].

use std::collections::HashMap;

use super::StoreError;

/// Which engine a statement runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a statement: the store's columns hold integers, text
/// and null, and a few statements take a flag. A null keeps its type, which
/// PostgreSQL needs to know.
#[derive(Debug, Clone, Copy)]
pub(super) enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Bool(bool),
}

impl From<i64> for Arg<'_> {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl From<u32> for Arg<'_> {
    fn from(value: u32) -> Self {
        Self::Int(Some(i64::from(value)))
    }
}

impl From<bool> for Arg<'_> {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(value: &'a str) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(value: &'a String) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Self::Text(value)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(value: &'a Option<String>) -> Self {
        Self::Text(value.as_deref())
    }
}

/// The arguments of a statement, each converted to an [`Arg`].
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$($crate::gateway::store::sql::Arg::from($arg)),*][..]
    };
}
pub(super) use args;

/// One value read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// One row of a result, its columns in the order selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Row(pub(super) Vec<Cell>);

impl Row {
    fn cell(&self, index: usize) -> Result<&Cell, StoreError> {
        self.0
            .get(index)
            .ok_or_else(|| StoreError::Column(format!("no column {index}")))
    }

    /// The integer in column `index`.
    pub(super) fn int(&self, index: usize) -> Result<i64, StoreError> {
        self.opt_int(index)?
            .ok_or_else(|| StoreError::Column(format!("column {index} is null")))
    }

    /// The integer or null in column `index`.
    pub(super) fn opt_int(&self, index: usize) -> Result<Option<i64>, StoreError> {
        match self.cell(index)? {
            Cell::Null => Ok(None),
            Cell::Int(value) => Ok(Some(*value)),
            Cell::Text(_) => Err(StoreError::Column(format!(
                "column {index} is text, not an integer"
            ))),
        }
    }

    /// The text in column `index`.
    pub(super) fn text(&self, index: usize) -> Result<String, StoreError> {
        self.opt_text(index)?
            .ok_or_else(|| StoreError::Column(format!("column {index} is null")))
    }

    /// The text or null in column `index`.
    pub(super) fn opt_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        match self.cell(index)? {
            Cell::Null => Ok(None),
            Cell::Text(value) => Ok(Some(value.clone())),
            Cell::Int(_) => Err(StoreError::Column(format!(
                "column {index} is an integer, not text"
            ))),
        }
    }
}

/// A connection or transaction of either engine.
pub(super) trait Sql {
    /// The engine's dialect, for the statements that differ.
    fn dialect(&self) -> Dialect;

    /// Runs a statement; returns how many rows it changed.
    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError>;

    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StoreError>;

    /// Runs a query; returns its first row, if any.
    fn first(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// Runs a query that must answer one row.
    fn one(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Row, StoreError> {
        self.first(sql, args)?
            .ok_or_else(|| StoreError::Column("the query answered no row".to_owned()))
    }

    /// Whether a query answers any row.
    fn exists(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<bool, StoreError> {
        Ok(self.first(sql, args)?.is_some())
    }
}

// --- SQLite ---------------------------------------------------------------

/// A SQLite connection (or the transaction open on it).
pub(super) struct Lite<'c>(pub(super) &'c rusqlite::Connection);

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match *self {
            Self::Int(Some(value)) => ToSqlOutput::Owned(Value::Integer(value)),
            Self::Text(Some(value)) => ToSqlOutput::Borrowed(ValueRef::Text(value.as_bytes())),
            Self::Int(None) | Self::Text(None) => ToSqlOutput::Owned(Value::Null),
            Self::Bool(value) => ToSqlOutput::Owned(Value::Integer(i64::from(value))),
        })
    }
}

impl Sql for Lite<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError> {
        let mut statement = self.0.prepare_cached(sql)?;
        Ok(statement.execute(rusqlite::params_from_iter(args))?)
    }

    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StoreError> {
        use rusqlite::types::ValueRef;
        let mut statement = self.0.prepare_cached(sql)?;
        let width = statement.column_count();
        let mut rows = statement.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(width);
            for index in 0..width {
                cells.push(match row.get_ref(index)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(value) => Cell::Int(value),
                    ValueRef::Text(bytes) => Cell::Text(
                        std::str::from_utf8(bytes)
                            .map_err(|err| StoreError::Column(err.to_string()))?
                            .to_owned(),
                    ),
                    ValueRef::Real(_) | ValueRef::Blob(_) => {
                        return Err(StoreError::Column(format!(
                            "column {index} is neither an integer nor text"
                        )));
                    }
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }
}

// --- PostgreSQL -----------------------------------------------------------

/// A PostgreSQL client and the statements it has prepared, by their text.
pub(super) struct PgConn {
    pub(super) client: postgres::Client,
    pub(super) statements: HashMap<String, postgres::Statement>,
}

/// A PostgreSQL connection or transaction, with its connection's prepared
/// statements.
pub(super) struct Pg<'a, C: postgres::GenericClient> {
    pub(super) client: &'a mut C,
    pub(super) statements: &'a mut HashMap<String, postgres::Statement>,
}

/// `sql` with its `?N` parameters written `$N`. The store's statements hold
/// no `?` anywhere else (no string literal of theirs has one).
fn numbered(sql: &str) -> String {
    sql.replace('?', "$")
}

/// `args` as the client takes parameters.
fn params<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    args.iter()
        .map(|arg| arg as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl<C: postgres::GenericClient> Pg<'_, C> {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&numbered(sql))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl postgres::types::ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match *self {
            Self::Int(value) if *ty == Type::INT4 => {
                value.map(i32::try_from).transpose()?.to_sql(ty, out)
            }
            Self::Int(value) => value.to_sql(ty, out),
            Self::Text(value) => value.to_sql(ty, out),
            Self::Bool(value) => value.to_sql(ty, out),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        [
            Type::INT8,
            Type::INT4,
            Type::TEXT,
            Type::VARCHAR,
            Type::BOOL,
        ]
        .contains(ty)
    }

    postgres::types::to_sql_checked!();
}

impl<C: postgres::GenericClient> Sql for Pg<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError> {
        let statement = self.statement(sql)?;
        let changed = self.client.execute(&statement, &params(args))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StoreError> {
        use postgres::types::Type;
        let statement = self.statement(sql)?;
        let rows = self.client.query(&statement, &params(args))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(row.len());
            for (index, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let cell = if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(index)?.map(Cell::Int)
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(index)?
                        .map(|value| Cell::Int(value.into()))
                } else if *ty == Type::INT2 {
                    row.try_get::<_, Option<i16>>(index)?
                        .map(|value| Cell::Int(value.into()))
                } else if *ty == Type::BOOL {
                    row.try_get::<_, Option<bool>>(index)?
                        .map(|value| Cell::Int(value.into()))
                } else if [Type::TEXT, Type::VARCHAR, Type::NAME, Type::BPCHAR].contains(ty) {
                    row.try_get::<_, Option<String>>(index)?.map(Cell::Text)
                } else {
                    return Err(StoreError::Column(format!(
                        "column {index} is of type {ty}, neither an integer nor text"
                    )));
                };
                cells.push(cell.unwrap_or(Cell::Null));
            }
            out.push(Row(cells));
        }
        Ok(out)
    }
}
