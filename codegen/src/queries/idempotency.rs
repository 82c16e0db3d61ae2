// This file was generated with `cornucopia`. Do not modify.

#[derive(Debug)]
pub struct StoreAnswerParams<T1: crate::StringSql, T2: crate::StringSql, T3: crate::StringSql> {
    pub key: T1,
    pub request_hash: T2,
    pub status: i16,
    pub body: T3,
}
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredAnswer {
    pub request_hash: String,
    pub status: i16,
    pub body: String,
}
pub struct StoredAnswerBorrowed<'a> {
    pub request_hash: &'a str,
    pub status: i16,
    pub body: &'a str,
}
impl<'a> From<StoredAnswerBorrowed<'a>> for StoredAnswer {
    fn from(
        StoredAnswerBorrowed {
            request_hash,
            status,
            body,
        }: StoredAnswerBorrowed<'a>,
    ) -> Self {
        Self {
            request_hash: request_hash.into(),
            status,
            body: body.into(),
        }
    }
}
use crate::client::async_::GenericClient;
use futures::{self, StreamExt, TryStreamExt};
pub struct StoredAnswerQuery<'c, 'a, 's, C: GenericClient, T, const N: usize> {
    client: &'c C,
    params: [&'a (dyn postgres_types::ToSql + Sync); N],
    query: &'static str,
    cached: Option<&'s tokio_postgres::Statement>,
    extractor: fn(&tokio_postgres::Row) -> Result<StoredAnswerBorrowed, tokio_postgres::Error>,
    mapper: fn(StoredAnswerBorrowed) -> T,
}
impl<'c, 'a, 's, C, T: 'c, const N: usize> StoredAnswerQuery<'c, 'a, 's, C, T, N>
where
    C: GenericClient,
{
    pub fn map<R>(
        self,
        mapper: fn(StoredAnswerBorrowed) -> R,
    ) -> StoredAnswerQuery<'c, 'a, 's, C, R, N> {
        StoredAnswerQuery {
            client: self.client,
            params: self.params,
            query: self.query,
            cached: self.cached,
            extractor: self.extractor,
            mapper,
        }
    }
    pub async fn one(self) -> Result<T, tokio_postgres::Error> {
        let row =
            crate::client::async_::one(self.client, self.query, &self.params, self.cached).await?;
        Ok((self.mapper)((self.extractor)(&row)?))
    }
    pub async fn all(self) -> Result<Vec<T>, tokio_postgres::Error> {
        self.iter().await?.try_collect().await
    }
    pub async fn opt(self) -> Result<Option<T>, tokio_postgres::Error> {
        let opt_row =
            crate::client::async_::opt(self.client, self.query, &self.params, self.cached).await?;
        Ok(opt_row
            .map(|row| {
                let extracted = (self.extractor)(&row)?;
                Ok((self.mapper)(extracted))
            })
            .transpose()?)
    }
    pub async fn iter(
        self,
    ) -> Result<
        impl futures::Stream<Item = Result<T, tokio_postgres::Error>> + 'c,
        tokio_postgres::Error,
    > {
        let stream = crate::client::async_::raw(
            self.client,
            self.query,
            crate::slice_iter(&self.params),
            self.cached,
        )
        .await?;
        let mapped = stream
            .map(move |res| {
                res.and_then(|row| {
                    let extracted = (self.extractor)(&row)?;
                    Ok((self.mapper)(extracted))
                })
            })
            .into_stream();
        Ok(mapped)
    }
}
pub struct StringQuery<'c, 'a, 's, C: GenericClient, T, const N: usize> {
    client: &'c C,
    params: [&'a (dyn postgres_types::ToSql + Sync); N],
    query: &'static str,
    cached: Option<&'s tokio_postgres::Statement>,
    extractor: fn(&tokio_postgres::Row) -> Result<&str, tokio_postgres::Error>,
    mapper: fn(&str) -> T,
}
impl<'c, 'a, 's, C, T: 'c, const N: usize> StringQuery<'c, 'a, 's, C, T, N>
where
    C: GenericClient,
{
    pub fn map<R>(self, mapper: fn(&str) -> R) -> StringQuery<'c, 'a, 's, C, R, N> {
        StringQuery {
            client: self.client,
            params: self.params,
            query: self.query,
            cached: self.cached,
            extractor: self.extractor,
            mapper,
        }
    }
    pub async fn one(self) -> Result<T, tokio_postgres::Error> {
        let row =
            crate::client::async_::one(self.client, self.query, &self.params, self.cached).await?;
        Ok((self.mapper)((self.extractor)(&row)?))
    }
    pub async fn all(self) -> Result<Vec<T>, tokio_postgres::Error> {
        self.iter().await?.try_collect().await
    }
    pub async fn opt(self) -> Result<Option<T>, tokio_postgres::Error> {
        let opt_row =
            crate::client::async_::opt(self.client, self.query, &self.params, self.cached).await?;
        Ok(opt_row
            .map(|row| {
                let extracted = (self.extractor)(&row)?;
                Ok((self.mapper)(extracted))
            })
            .transpose()?)
    }
    pub async fn iter(
        self,
    ) -> Result<
        impl futures::Stream<Item = Result<T, tokio_postgres::Error>> + 'c,
        tokio_postgres::Error,
    > {
        let stream = crate::client::async_::raw(
            self.client,
            self.query,
            crate::slice_iter(&self.params),
            self.cached,
        )
        .await?;
        let mapped = stream
            .map(move |res| {
                res.and_then(|row| {
                    let extracted = (self.extractor)(&row)?;
                    Ok((self.mapper)(extracted))
                })
            })
            .into_stream();
        Ok(mapped)
    }
}
pub struct StoredAnswerStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn stored_answer() -> StoredAnswerStmt {
    StoredAnswerStmt(
        "SELECT request_hash, status, body FROM idempotency_key WHERE key = $1 AND created_at > now() - interval '24 hours'",
        None,
    )
}
impl StoredAnswerStmt {
    pub async fn prepare<'a, C: GenericClient>(
        mut self,
        client: &'a C,
    ) -> Result<Self, tokio_postgres::Error> {
        self.1 = Some(client.prepare(self.0).await?);
        Ok(self)
    }
    pub fn bind<'c, 'a, 's, C: GenericClient, T1: crate::StringSql>(
        &'s self,
        client: &'c C,
        key: &'a T1,
    ) -> StoredAnswerQuery<'c, 'a, 's, C, StoredAnswer, 1> {
        StoredAnswerQuery {
            client,
            params: [key],
            query: self.0,
            cached: self.1.as_ref(),
            extractor:
                |row: &tokio_postgres::Row| -> Result<StoredAnswerBorrowed, tokio_postgres::Error> {
                    Ok(StoredAnswerBorrowed {
                        request_hash: row.try_get(0)?,
                        status: row.try_get(1)?,
                        body: row.try_get(2)?,
                    })
                },
            mapper: |it| StoredAnswer::from(it),
        }
    }
}
pub struct StoreAnswerStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn store_answer() -> StoreAnswerStmt {
    StoreAnswerStmt(
        "INSERT INTO idempotency_key (key, request_hash, status, body) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status, body = excluded.body, created_at = now() WHERE idempotency_key.created_at <= now() - interval '24 hours' RETURNING key",
        None,
    )
}
impl StoreAnswerStmt {
    pub async fn prepare<'a, C: GenericClient>(
        mut self,
        client: &'a C,
    ) -> Result<Self, tokio_postgres::Error> {
        self.1 = Some(client.prepare(self.0).await?);
        Ok(self)
    }
    pub fn bind<
        'c,
        'a,
        's,
        C: GenericClient,
        T1: crate::StringSql,
        T2: crate::StringSql,
        T3: crate::StringSql,
    >(
        &'s self,
        client: &'c C,
        key: &'a T1,
        request_hash: &'a T2,
        status: &'a i16,
        body: &'a T3,
    ) -> StringQuery<'c, 'a, 's, C, String, 4> {
        StringQuery {
            client,
            params: [key, request_hash, status, body],
            query: self.0,
            cached: self.1.as_ref(),
            extractor: |row| Ok(row.try_get(0)?),
            mapper: |it| it.into(),
        }
    }
}
impl<'c, 'a, 's, C: GenericClient, T1: crate::StringSql, T2: crate::StringSql, T3: crate::StringSql>
    crate::client::async_::Params<
        'c,
        'a,
        's,
        StoreAnswerParams<T1, T2, T3>,
        StringQuery<'c, 'a, 's, C, String, 4>,
        C,
    > for StoreAnswerStmt
{
    fn params(
        &'s self,
        client: &'c C,
        params: &'a StoreAnswerParams<T1, T2, T3>,
    ) -> StringQuery<'c, 'a, 's, C, String, 4> {
        self.bind(
            client,
            &params.key,
            &params.request_hash,
            &params.status,
            &params.body,
        )
    }
}
pub struct ForgetExpiredKeysStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn forget_expired_keys() -> ForgetExpiredKeysStmt {
    ForgetExpiredKeysStmt(
        "DELETE FROM idempotency_key WHERE key IN (SELECT key FROM idempotency_key WHERE created_at <= now() - interval '24 hours' LIMIT 16)",
        None,
    )
}
impl ForgetExpiredKeysStmt {
    pub async fn prepare<'a, C: GenericClient>(
        mut self,
        client: &'a C,
    ) -> Result<Self, tokio_postgres::Error> {
        self.1 = Some(client.prepare(self.0).await?);
        Ok(self)
    }
    pub async fn bind<'c, 'a, 's, C: GenericClient>(
        &'s self,
        client: &'c C,
    ) -> Result<u64, tokio_postgres::Error> {
        client.execute(self.0, &[]).await
    }
}
