// This file was generated with `cornucopia`. Do not modify.

#[derive(Debug)]
pub struct InsertMessagesParams<
    T1: crate::StringSql,
    T2: crate::ArraySql<Item = T1>,
    T3: crate::ArraySql<Item = i32>,
> {
    pub contents: T2,
    pub user_ids: T3,
}
#[derive(Debug)]
pub struct MessagesFromUserAfterParams<T1: crate::StringSql> {
    pub name: T1,
    pub after_id: i32,
    pub count: i64,
}
#[derive(Debug)]
pub struct InsertMessageParams<T1: crate::StringSql> {
    pub content: T1,
    pub user_id: i32,
}
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Message {
    pub id: i32,
    pub content: String,
    pub user_id: i32,
}
pub struct MessageBorrowed<'a> {
    pub id: i32,
    pub content: &'a str,
    pub user_id: i32,
}
impl<'a> From<MessageBorrowed<'a>> for Message {
    fn from(
        MessageBorrowed {
            id,
            content,
            user_id,
        }: MessageBorrowed<'a>,
    ) -> Self {
        Self {
            id,
            content: content.into(),
            user_id,
        }
    }
}
use crate::client::async_::GenericClient;
use futures::{self, StreamExt, TryStreamExt};
pub struct I64Query<'c, 'a, 's, C: GenericClient, T, const N: usize> {
    client: &'c C,
    params: [&'a (dyn postgres_types::ToSql + Sync); N],
    query: &'static str,
    cached: Option<&'s tokio_postgres::Statement>,
    extractor: fn(&tokio_postgres::Row) -> Result<i64, tokio_postgres::Error>,
    mapper: fn(i64) -> T,
}
impl<'c, 'a, 's, C, T: 'c, const N: usize> I64Query<'c, 'a, 's, C, T, N>
where
    C: GenericClient,
{
    pub fn map<R>(self, mapper: fn(i64) -> R) -> I64Query<'c, 'a, 's, C, R, N> {
        I64Query {
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
pub struct MessageQuery<'c, 'a, 's, C: GenericClient, T, const N: usize> {
    client: &'c C,
    params: [&'a (dyn postgres_types::ToSql + Sync); N],
    query: &'static str,
    cached: Option<&'s tokio_postgres::Statement>,
    extractor: fn(&tokio_postgres::Row) -> Result<MessageBorrowed, tokio_postgres::Error>,
    mapper: fn(MessageBorrowed) -> T,
}
impl<'c, 'a, 's, C, T: 'c, const N: usize> MessageQuery<'c, 'a, 's, C, T, N>
where
    C: GenericClient,
{
    pub fn map<R>(self, mapper: fn(MessageBorrowed) -> R) -> MessageQuery<'c, 'a, 's, C, R, N> {
        MessageQuery {
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
pub struct CountMessagesStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn count_messages() -> CountMessagesStmt {
    CountMessagesStmt("SELECT count(*) AS count FROM message", None)
}
impl CountMessagesStmt {
    pub async fn prepare<'a, C: GenericClient>(
        mut self,
        client: &'a C,
    ) -> Result<Self, tokio_postgres::Error> {
        self.1 = Some(client.prepare(self.0).await?);
        Ok(self)
    }
    pub fn bind<'c, 'a, 's, C: GenericClient>(
        &'s self,
        client: &'c C,
    ) -> I64Query<'c, 'a, 's, C, i64, 0> {
        I64Query {
            client,
            params: [],
            query: self.0,
            cached: self.1.as_ref(),
            extractor: |row| Ok(row.try_get(0)?),
            mapper: |it| it,
        }
    }
}
pub struct MessagesForUsersStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn messages_for_users() -> MessagesForUsersStmt {
    MessagesForUsersStmt(
        "SELECT id, content, user_id FROM message WHERE user_id = ANY($1) ORDER BY user_id, id",
        None,
    )
}
impl MessagesForUsersStmt {
    pub async fn prepare<'a, C: GenericClient>(
        mut self,
        client: &'a C,
    ) -> Result<Self, tokio_postgres::Error> {
        self.1 = Some(client.prepare(self.0).await?);
        Ok(self)
    }
    pub fn bind<'c, 'a, 's, C: GenericClient, T1: crate::ArraySql<Item = i32>>(
        &'s self,
        client: &'c C,
        user_ids: &'a T1,
    ) -> MessageQuery<'c, 'a, 's, C, Message, 1> {
        MessageQuery {
            client,
            params: [user_ids],
            query: self.0,
            cached: self.1.as_ref(),
            extractor:
                |row: &tokio_postgres::Row| -> Result<MessageBorrowed, tokio_postgres::Error> {
                    Ok(MessageBorrowed {
                        id: row.try_get(0)?,
                        content: row.try_get(1)?,
                        user_id: row.try_get(2)?,
                    })
                },
            mapper: |it| Message::from(it),
        }
    }
}
pub struct MessagesFromUserStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn messages_from_user() -> MessagesFromUserStmt {
    MessagesFromUserStmt(
        "SELECT m.id, m.content, m.user_id FROM message AS m JOIN \"user\" AS u ON u.id = m.user_id WHERE u.name = $1 ORDER BY m.id",
        None,
    )
}
impl MessagesFromUserStmt {
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
        name: &'a T1,
    ) -> MessageQuery<'c, 'a, 's, C, Message, 1> {
        MessageQuery {
            client,
            params: [name],
            query: self.0,
            cached: self.1.as_ref(),
            extractor:
                |row: &tokio_postgres::Row| -> Result<MessageBorrowed, tokio_postgres::Error> {
                    Ok(MessageBorrowed {
                        id: row.try_get(0)?,
                        content: row.try_get(1)?,
                        user_id: row.try_get(2)?,
                    })
                },
            mapper: |it| Message::from(it),
        }
    }
}
pub struct InsertMessagesStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn insert_messages() -> InsertMessagesStmt {
    InsertMessagesStmt(
        "INSERT INTO message (content, user_id) SELECT content, user_id FROM unnest($1::text[], $2::integer[]) AS t (content, user_id)",
        None,
    )
}
impl InsertMessagesStmt {
    pub async fn prepare<'a, C: GenericClient>(
        mut self,
        client: &'a C,
    ) -> Result<Self, tokio_postgres::Error> {
        self.1 = Some(client.prepare(self.0).await?);
        Ok(self)
    }
    pub async fn bind<
        'c,
        'a,
        's,
        C: GenericClient,
        T1: crate::StringSql,
        T2: crate::ArraySql<Item = T1>,
        T3: crate::ArraySql<Item = i32>,
    >(
        &'s self,
        client: &'c C,
        contents: &'a T2,
        user_ids: &'a T3,
    ) -> Result<u64, tokio_postgres::Error> {
        client.execute(self.0, &[contents, user_ids]).await
    }
}
impl<
    'a,
    C: GenericClient + Send + Sync,
    T1: crate::StringSql,
    T2: crate::ArraySql<Item = T1>,
    T3: crate::ArraySql<Item = i32>,
