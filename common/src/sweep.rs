//! What a periodic sweep returns: pages of resources found, each with its
//! judgement still to run. The sweep never delivers anything itself;
//! [`run`](crate::run) drives it, one page at a time, and owns the
//! deadline, de-duplication, batching and delivery.

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use aws_smithy_async::future::pagination_stream::PaginationStream;

use crate::error::Error;
use crate::evaluation::Verdict;

/// A judgement not yet run: `Ok(None)` when the resource turned out to be
/// gone since it was listed (nothing is reported for it).
pub type Judging<'a> = Pin<Box<dyn Future<Output = Result<Option<Verdict>, Error>> + Send + 'a>>;

/// One resource a sweep found.
pub struct Found<'a> {
    pub resource_type: &'static str,
    pub resource_id: String,
    /// Run by the driver, only when there is time left and the resource
    /// was not reported yet in this invocation.
    pub verdict: Judging<'a>,
}

impl<'a> Found<'a> {
    /// A resource whose verdict `judging` will tell.
    pub fn new(
        resource_type: &'static str,
        resource_id: impl Into<String>,
        judging: impl Future<Output = Result<Option<Verdict>, Error>> + Send + 'a,
    ) -> Self {
        Found {
            resource_type,
            resource_id: resource_id.into(),
            verdict: Box::pin(judging),
        }
    }
}

/// A listing read a page at a time.
#[async_trait]
pub trait Pages<T: Send>: Send {
    /// The next page; `None` when the listing is done.
    async fn next_page(&mut self) -> Result<Option<Vec<T>>, Error>;
}

#[async_trait]
impl<T: Send, P: Pages<T> + ?Sized> Pages<T> for Box<P> {
    async fn next_page(&mut self) -> Result<Option<Vec<T>>, Error> {
        (**self).next_page().await
    }
}

/// A listing behind a box.
pub type BoxPages<'a, T> = Box<dyn Pages<T> + 'a>;

/// What [`Rule::sweep`](crate::Rule::sweep) returns.
pub type Sweep<'a> = BoxPages<'a, Found<'a>>;

/// The pages of an SDK paginator, each turned into values by `read`
/// (which also maps the SDK's error).
pub struct Paged<I, F> {
    pages: PaginationStream<I>,
    read: F,
}

/// Reads an SDK paginator's pages with `read`.
pub fn paged<I, T, F>(pages: PaginationStream<I>, read: F) -> Paged<I, F>
where
    F: FnMut(I) -> Result<Vec<T>, Error>,
{
    Paged { pages, read }
}

#[async_trait]
impl<I, T, F> Pages<T> for Paged<I, F>
where
    I: Send,
    T: Send,
    F: FnMut(I) -> Result<Vec<T>, Error> + Send,
{
    async fn next_page(&mut self) -> Result<Option<Vec<T>>, Error> {
        match self.pages.next().await {
            None => Ok(None),
            Some(page) => (self.read)(page).map(Some),
        }
    }
}

/// A listing already read whole: one page (none when empty).
pub struct OnePage<T>(Option<Vec<T>>);

/// `items` as a listing of one page.
pub fn one_page<T>(items: Vec<T>) -> OnePage<T> {
    OnePage(Some(items))
}

#[async_trait]
impl<T: Send> Pages<T> for OnePage<T> {
    async fn next_page(&mut self) -> Result<Option<Vec<T>>, Error> {
        Ok(self.0.take().filter(|items| !items.is_empty()))
    }
}

/// A listing of one page, read when first asked for (an API without
/// pagination).
pub struct LaterPage<'a, T>(Option<PageReading<'a, T>>);

/// A page being read.
type PageReading<'a, T> = Pin<Box<dyn Future<Output = Result<Vec<T>, Error>> + Send + 'a>>;

/// The page `read` gives, as a listing (none when empty).
pub fn later_page<'a, T>(read: impl Future<Output = Result<Vec<T>, Error>> + Send + 'a) -> LaterPage<'a, T> {
    LaterPage(Some(Box::pin(read)))
}

#[async_trait]
impl<T: Send> Pages<T> for LaterPage<'_, T> {
    async fn next_page(&mut self) -> Result<Option<Vec<T>>, Error> {
        match self.0.take() {
            Some(read) => Ok(Some(read.await?).filter(|items| !items.is_empty())),
            None => Ok(None),
        }
    }
}

/// Several listings, one after the other.
pub struct Chain<'a, T> {
    parts: std::collections::VecDeque<BoxPages<'a, T>>,
}

/// The listings of `parts`, in order.
pub fn chain<'a, T>(parts: Vec<BoxPages<'a, T>>) -> Chain<'a, T> {
    Chain { parts: parts.into() }
}

#[async_trait]
impl<T: Send> Pages<T> for Chain<'_, T> {
    async fn next_page(&mut self) -> Result<Option<Vec<T>>, Error> {
        while let Some(part) = self.parts.front_mut() {
            match part.next_page().await? {
                Some(page) => return Ok(Some(page)),
                None => {
                    self.parts.pop_front();
                }
            }
        }
        Ok(None)
    }
}

/// A listing whose values are turned into others by `f`.
pub struct Mapped<P, F, T> {
    pages: P,
    f: F,
    from: std::marker::PhantomData<fn(T)>,
}

/// `pages` with each value turned by `f`.
pub fn mapped<P, F, T, U>(pages: P, f: F) -> Mapped<P, F, T>
where
    P: Pages<T>,
    T: Send,
    F: FnMut(T) -> U,
{
    Mapped {
        pages,
        f,
        from: std::marker::PhantomData,
    }
}

#[async_trait]
impl<T, U, P, F> Pages<U> for Mapped<P, F, T>
where
    T: Send,
    U: Send,
    P: Pages<T>,
    F: FnMut(T) -> U + Send,
{
    async fn next_page(&mut self) -> Result<Option<Vec<U>>, Error> {
        Ok(self
            .pages
            .next_page()
            .await?
            .map(|page| page.into_iter().map(&mut self.f).collect()))
    }
}
