//! The one judgement of every "encrypted with a customer-managed key" rule,
//! over the resource types of the [resource layer](crate::resources): read
//! what protects the resource, then judge its key through the key
//! directory ([`judge_key`]).

use async_trait::async_trait;
use atrest_common::sweep::{chain, mapped, BoxPages};
use atrest_common::{ConfigurationItem, Error, Found, Rule, RuleContext, RuleSpec, Sweep, Verdict};

use crate::key_check::judge_key;
use crate::resources::{note_key, store_of, Listed, Protected, Protection, Read, Store};

/// An encryption rule: its spec and the stores of its resource types (one
/// per type of `spec.resource_types`, in that order).
pub struct EncryptionRule {
    spec: &'static RuleSpec,
    stores: &'static [&'static dyn Store],
}

impl EncryptionRule {
    pub const fn new(spec: &'static RuleSpec, stores: &'static [&'static dyn Store]) -> Self {
        EncryptionRule { spec, stores }
    }

    /// The stores it judges.
    pub fn stores(&self) -> &'static [&'static dyn Store] {
        self.stores
    }
}

/// Judges one resource: what protects it, then its key.
pub async fn judge(resource: &dyn Protected, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
    match resource.protection(ctx).await? {
        Protection::Settled(verdict) => Ok(verdict),
        Protection::Key { subject, key } => judge_key(ctx, &subject, &key).await,
    }
}

/// The sweep of `stores` with `judge` run on each resource listed.
pub fn sweep_stores<'a, J, F>(
    stores: &'a [&'a dyn Store],
    ctx: &'a RuleContext<'a>,
    judge: J,
) -> Result<Sweep<'a>, Error>
where
    J: Fn(&'a dyn Store, Box<dyn Protected>) -> F + Copy + Send + Sync + 'a,
    F: std::future::Future<Output = Result<Option<Verdict>, Error>> + Send + 'a,
{
    let mut parts: Vec<BoxPages<'a, Found<'a>>> = Vec::with_capacity(stores.len());
    for store in stores.iter().copied() {
        let listing = store.list(ctx)?;
        parts.push(Box::new(mapped(listing, move |listed: Listed<'a>| {
            // The id is kept only when the key inventory asks for it.
            let noted = ctx.keys.notes_uses().then(|| listed.id.clone());
            Found::new(store.resource_type(), listed.id, async move {
                match listed.resource.await? {
                    Read::Found(resource) => {
                        if let Some(id) = &noted {
                            note_key(ctx, store.resource_type(), id, &*resource);
                        }
                        judge(store, resource).await
                    }
                    Read::Gone => Ok(None),
                    Read::Unreadable(why) => Ok(Some(Verdict::non_compliant(why))),
                }
            })
        })));
    }
    Ok(Box::new(chain(parts)))
}

#[async_trait]
impl Rule for EncryptionRule {
    fn spec(&self) -> &'static RuleSpec {
        self.spec
    }

    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        let store = store_of(self.stores, &item.resource_type).ok_or_else(|| {
            Error::Unsupported(format!("rule {} reads no {} items", self.spec.id, item.resource_type))
        })?;
        let resource = store.read_item(item);
        note_key(ctx, &item.resource_type, &item.resource_id, &*resource);
        judge(&*resource, ctx).await
    }

    fn sweep<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        sweep_stores(self.stores, ctx, move |_, resource| async move {
            judge(&*resource, ctx).await.map(Some)
        })
    }
}
