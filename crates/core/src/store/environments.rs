//! Environments: which moa-server the app talks to, and who the person is there.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Result, Store, ts};

/// Which moa-server an environment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentKind {
    /// The server and the testbed inside the app.
    Sandbox,
    /// An institution's moa-server, by its URL.
    Server,
}

impl EnvironmentKind {
    /// The name stored and shown in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Server => "server",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Sandbox, Self::Server]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// An environment as stored: which moa-server, and who the person is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentRecord {
    /// Row id.
    pub id: i64,
    /// Which server.
    pub kind: EnvironmentKind,
    /// Its base URL.
    pub base_url: String,
    /// The registered person's name.
    pub user_name: Option<String>,
}

impl Store {
    /// Saves an environment's details, keeping the registered person when the center stays
    /// the same. Returns its row id.
    pub fn save_environment(&self, env: &EnvironmentRecord, now: DateTime<Utc>) -> Result<i64> {
        let conn = self.lock();
        // Another server knows other people and accounts: what was cached of the last one
        // leaves the dashboard.
        let previous: Option<(i64, String)> = conn
            .query_row(
                "SELECT id, base_url FROM environments WHERE kind = ?1",
                [env.kind.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, url)) = &previous
            && *url != env.base_url
            && env.kind == EnvironmentKind::Server
        {
            conn.execute(
                "UPDATE accounts SET state = 'cancelled', updated_at = ?2 WHERE environment_id = ?1",
                params![id, ts(&now)],
            )?;
            conn.execute(
                "UPDATE environments SET user_name = NULL WHERE id = ?1",
                [id],
            )?;
        }
        conn.execute(
            "INSERT INTO environments (kind, base_url, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (kind) DO UPDATE SET base_url = excluded.base_url,
                updated_at = excluded.updated_at",
            params![env.kind.as_str(), env.base_url, ts(&now)],
        )?;
        Ok(conn.query_row(
            "SELECT id FROM environments WHERE kind = ?1",
            [env.kind.as_str()],
            |r| r.get(0),
        )?)
    }

    /// The environment of `kind`, if saved.
    pub fn environment(&self, kind: EnvironmentKind) -> Result<Option<EnvironmentRecord>> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT id, base_url, user_name FROM environments WHERE kind = ?1",
                [kind.as_str()],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(id, base_url, user_name)| EnvironmentRecord {
            id,
            kind,
            base_url,
            user_name,
        }))
    }

    /// Records who registered in environment `id`.
    pub fn set_person(&self, environment_id: i64, user_name: Option<&str>) -> Result<()> {
        self.lock().execute(
            "UPDATE environments SET user_name = ?2 WHERE id = ?1",
            params![environment_id, user_name],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::*;

    #[test]
    fn another_servers_url_takes_the_last_servers_accounts_off_the_dashboard() {
        let store = Store::in_memory().unwrap();
        let server = |url: &str| EnvironmentRecord {
            id: 0,
            kind: EnvironmentKind::Server,
            base_url: url.into(),
            user_name: None,
        };
        let id = store
            .save_environment(&server("https://a.example"), now())
            .unwrap();
        store.set_person(id, Some("홍길동")).unwrap();
        store.upsert_account(id, &account("1"), now()).unwrap();
        let same = store
            .save_environment(&server("https://a.example"), now())
            .unwrap();
        assert_eq!((same, store.accounts(id).unwrap().len()), (id, 1));
        store
            .save_environment(&server("https://b.example"), now())
            .unwrap();
        assert!(store.accounts(id).unwrap().is_empty());
        let env = store.environment(EnvironmentKind::Server).unwrap().unwrap();
        assert_eq!(
            (env.base_url.as_str(), env.user_name),
            ("https://b.example", None)
        );
    }
}
