// This file was generated with `cornucopia`. Do not modify.

#[derive(Debug)]
pub struct AddItemsParams<
    T1: crate::StringSql,
    T2: crate::ArraySql<Item = T1>,
    T3: crate::ArraySql<Item = crate::types::Priority>,
> {
    pub list_id: i32,
    pub titles: T2,
    pub priorities: T3,
}
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: i32,
    pub title: String,
    pub priority: crate::types::Priority,
    pub done: bool,
}
pub struct ItemBorrowed<'a> {
    pub id: i32,
    pub title: &'a str,
    pub priority: crate::types::Priority,
    pub done: bool,
}
impl<'a> From<ItemBorrowed<'a>> for Item {
    fn from(
        ItemBorrowed {
            id,
            title,
            priority,
            done,
        }: ItemBorrowed<'a>,
    ) -> Self {
        Self {
            id,
            title: title.into(),
            priority,
            done,
        }
    }
}
#[derive(Debug, Clone, PartialEq, Copy)]
pub struct CountItems {
    pub open: i64,
    pub done: i64,
}
use crate::client::async_::GenericClient;
use futures::{self, StreamExt, TryStreamExt};
pub struct I32Query<'c, 'a, 's, C: GenericClient, T, const N: usize> {
    client: &'c C,
    params: [&'a (dyn postgres_types::ToSql + Sync); N],
    query: &'static str,
    cached: Option<&'s tokio_postgres::Statement>,
    extractor: fn(&tokio_postgres::Row) -> Result<i32, tokio_postgres::Error>,
    mapper: fn(i32) -> T,
}
impl<'c, 'a, 's, C, T: 'c, const N: usize> I32Query<'c, 'a, 's, C, T, N>
where
    C: GenericClient,
{
    pub fn map<R>(self, mapper: fn(i32) -> R) -> I32Query<'c, 'a, 's, C, R, N> {
        I32Query {
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
pub struct ItemQuery<'c, 'a, 's, C: GenericClient, T, const N: usize> {
    client: &'c C,
    params: [&'a (dyn postgres_types::ToSql + Sync); N],
    query: &'static str,
    cached: Option<&'s tokio_postgres::Statement>,
    extractor: fn(&tokio_postgres::Row) -> Result<ItemBorrowed, tokio_postgres::Error>,
    mapper: fn(ItemBorrowed) -> T,
}
impl<'c, 'a, 's, C, T: 'c, const N: usize> ItemQuery<'c, 'a, 's, C, T, N>
where
    C: GenericClient,
{
    pub fn map<R>(self, mapper: fn(ItemBorrowed) -> R) -> ItemQuery<'c, 'a, 's, C, R, N> {
        ItemQuery {
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
pub struct CountItemsQuery<'c, 'a, 's, C: GenericClient, T, const N: usize> {
    client: &'c C,
    params: [&'a (dyn postgres_types::ToSql + Sync); N],
    query: &'static str,
    cached: Option<&'s tokio_postgres::Statement>,
    extractor: fn(&tokio_postgres::Row) -> Result<CountItems, tokio_postgres::Error>,
    mapper: fn(CountItems) -> T,
}
impl<'c, 'a, 's, C, T: 'c, const N: usize> CountItemsQuery<'c, 'a, 's, C, T, N>
where
    C: GenericClient,
{
    pub fn map<R>(self, mapper: fn(CountItems) -> R) -> CountItemsQuery<'c, 'a, 's, C, R, N> {
        CountItemsQuery {
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
pub struct AddItemsStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn add_items() -> AddItemsStmt {
    AddItemsStmt(
        "INSERT INTO item (list_id, title, priority) SELECT $1, title, priority FROM unnest($2::text[], $3::priority[]) WITH ORDINALITY AS t (title, priority, position) ORDER BY position RETURNING id",
        None,
    )
}
impl AddItemsStmt {
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
        T2: crate::ArraySql<Item = T1>,
        T3: crate::ArraySql<Item = crate::types::Priority>,
    >(
        &'s self,
        client: &'c C,
        list_id: &'a i32,
        titles: &'a T2,
        priorities: &'a T3,
    ) -> I32Query<'c, 'a, 's, C, i32, 3> {
        I32Query {
            client,
            params: [list_id, titles, priorities],
            query: self.0,
            cached: self.1.as_ref(),
            extractor: |row| Ok(row.try_get(0)?),
            mapper: |it| it,
        }
    }
}
impl<
    'c,
    'a,
    's,
    C: GenericClient,
    T1: crate::StringSql,
    T2: crate::ArraySql<Item = T1>,
    T3: crate::ArraySql<Item = crate::types::Priority>,
>
    crate::client::async_::Params<
        'c,
        'a,
        's,
        AddItemsParams<T1, T2, T3>,
        I32Query<'c, 'a, 's, C, i32, 3>,
        C,
    > for AddItemsStmt
{
    fn params(
        &'s self,
        client: &'c C,
        params: &'a AddItemsParams<T1, T2, T3>,
    ) -> I32Query<'c, 'a, 's, C, i32, 3> {
        self.bind(client, &params.list_id, &params.titles, &params.priorities)
    }
}
pub struct OpenItemsStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn open_items() -> OpenItemsStmt {
    OpenItemsStmt(
        "SELECT id, title, priority, done FROM item WHERE list_id = $1 AND NOT done ORDER BY priority DESC, id",
        None,
    )
}
impl OpenItemsStmt {
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
        list_id: &'a i32,
    ) -> ItemQuery<'c, 'a, 's, C, Item, 1> {
        ItemQuery {
            client,
            params: [list_id],
            query: self.0,
            cached: self.1.as_ref(),
            extractor: |row: &tokio_postgres::Row| -> Result<ItemBorrowed, tokio_postgres::Error> {
                Ok(ItemBorrowed {
                    id: row.try_get(0)?,
                    title: row.try_get(1)?,
                    priority: row.try_get(2)?,
                    done: row.try_get(3)?,
                })
            },
            mapper: |it| Item::from(it),
        }
    }
}
pub struct MarkDoneStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn mark_done() -> MarkDoneStmt {
    MarkDoneStmt(
        "UPDATE item SET done = true WHERE id = $1 AND NOT done",
        None,
    )
}
impl MarkDoneStmt {
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
        id: &'a i32,
    ) -> Result<u64, tokio_postgres::Error> {
        client.execute(self.0, &[id]).await
    }
}
pub struct CountItemsStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn count_items() -> CountItemsStmt {
    CountItemsStmt(
        "SELECT count(*) FILTER (WHERE NOT done) AS open, count(*) FILTER (WHERE done) AS done FROM item WHERE list_id = $1",
        None,
    )
}
impl CountItemsStmt {
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
        list_id: &'a i32,
    ) -> CountItemsQuery<'c, 'a, 's, C, CountItems, 1> {
        CountItemsQuery {
            client,
            params: [list_id],
            query: self.0,
            cached: self.1.as_ref(),
            extractor: |row: &tokio_postgres::Row| -> Result<CountItems, tokio_postgres::Error> {
                Ok(CountItems {
                    open: row.try_get(0)?,
                    done: row.try_get(1)?,
                })
            },
            mapper: |it| CountItems::from(it),
        }
    }
}