>
    crate::client::async_::Params<
        'a,
        'a,
        'a,
        InsertMessagesParams<T1, T2, T3>,
        std::pin::Pin<
            Box<dyn futures::Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a>,
        >,
        C,
    > for InsertMessagesStmt
{
    fn params(
        &'a self,
        client: &'a C,
        params: &'a InsertMessagesParams<T1, T2, T3>,
    ) -> std::pin::Pin<
        Box<dyn futures::Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a>,
    > {
        Box::pin(self.bind(client, &params.contents, &params.user_ids))
    }
}
pub struct MessagesFromUserAfterStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn messages_from_user_after() -> MessagesFromUserAfterStmt {
    MessagesFromUserAfterStmt(
        "SELECT m.id, m.content, m.user_id FROM message AS m JOIN \"user\" AS u ON u.id = m.user_id WHERE u.name = $1 AND m.id > $2 ORDER BY m.id LIMIT $3",
        None,
    )
}
impl MessagesFromUserAfterStmt {
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
        name: &'a T1,
        after_id: &'a i32,
        count: &'a i64,
    ) -> MessageQuery<'c, 'a, 's, C, Message, 3> {
        MessageQuery {
            client,
            params: [name, after_id, count],
            query: self.0,
            cached: self.1.as_ref(),
            extractor:
                |row: &tokio_postgres::Row| -> Result<MessageBorrowed, tokio_postgres::Error> {
                    Ok(MessageBorrowed {
                        id: row.try_get(0)?,
                        content: row.try_get(1)?,
                        user_id: row.try_get(2)?,
                    })
                },
            mapper: |it| Message::from(it),
        }
    }
}
impl<'c, 'a, 's, C: GenericClient, T1: crate::StringSql>
    crate::client::async_::Params<
        'c,
        'a,
        's,
        MessagesFromUserAfterParams<T1>,
        MessageQuery<'c, 'a, 's, C, Message, 3>,
        C,
    > for MessagesFromUserAfterStmt
{
    fn params(
        &'s self,
        client: &'c C,
        params: &'a MessagesFromUserAfterParams<T1>,
    ) -> MessageQuery<'c, 'a, 's, C, Message, 3> {
        self.bind(client, &params.name, &params.after_id, &params.count)
    }
}
pub struct InsertMessageStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn insert_message() -> InsertMessageStmt {
    InsertMessageStmt(
        "INSERT INTO message (content, user_id) VALUES ($1, $2) RETURNING id, content, user_id",
        None,
    )
}
impl InsertMessageStmt {
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
        content: &'a T1,
        user_id: &'a i32,
    ) -> MessageQuery<'c, 'a, 's, C, Message, 2> {
        MessageQuery {
            client,
            params: [content, user_id],
            query: self.0,
            cached: self.1.as_ref(),
            extractor:
                |row: &tokio_postgres::Row| -> Result<MessageBorrowed, tokio_postgres::Error> {
                    Ok(MessageBorrowed {
                        id: row.try_get(0)?,
                        content: row.try_get(1)?,
                        user_id: row.try_get(2)?,
                    })
                },
            mapper: |it| Message::from(it),
        }
    }
}
impl<'c, 'a, 's, C: GenericClient, T1: crate::StringSql>
    crate::client::async_::Params<
        'c,
        'a,
        's,
        InsertMessageParams<T1>,
        MessageQuery<'c, 'a, 's, C, Message, 2>,
        C,
    > for InsertMessageStmt
{
    fn params(
        &'s self,
        client: &'c C,
        params: &'a InsertMessageParams<T1>,
    ) -> MessageQuery<'c, 'a, 's, C, Message, 2> {
        self.bind(client, &params.content, &params.user_id)
    }
}
